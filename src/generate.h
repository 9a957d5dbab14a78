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

/*
 * benefit.test_code_bits: for tests only (superuser), the random bits a
 * generated code keeps (default and maximum 60).  Fewer bits make codes
 * collide, so the regeneration path can be tested.
 */
extern int	benefit_test_code_bits;

/* Rounds in a row that add no new code before generate_codes gives up. */
#define BENEFIT_MAX_FRUITLESS_ROUNDS 100

#endif							/* BENEFIT_GENERATE_H */
