/*-------------------------------------------------------------------------
 *
 * money_sql.h
 *		The error of an amount out of range, shared by the SQL wrappers of
 *		the money arithmetic (money_sql.c) and the pricing (pricing.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef BENEFIT_MONEY_SQL_H
#define BENEFIT_MONEY_SQL_H

/* after postgres.h */

extern void benefit_money_out_of_range(const char *what) pg_attribute_noreturn();

#endif							/* BENEFIT_MONEY_SQL_H */
