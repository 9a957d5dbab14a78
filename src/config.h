/*-------------------------------------------------------------------------
 *
 * config.h
 *		The configuration the runtime reads, compiled once per backend
 *		(config.c): sales channels, points of sale, every benefit with its
 *		channels, tariff rows and quotas' shape, the promo codes with their
 *		channels, and the catalogue a basket's lines are checked against
 *		(products, performances, seat categories, audiences, base prices);
 *		kept until the configuration changes.
 *
 * A caller takes the configuration with benefit_config_pin() and gives it
 * back with benefit_config_unpin() when it no longer reads it: a rebuild
 * while pinned keeps the old one until the end of the transaction.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BENEFIT_CONFIG_H
#define BENEFIT_CONFIG_H

/* after postgres.h */
#include "utils/jsonb.h"
#include "utils/timestamp.h"

typedef enum CfgTarget
{
	CFG_PUBLIC,
	CFG_CONTACTS,
	CFG_INDICATOR,
	CFG_PARTNER,
	CFG_SINGLE_USE
} CfgTarget;

typedef struct CfgChannel
{
	int64		id;
	char	   *code;
	Datum		kind;			/* benefit.channel_kind */
	bool		web;
} CfgChannel;

typedef struct CfgPointOfSale
{
	int64		id;
	char	   *code;
	int64		channel_id;
	char	   *channel_code;	/* the code of its channel */
} CfgPointOfSale;

/* One tariff row, as pricing reads it. */
typedef struct CfgTariff
{
	int64		tariff_id;
	int64		product_id;
	bool		performance_any;
	int64		performance_id;
	bool		seat_any;
	int64		seat_category_id;
	bool		audience_any;
	int64		audience_id;
	bool		price_null;
	int64		price_cents;
	bool		amount_null;
	int64		amount_off_cents;
	bool		percent_null;
	int64		percent_bp;		/* percent_off * 100 */
} CfgTariff;

/* A limit: -1 when not set. */
typedef struct CfgBenefit
{
	int64		id;
	char	   *code;
	char	   *name;
	CfgTarget	target;
	Datum		target_type;	/* benefit.target_type */
	bool		live;
	bool		campaign_set;
	int64		campaign_id;
	bool		level_set;
	int64		level_id;
	bool		pos_set;
	int64		pos_id;
	bool		valid_from_set;
	TimestampTz valid_from;
	bool		valid_until_set;
	TimestampTz valid_until;
	bool		all_channels;
	int			nchannels;
	int64	   *channels;		/* sorted */
	int32		quota_total;
	int32		quota_per_performance;
	int32		quota_per_contact;
	int32		quota_per_order;
	int32		units_per_code;
	int			ntariffs;
	CfgTariff  *tariffs;		/* by tariff id */
	Jsonb	   *tariffs_json;	/* available's tariffs column; NULL for none */
} CfgBenefit;

typedef struct CfgPromo
{
	int64		id;
	char	   *code;
	char	   *lower_code;		/* lower(code) */
	bool		is_active;
	bool		valid_from_set;
	TimestampTz valid_from;
	bool		valid_until_set;
	TimestampTz valid_until;
	bool		all_channels;
	int			nchannels;
	int64	   *channels;		/* sorted */
	bool		level_set;
	int64		level_id;
	bool		per_contact_set;
	int32		per_contact;
	bool		total_set;
	int32		total;
	int64		min_basket_cents;
	bool		amount_off_set;
	int64		amount_off_cents;
	int64		percent_off_bp;
	bool		budget_set;
	int64		budget_cents;
} CfgPromo;

/*
 * A base price row; "any" for a dimension left NULL.  The rows of a
 * product are kept in the order the most specific one is chosen in: more
 * dimensions set first, then by base_price_id.
 */
typedef struct CfgBasePrice
{
	bool		performance_any;
	int64		performance_id;
	bool		seat_any;
	int64		seat_category_id;
	bool		audience_any;
	int64		audience_id;
	int64		price_cents;
} CfgBasePrice;

/* A product, with its base price rows (in the order of the choice). */
typedef struct CfgProduct
{
	int64		id;
	int			nprices;
	CfgBasePrice *prices;
} CfgProduct;

/* A performance and the product it is one of. */
typedef struct CfgPerformance
{
	int64		id;
	int64		product_id;
} CfgPerformance;

/* An (id, benefit) pair of a lookup by campaign, indicator level or partner code. */
typedef struct CfgKeyed
{
	int64		key;
	const char *text;			/* partner codes: lower(access_code) */
	int			benefit;		/* index in benefits */
} CfgKeyed;

typedef struct BenefitConfig
{
	int			nchannels;
	CfgChannel *channels;		/* by code (strcmp) */
	int			npos;
	CfgPointOfSale *pos;		/* by code (strcmp) */
	int			nbenefits;
	CfgBenefit *benefits;		/* by id */
	int			npublic;
	int		   *public_live;	/* live public benefits, by id */
	int			ncampaign;
	CfgKeyed   *by_campaign;	/* live contacts benefits by campaign, then id */
	int			nlevel;
	CfgKeyed   *by_level;		/* live indicator benefits by level, then id */
	int			npartner;
	CfgKeyed   *by_partner;		/* partner benefits (any status) by lower(access_code) */
	int			npromos;
	CfgPromo   *promos;			/* by lower(code) (strcmp) */
	int			nproducts;
	CfgProduct *products;		/* by id */
	int			nperformances;
	CfgPerformance *performances;	/* by id */
	int			nseats;
	int64	   *seat_categories;	/* sorted */
	int			naudiences;
	int64	   *audiences;		/* sorted */
} BenefitConfig;

/*
 * The configuration now, built if needed; NULL in a database whose
 * extension predates the cache (no benefit_internal schema: not updated
 * yet), whose callers read the tables as before.
 */
extern const BenefitConfig *benefit_config_pin(void);
extern void benefit_config_unpin(void);

extern const CfgChannel *cfg_channel(const BenefitConfig *cfg, const char *code);
extern const CfgPointOfSale *cfg_point_of_sale(const BenefitConfig *cfg, const char *code);
extern const CfgBenefit *cfg_benefit(const BenefitConfig *cfg, int64 id);
extern const CfgBenefit *cfg_partner(const BenefitConfig *cfg, const char *lower_code);
extern const CfgPromo *cfg_promo(const BenefitConfig *cfg, const char *lower_code);
extern const CfgProduct *cfg_product(const BenefitConfig *cfg, int64 id);
extern const CfgPerformance *cfg_performance(const BenefitConfig *cfg, int64 id);
extern bool cfg_has_id(const int64 *sorted, int n, int64 id);
extern bool cfg_on_channel(bool all_channels, const int64 *channels, int n, int64 channel_id);
extern int	cfg_keyed_first(const CfgKeyed *v, int n, int64 key);

#endif							/* BENEFIT_CONFIG_H */
