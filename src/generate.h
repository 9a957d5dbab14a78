/*-------------------------------------------------------------------------
 *
 * generate.h
 *		Limits and names shared by the code-generation glue and its users.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BENEFIT_GENERATE_H
#define BENEFIT_GENERATE_H

/* The most codes one call of benefit.generate_codes makes. */
#define BENEFIT_MAX_CODES_PER_BATCH 10000000

/* NOTIFY channel announcing a new batch; the payload is the batch id. */
#define BENEFIT_BATCH_CHANNEL "benefit_code_batch"


#endif							/* BENEFIT_GENERATE_H */
