/*-------------------------------------------------------------------------
 *
 * pricing.h
 *		The pricing of a basket as a C call (pricing.c), shared by
 *		price_basket and hold: what a call gives, and the two entry points.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BENEFIT_PRICING_H
#define BENEFIT_PRICING_H

/* after postgres.h */
#include "utils/timestamp.h"

#include "basket.h"

/* The arguments of a pricing, as the SQL calls take them (a Datum is unused when its flag is set). */
typedef struct PriceInput
{
	Datum		lines;			/* benefit.basket_line[] */
	bool		lines_null;
	int64		contact_id;
	bool		contact_null;
	Datum		channel;		/* text: the sales channel's code */
	bool		channel_null;
	Datum		point_of_sale;	/* text */
	bool		point_of_sale_null;
	TimestampTz at;				/* the call's instant when the caller gave none */
	Datum		codes;			/* text[] as entered */
	bool		codes_null;
	Datum		promo_code;		/* text as typed */
	bool		promo_code_null;
	text	   *client_key;		/* NULL: none */
} PriceInput;

/*
 * Both run inside the caller's SPI connection and fill call (call->cxt set
 * by the caller); benefit_price_guarded adds the throttling of wrong code
 * entries: the codes of a throttled buyer are not looked at (each comes
 * back as a throttled refusal), otherwise the codes that matched nothing
 * count against the buyer.
 */
extern void benefit_price_run(const PriceInput *in, PriceCall *call);
extern void benefit_price_guarded(const PriceInput *in, PriceCall *call);

#endif							/* BENEFIT_PRICING_H */
