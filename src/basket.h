/*-------------------------------------------------------------------------
 *
 * basket.h
 *		A basket in and out of benefit.price: the lines read from a
 *		benefit.basket_line[] and checked against the catalogue, and the
 *		result built from the pricing (basket.c).  PriceCall is what one
 *		call of benefit.price works on (pricing.c fills it).
 *
 *-------------------------------------------------------------------------
 */
#ifndef BENEFIT_BASKET_H
#define BENEFIT_BASKET_H

/* after postgres.h */
#include "access/tupdesc.h"
#include "fmgr.h"
#include "utils/timestamp.h"

#include "tariff_choice.h"

/* The pricing of one basket: everything here outlives SPI_finish (cxt). */
typedef struct PriceCall
{
	MemoryContext cxt;			/* the caller's context */
	PriceLine  *lines;
	int			nlines;
	PriceBenefit *benefits;		/* the rows of the eligibility step */
	int			nbenefits;
	int		   *ok;				/* indexes of the usable benefits, each id once */
	int			nok;
	PricePerfUsed *perf_used;	/* units used per (usable benefit, performance of the basket) */
	int			nperf_used;
	PriceCandidate *cands;		/* in the order of the choice */
	int			ncands;
	PriceRefusal *refusals;
	int			nrefusals;
	int64	   *amounts;		/* each line after its benefit */
	int64	   *parts;			/* each line's part of the promo discount */
	int64		base_total;
	int64		lines_total;
	int64		discount;
	bool		promo_applied;
	int64		promo_id;
	char	   *promo_code;
} PriceCall;

/* The types of benefit.price's result, from the function's own declaration. */
typedef struct BasketTypes
{
	TupleDesc	result;			/* (result priced_basket, uses jsonb, promo_id bigint), blessed */
	TupleDesc	basket;			/* benefit.priced_basket */
	TupleDesc	line;			/* benefit.priced_line */
	TupleDesc	refusal;		/* benefit.refusal */
	Oid			line_type;
	Oid			refusal_type;
	Oid			reason_type;	/* benefit.reason */
} BasketTypes;

extern void basket_types(FunctionCallInfo fcinfo, BasketTypes *types);
extern void basket_types_of(Oid basket_type, BasketTypes *types);
extern void basket_read_lines(Datum lines, bool lines_null, PriceCall *call);
extern void basket_check_lines(PriceCall *call);
extern void basket_line_id_arrays(const PriceLine *lines, int n, Datum *args);
extern Datum basket_result(const BasketTypes *types, const PriceCall *call);
extern Datum basket_priced(const BasketTypes *types, const PriceCall *call, const char *reason,
						   Datum order_ref, bool held, TimestampTz held_until);

#endif							/* BENEFIT_BASKET_H */
