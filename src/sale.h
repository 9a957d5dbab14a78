/*-------------------------------------------------------------------------
 *
 * sale.h
 *		The references of a runtime call (sales channel, web point of sale,
 *		contact, order reference), checked by one rule each: see sale.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BENEFIT_SALE_H
#define BENEFIT_SALE_H

/* after postgres.h */
#include "config.h"


/* What benefit_check_sale found: the channel (with its kind) and the point of sale. */
typedef struct BenefitSale
{
	int64		channel_id;
	Datum		channel_kind;	/* benefit.channel_kind */
	bool		channel_web;	/* it is a web channel */
	bool		channel_null;	/* no channel given */
	int64		point_of_sale_id;
	bool		point_of_sale_null; /* no point of sale given */
} BenefitSale;

extern void benefit_check_sale(Datum channel, bool channel_null, Datum point_of_sale, bool point_of_sale_null,
							   Datum contact_id, bool contact_null, bool channel_required, bool read_only,
							   BenefitSale *sale);
extern void benefit_check_sale_refs(const BenefitConfig *cfg, Datum channel, bool channel_null,
									Datum point_of_sale, bool point_of_sale_null, bool channel_required,
									BenefitSale *sale);
extern void benefit_refuse_contact(int64 contact_id);
extern void benefit_check_order_ref(text *order_ref);

#endif							/* BENEFIT_SALE_H */
