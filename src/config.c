/*-------------------------------------------------------------------------
 *
 * config.c
 *		The configuration cache: what the runtime reads of the configuration
 *		(sales channels, points of sale, benefits with their channels, tariff
 *		rows and quotas' shape, promo codes with their channels) and the
 *		catalogue a basket's lines are checked against (products,
 *		performances with their product, seat categories, audiences, base
 *		prices), compiled once per backend into sorted arrays, and kept
 *		until it changes, so that eligibility and pricing read only the
 *		buyer's own rows.
 *
 * Invalidation.  Every configuration table has a statement trigger,
 * benefit_internal.config_changed (below), that registers a relcache
 * invalidation of benefit.benefit (CacheInvalidateRelcacheByRelid), as
 * Citus does for its metadata tables.  That message is transactional: it is
 * sent to every backend of the database when the transaction commits (and a
 * hot standby replays it from the commit record), applied in the changing
 * backend itself at its next command (CommandCounterIncrement), and applied
 * there again at abort (of the transaction or of a subtransaction), so that
 * what the rollback undid is forgotten.  Each backend registers
 * config_relcache_changed, which marks the cache stale and bumps a
 * generation counter when the message names benefit.benefit's OID (taken
 * when building: DROP / CREATE EXTENSION gives it another) or is a reset of
 * the whole relcache (InvalidOid).  Every use calls AcceptInvalidationMessages
 * first (cheap when none is pending), so that a change committed before the
 * call began is never missed, even inside a transaction block that takes no
 * new lock.
 *
 * Building without a stale window.  A build applies the pending messages,
 * remembers the generation, then reads the configuration with a fresh
 * snapshot (GetLatestSnapshot pushed as the active snapshot, SPI read-only),
 * and marks the cache valid only if the generation did not move meanwhile
 * (else it builds again).  A transaction's changes become visible before
 * its invalidation is sent: a commit the fresh snapshot misses sends its
 * message after the generation was read, so it marks the cache stale later;
 * a commit whose message was already applied is in the snapshot.  The
 * backend's own uncommitted changes are seen (applied at command end, and
 * the latest snapshot includes the transaction's own earlier commands) and
 * forgotten at rollback.  So the configuration is read as of the latest
 * commit, at every isolation level: under REPEATABLE READ or SERIALIZABLE a
 * call sees configuration committed after its transaction's snapshot (as it
 * would in a new transaction), and a call that uses a valid cache reads no
 * configuration row at all (no predicate lock under SERIALIZABLE; a build
 * inside a SERIALIZABLE transaction reads with the latest snapshot).  In
 * parallel mode (a parallel worker may not take a new snapshot) the
 * configuration is read on the call's snapshot and not kept.
 *
 * Memory.  The cache lives in its own memory context under
 * CacheMemoryContext and is rebuilt whole.  A caller pins it while it reads
 * it (benefit_config_pin / unpin): a rebuild while it is pinned (a nested
 * call after a change) keeps the old one until the end of the transaction.
 *
 * A database whose extension predates 0.3.0 (no benefit_internal schema:
 * not updated yet) has no triggers: benefit_config_pin returns NULL there
 * and the callers read the tables as before.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "nodes/pg_list.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "config.h"
#include "internal_sql.h"
#include "search_path.h"
#include "spi_util.h"

static BenefitPlans plans;
static SPIPlanPtr plan_channels;
static SPIPlanPtr plan_pos;
static SPIPlanPtr plan_benefits;
static SPIPlanPtr plan_benefit_channels;
static SPIPlanPtr plan_tariffs;
static SPIPlanPtr plan_tariffs_json;
static SPIPlanPtr plan_promos;
static SPIPlanPtr plan_promo_channels;
static SPIPlanPtr plan_products;
static SPIPlanPtr plan_performances;
static SPIPlanPtr plan_seats;
static SPIPlanPtr plan_audiences;
static SPIPlanPtr plan_base_prices;

static BenefitConfig *current;	/* NULL before the first build */
static MemoryContext current_cxt;
static bool valid;				/* current is the configuration now */
static uint64 generation;		/* bumped by every invalidation that concerns it */
static Oid	benefit_relid = InvalidOid; /* benefit.benefit when current was built */
static int	pins;				/* callers reading current now */
static List *retired;			/* contexts of configurations replaced while pinned */

static uint64 available_epoch;	/* benefit_catalog_epoch() when available_now was found */
static bool available_now;

/* The relcache callback: a change of the configuration (or a reset of the relcache). */
static void
config_relcache_changed(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == benefit_relid)
	{
		valid = false;
		generation++;
	}
}

/* Frees the configurations replaced during the transaction; nobody reads them any more. */
static void
config_xact_end(XactEvent event, void *arg)
{
	ListCell   *lc;

	if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT && event != XACT_EVENT_PREPARE &&
		event != XACT_EVENT_PARALLEL_COMMIT && event != XACT_EVENT_PARALLEL_ABORT)
		return;
	pins = 0;
	foreach(lc, retired)
		MemoryContextDelete((MemoryContext) lfirst(lc));
	list_free(retired);
	retired = NIL;
}

static void
register_callbacks(void)
{
	static bool registered = false;

	if (registered)
		return;
	CacheRegisterRelcacheCallback(config_relcache_changed, (Datum) 0);
	RegisterXactCallback(config_xact_end, NULL);
	registered = true;
}

/* Prepares the statements of a build (the plan rule of spi_util.h). */
static void
make_plans(BenefitPlans *set, Oid made_for)
{
	plan_channels = benefit_plans_keep(set,
		"SELECT sc.channel_id, sc.code, sc.kind, sc.kind = 'web' FROM benefit.sales_channel sc", 0, NULL);
	plan_pos = benefit_plans_keep(set,
		"SELECT p.point_of_sale_id, p.code, p.channel_id, sc.code "
		"  FROM benefit.point_of_sale p JOIN benefit.sales_channel sc ON sc.channel_id = p.channel_id", 0, NULL);
	plan_benefits = benefit_plans_keep(set,
		"SELECT b.benefit_id, b.code, b.name, b.target_type::pg_catalog.text, b.target_type, b.status = 'live', "
		"       b.campaign_id, b.indicator_level_id, pg_catalog.lower(b.access_code), b.point_of_sale_id, "
		"       b.valid_from, b.valid_until, b.all_channels, b.quota_total, b.quota_per_performance, "
		"       b.quota_per_contact, b.quota_per_order, b.units_per_code "
		"  FROM benefit.benefit b ORDER BY b.benefit_id", 0, NULL);
	plan_benefit_channels = benefit_plans_keep(set,
		"SELECT bc.benefit_id, bc.channel_id FROM benefit.benefit_channel bc ORDER BY 1, 2", 0, NULL);
	plan_tariffs = benefit_plans_keep(set,
		"SELECT bt.benefit_id, bt.tariff_id, bt.product_id, bt.performance_id, bt.seat_category_id, "
		"       bt.audience_id, bt.price_cents, bt.amount_off_cents, (bt.percent_off * 100)::pg_catalog.int8 "
		"  FROM benefit.benefit_tariff bt ORDER BY 1, 2", 0, NULL);
	/* available's tariffs column, as 0.2.0's PL/pgSQL built it */
	plan_tariffs_json = benefit_plans_keep(set,
		"SELECT t.benefit_id, pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object( "
		"           'tariff_id', t.tariff_id, 'product_id', t.product_id, 'performance_id', t.performance_id, "
		"           'seat_category_id', t.seat_category_id, 'audience_id', t.audience_id, "
		"           'price_cents', t.price_cents, 'amount_off_cents', t.amount_off_cents, "
		"           'percent_off', t.percent_off) ORDER BY t.tariff_id) "
		"  FROM benefit.benefit_tariff t GROUP BY t.benefit_id", 0, NULL);
	plan_promos = benefit_plans_keep(set,
		"SELECT pc.promo_code_id, pc.code, pg_catalog.lower(pc.code), pc.is_active, pc.valid_from, pc.valid_until, "
		"       pc.all_channels, pc.indicator_level_id, pc.max_uses_per_contact, pc.max_uses_total, "
		"       pc.min_basket_cents, pc.amount_off_cents, (pc.percent_off * 100)::pg_catalog.int8, "
		"       pc.max_discount_cents_total "
		"  FROM benefit.promo_code pc", 0, NULL);
	plan_promo_channels = benefit_plans_keep(set,
		"SELECT pcc.promo_code_id, pcc.channel_id FROM benefit.promo_code_channel pcc ORDER BY 1, 2", 0, NULL);
	/* the catalogue */
	plan_products = benefit_plans_keep(set,
		"SELECT p.product_id FROM benefit.product p ORDER BY 1", 0, NULL);
	plan_performances = benefit_plans_keep(set,
		"SELECT pf.performance_id, pf.product_id FROM benefit.performance pf ORDER BY 1", 0, NULL);
	plan_seats = benefit_plans_keep(set,
		"SELECT sc.seat_category_id FROM benefit.seat_category sc ORDER BY 1", 0, NULL);
	plan_audiences = benefit_plans_keep(set,
		"SELECT a.audience_id FROM benefit.audience a ORDER BY 1", 0, NULL);
	/* each product's rows in the order of the choice of the most specific one (basket.c) */
	plan_base_prices = benefit_plans_keep(set,
		"SELECT bp.product_id, bp.performance_id, bp.seat_category_id, bp.audience_id, bp.price_cents "
		"  FROM benefit.base_price bp "
		" ORDER BY bp.product_id, "
		"          (bp.performance_id IS NOT NULL)::pg_catalog.int4 "
		"          + (bp.seat_category_id IS NOT NULL)::pg_catalog.int4 "
		"          + (bp.audience_id IS NOT NULL)::pg_catalog.int4 DESC, bp.base_price_id", 0, NULL);
}

static MemoryContext build_cxt;	/* where a build allocates */

/*
 * Runs a build statement on the active snapshot, then goes back to the
 * build's memory context (SPI leaves its own procedure context current).
 */
static void
run(SPIPlanPtr plan, const char *what)
{
	int			ret = SPI_execute_plan(plan, NULL, NULL, true, 0);

	MemoryContextSwitchTo(build_cxt);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "reading the %s failed: %s", what, SPI_result_code_string(ret));
}

static char *
text_col(int r, int c)
{
	return col_text(r, c, NULL);	/* in the current context: the configuration's */
}

static int32
limit_col(int r, int c)
{
	bool		isnull;
	int32		v = col_int4(r, c, &isnull);

	return isnull ? -1 : v;
}

static int
cmp_channel(const void *a, const void *b)
{
	return strcmp(((const CfgChannel *) a)->code, ((const CfgChannel *) b)->code);
}

static int
cmp_pos(const void *a, const void *b)
{
	return strcmp(((const CfgPointOfSale *) a)->code, ((const CfgPointOfSale *) b)->code);
}

static int
cmp_promo(const void *a, const void *b)
{
	return strcmp(((const CfgPromo *) a)->lower_code, ((const CfgPromo *) b)->lower_code);
}

static int
cmp_keyed(const void *a, const void *b)
{
	const CfgKeyed *x = a;
	const CfgKeyed *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->benefit - y->benefit;
}

static int
cmp_keyed_text(const void *a, const void *b)
{
	return strcmp(((const CfgKeyed *) a)->text, ((const CfgKeyed *) b)->text);
}

/*
 * Index of the row whose id (an int64, the row's first member) is id in
 * rows, n rows of size bytes sorted by id; -1 if none.
 */
static int
index_by_id(const void *rows, int n, size_t size, int64 id)
{
	int			lo = 0;
	int			hi = n - 1;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;
		int64		v = *(const int64 *) ((const char *) rows + (size_t) mid * size);

		if (v == id)
			return mid;
		if (v < id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

StaticAssertDecl(offsetof(CfgBenefit, id) == 0, "index_by_id reads a benefit's id first");
StaticAssertDecl(offsetof(CfgProduct, id) == 0, "index_by_id reads a product's id first");

/* Index of benefit id in cfg->benefits (sorted by id), -1 if none. */
static int
benefit_index(const BenefitConfig *cfg, int64 id)
{
	return index_by_id(cfg->benefits, cfg->nbenefits, sizeof(CfgBenefit), id);
}

/*
 * Reads an (owner id, channel id) list ordered by owner into the channel
 * arrays of the owners; owner_at finds an owner's arrays.
 */
typedef void (*ChannelSink) (BenefitConfig *cfg, int64 owner, int64 *channels, int n);

static void
read_owner_channels(BenefitConfig *cfg, ChannelSink sink)
{
	uint64		n = SPI_processed;
	uint64		r = 0;

	while (r < n)
	{
		bool		isnull;
		int64		owner = col_int8((int) r, 1, &isnull);
		uint64		end = r;
		int64	   *ch;

		while (end < n && col_int8((int) end, 1, &isnull) == owner)
			end++;
		ch = palloc(sizeof(int64) * (end - r));
		for (uint64 k = r; k < end; k++)
			ch[k - r] = col_int8((int) k, 2, &isnull);
		sink(cfg, owner, ch, (int) (end - r));
		r = end;
	}
}

static void
benefit_channels_sink(BenefitConfig *cfg, int64 owner, int64 *channels, int n)
{
	int			i = benefit_index(cfg, owner);

	if (i >= 0)
	{
		cfg->benefits[i].channels = channels;
		cfg->benefits[i].nchannels = n;
	}
}

static void
promo_channels_sink(BenefitConfig *cfg, int64 owner, int64 *channels, int n)
{
	for (int i = 0; i < cfg->npromos; i++)
		if (cfg->promos[i].id == owner)
		{
			cfg->promos[i].channels = channels;
			cfg->promos[i].nchannels = n;
			return;
		}
}

static CfgTarget
target_of(const char *label)
{
	if (strcmp(label, "public") == 0)
		return CFG_PUBLIC;
	if (strcmp(label, "contacts") == 0)
		return CFG_CONTACTS;
	if (strcmp(label, "indicator") == 0)
		return CFG_INDICATOR;
	if (strcmp(label, "partner") == 0)
		return CFG_PARTNER;
	if (strcmp(label, "single_use") == 0)
		return CFG_SINGLE_USE;
	elog(ERROR, "unknown target type \"%s\"", label);
}

static void
read_benefits(BenefitConfig *cfg)
{
	bool		isnull;
	int			nkeyed = 0;

	run(plan_benefits, "benefits");
	cfg->nbenefits = (int) SPI_processed;
	cfg->benefits = palloc0(sizeof(CfgBenefit) * Max(cfg->nbenefits, 1));
	for (int r = 0; r < cfg->nbenefits; r++)
	{
		CfgBenefit *b = &cfg->benefits[r];
		char	   *access;

		b->id = col_int8(r, 1, &isnull);
		b->code = text_col(r, 2);
		b->name = text_col(r, 3);
		b->target = target_of(text_col(r, 4));
		b->target_type = col_datum(r, 5, &isnull);
		b->live = col_bool(r, 6);
		b->campaign_id = col_int8(r, 7, &isnull);
		b->campaign_set = !isnull;
		b->level_id = col_int8(r, 8, &isnull);
		b->level_set = !isnull;
		access = text_col(r, 9);
		b->pos_id = col_int8(r, 10, &isnull);
		b->pos_set = !isnull;
		b->valid_from = col_timestamptz(r, 11, &isnull);
		b->valid_from_set = !isnull;
		b->valid_until = col_timestamptz(r, 12, &isnull);
		b->valid_until_set = !isnull;
		b->all_channels = col_bool(r, 13);
		b->quota_total = limit_col(r, 14);
		b->quota_per_performance = limit_col(r, 15);
		b->quota_per_contact = limit_col(r, 16);
		b->quota_per_order = limit_col(r, 17);
		b->units_per_code = limit_col(r, 18);
		if (b->target == CFG_PARTNER && access != NULL)
			nkeyed++;
		/* the access code rides in tariffs_json until the partner list is made */
		b->tariffs_json = (Jsonb *) access;
	}

	/* the lookups: live public benefits, live benefits by campaign and level, partner codes */
	cfg->public_live = palloc(sizeof(int) * Max(cfg->nbenefits, 1));
	cfg->by_campaign = palloc(sizeof(CfgKeyed) * Max(cfg->nbenefits, 1));
	cfg->by_level = palloc(sizeof(CfgKeyed) * Max(cfg->nbenefits, 1));
	cfg->by_partner = palloc(sizeof(CfgKeyed) * Max(nkeyed, 1));
	for (int i = 0; i < cfg->nbenefits; i++)
	{
		CfgBenefit *b = &cfg->benefits[i];
		char	   *access = (char *) b->tariffs_json;

		b->tariffs_json = NULL;
		if (b->target == CFG_PARTNER && access != NULL)
		{
			cfg->by_partner[cfg->npartner].key = b->id;
			cfg->by_partner[cfg->npartner].text = access;
			cfg->by_partner[cfg->npartner++].benefit = i;
		}
		if (!b->live)
			continue;
		if (b->target == CFG_PUBLIC)
			cfg->public_live[cfg->npublic++] = i;
		else if (b->target == CFG_CONTACTS && b->campaign_set)
		{
			cfg->by_campaign[cfg->ncampaign].key = b->campaign_id;
			cfg->by_campaign[cfg->ncampaign].text = NULL;
			cfg->by_campaign[cfg->ncampaign++].benefit = i;
		}
		else if (b->target == CFG_INDICATOR && b->level_set)
		{
			cfg->by_level[cfg->nlevel].key = b->level_id;
			cfg->by_level[cfg->nlevel].text = NULL;
			cfg->by_level[cfg->nlevel++].benefit = i;
		}
	}
	qsort(cfg->by_campaign, cfg->ncampaign, sizeof(CfgKeyed), cmp_keyed);
	qsort(cfg->by_level, cfg->nlevel, sizeof(CfgKeyed), cmp_keyed);
	qsort(cfg->by_partner, cfg->npartner, sizeof(CfgKeyed), cmp_keyed_text);
	SPI_freetuptable(SPI_tuptable);

	run(plan_benefit_channels, "channels of the benefits");
	read_owner_channels(cfg, benefit_channels_sink);
	SPI_freetuptable(SPI_tuptable);
}

static void
read_tariffs(BenefitConfig *cfg)
{
	uint64		n;
	uint64		r = 0;
	bool		isnull;

	run(plan_tariffs, "tariff rows");
	n = SPI_processed;
	while (r < n)
	{
		int64		owner = col_int8((int) r, 1, &isnull);
		uint64		end = r;
		int			i = benefit_index(cfg, owner);
		CfgTariff  *t;

		while (end < n && col_int8((int) end, 1, &isnull) == owner)
			end++;
		t = palloc(sizeof(CfgTariff) * (end - r));
		for (uint64 k = r; k < end; k++)
		{
			CfgTariff  *x = &t[k - r];
			int			row = (int) k;

			x->tariff_id = col_int8(row, 2, &isnull);
			x->product_id = col_int8(row, 3, &isnull);
			x->performance_id = col_int8(row, 4, &x->performance_any);
			x->seat_category_id = col_int8(row, 5, &x->seat_any);
			x->audience_id = col_int8(row, 6, &x->audience_any);
			x->price_cents = col_int8(row, 7, &x->price_null);
			x->amount_off_cents = col_int8(row, 8, &x->amount_null);
			x->percent_bp = col_int8(row, 9, &x->percent_null);
		}
		if (i >= 0)
		{
			cfg->benefits[i].tariffs = t;
			cfg->benefits[i].ntariffs = (int) (end - r);
		}
		r = end;
	}
	SPI_freetuptable(SPI_tuptable);

	run(plan_tariffs_json, "tariff rows");
	for (uint64 k = 0; k < SPI_processed; k++)
	{
		int			i = benefit_index(cfg, col_int8((int) k, 1, &isnull));
		Datum		d = col_datum((int) k, 2, &isnull);

		if (i >= 0 && !isnull)
			cfg->benefits[i].tariffs_json = DatumGetJsonbPCopy(d);
	}
	SPI_freetuptable(SPI_tuptable);
}

static void
read_promos(BenefitConfig *cfg)
{
	bool		isnull;

	run(plan_promos, "promo codes");
	cfg->npromos = (int) SPI_processed;
	cfg->promos = palloc0(sizeof(CfgPromo) * Max(cfg->npromos, 1));
	for (int r = 0; r < cfg->npromos; r++)
	{
		CfgPromo   *p = &cfg->promos[r];
		int32		v;

		p->id = col_int8(r, 1, &isnull);
		p->code = text_col(r, 2);
		p->lower_code = text_col(r, 3);
		p->is_active = col_bool(r, 4);
		p->valid_from = col_timestamptz(r, 5, &isnull);
		p->valid_from_set = !isnull;
		p->valid_until = col_timestamptz(r, 6, &isnull);
		p->valid_until_set = !isnull;
		p->all_channels = col_bool(r, 7);
		p->level_id = col_int8(r, 8, &isnull);
		p->level_set = !isnull;
		v = col_int4(r, 9, &isnull);
		p->per_contact = v;
		p->per_contact_set = !isnull;
		v = col_int4(r, 10, &isnull);
		p->total = v;
		p->total_set = !isnull;
		p->min_basket_cents = col_int8(r, 11, &isnull);
		p->amount_off_cents = col_int8(r, 12, &isnull);
		p->amount_off_set = !isnull;
		p->percent_off_bp = col_int8(r, 13, &isnull);
		p->budget_cents = col_int8(r, 14, &isnull);
		p->budget_set = !isnull;
	}
	qsort(cfg->promos, cfg->npromos, sizeof(CfgPromo), cmp_promo);
	SPI_freetuptable(SPI_tuptable);

	run(plan_promo_channels, "channels of the promo codes");
	read_owner_channels(cfg, promo_channels_sink);
	SPI_freetuptable(SPI_tuptable);
}

/* The ids of column 1 of the last statement (sorted by it), into *out; returns how many. */
static int
read_ids(int64 **out)
{
	int			n = (int) SPI_processed;
	bool		isnull;

	*out = palloc(sizeof(int64) * Max(n, 1));
	for (int r = 0; r < n; r++)
		(*out)[r] = col_int8(r, 1, &isnull);
	SPI_freetuptable(SPI_tuptable);
	return n;
}

/* Index of product id in cfg->products (sorted by id), -1 if none. */
static int
product_index(const BenefitConfig *cfg, int64 id)
{
	return index_by_id(cfg->products, cfg->nproducts, sizeof(CfgProduct), id);
}

static void
read_catalogue(BenefitConfig *cfg)
{
	int64	   *ids;
	uint64		n;
	uint64		r = 0;
	bool		isnull;

	run(plan_products, "products");
	cfg->nproducts = read_ids(&ids);
	cfg->products = palloc0(sizeof(CfgProduct) * Max(cfg->nproducts, 1));
	for (int i = 0; i < cfg->nproducts; i++)
		cfg->products[i].id = ids[i];
	pfree(ids);

	run(plan_performances, "performances");
	cfg->nperformances = (int) SPI_processed;
	cfg->performances = palloc(sizeof(CfgPerformance) * Max(cfg->nperformances, 1));
	for (int i = 0; i < cfg->nperformances; i++)
	{
		cfg->performances[i].id = col_int8(i, 1, &isnull);
		cfg->performances[i].product_id = col_int8(i, 2, &isnull);
	}
	SPI_freetuptable(SPI_tuptable);

	run(plan_seats, "seat categories");
	cfg->nseats = read_ids(&cfg->seat_categories);
	run(plan_audiences, "audiences");
	cfg->naudiences = read_ids(&cfg->audiences);

	run(plan_base_prices, "base prices");
	n = SPI_processed;
	while (r < n)
	{
		int64		owner = col_int8((int) r, 1, &isnull);
		uint64		end = r;
		int			i = product_index(cfg, owner);
		CfgBasePrice *v;

		while (end < n && col_int8((int) end, 1, &isnull) == owner)
			end++;
		v = palloc(sizeof(CfgBasePrice) * (end - r));
		for (uint64 k = r; k < end; k++)
		{
			CfgBasePrice *x = &v[k - r];
			int			row = (int) k;

			x->performance_id = col_int8(row, 2, &x->performance_any);
			x->seat_category_id = col_int8(row, 3, &x->seat_any);
			x->audience_id = col_int8(row, 4, &x->audience_any);
			x->price_cents = col_int8(row, 5, &isnull);
		}
		if (i >= 0)
		{
			cfg->products[i].prices = v;
			cfg->products[i].nprices = (int) (end - r);
		}
		r = end;
	}
	SPI_freetuptable(SPI_tuptable);
}

/* Reads the whole configuration into the current memory context, on the active snapshot. */
static BenefitConfig *
read_config(void)
{
	BenefitConfig *cfg = palloc0(sizeof(BenefitConfig));
	bool		isnull;

	run(plan_channels, "sales channels");
	cfg->nchannels = (int) SPI_processed;
	cfg->channels = palloc0(sizeof(CfgChannel) * Max(cfg->nchannels, 1));
	for (int r = 0; r < cfg->nchannels; r++)
	{
		cfg->channels[r].id = col_int8(r, 1, &isnull);
		cfg->channels[r].code = text_col(r, 2);
		cfg->channels[r].kind = col_datum(r, 3, &isnull);	/* an enum: by value */
		cfg->channels[r].web = col_bool(r, 4);
	}
	qsort(cfg->channels, cfg->nchannels, sizeof(CfgChannel), cmp_channel);
	SPI_freetuptable(SPI_tuptable);

	run(plan_pos, "points of sale");
	cfg->npos = (int) SPI_processed;
	cfg->pos = palloc0(sizeof(CfgPointOfSale) * Max(cfg->npos, 1));
	for (int r = 0; r < cfg->npos; r++)
	{
		cfg->pos[r].id = col_int8(r, 1, &isnull);
		cfg->pos[r].code = text_col(r, 2);
		cfg->pos[r].channel_id = col_int8(r, 3, &isnull);
		cfg->pos[r].channel_code = text_col(r, 4);
	}
	qsort(cfg->pos, cfg->npos, sizeof(CfgPointOfSale), cmp_pos);
	SPI_freetuptable(SPI_tuptable);

	read_benefits(cfg);
	read_tariffs(cfg);
	read_promos(cfg);
	read_catalogue(cfg);
	return cfg;
}

/* Drops a configuration no longer current: now, or at the end of the transaction while pinned. */
static void
retire(MemoryContext cxt)
{
	MemoryContext old;

	if (cxt == NULL)
		return;
	if (pins == 0)
	{
		MemoryContextDelete(cxt);
		return;
	}
	old = MemoryContextSwitchTo(TopMemoryContext);
	retired = lappend(retired, cxt);
	MemoryContextSwitchTo(old);
}

/* Builds the configuration until no invalidation came during the build (see the header). */
static void
build(void)
{
	for (;;)
	{
		bool		parallel = IsInParallelMode();
		uint64		gen;
		MemoryContext cxt;
		MemoryContext old;
		BenefitConfig *cfg = NULL;
		Oid			nsp;

		AcceptInvalidationMessages();
		gen = generation;
		nsp = get_namespace_oid(BENEFIT_PUBLIC_SCHEMA, false);
		benefit_relid = get_relname_relid("benefit", nsp);
		if (!OidIsValid(benefit_relid))
			elog(ERROR, "table benefit.benefit does not exist");

		cxt = AllocSetContextCreate(CacheMemoryContext, "benefit configuration", ALLOCSET_DEFAULT_SIZES);
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		benefit_push_search_path();
		PG_TRY();
		{
			benefit_plans_get(&plans, benefit_code_type_oid(), make_plans);
			if (!parallel)
				PushActiveSnapshot(GetLatestSnapshot());
			build_cxt = cxt;
			old = MemoryContextSwitchTo(cxt);
			cfg = read_config();
			MemoryContextSwitchTo(old);
			if (!parallel)
				PopActiveSnapshot();
		}
		PG_CATCH();
		{
			MemoryContextDelete(cxt);
			PG_RE_THROW();
		}
		PG_END_TRY();
		benefit_pop_search_path();
		SPI_finish();

		retire(current_cxt);
		current = cfg;
		current_cxt = cxt;
		if (parallel)
			return;				/* used by this call, not kept */
		if (generation == gen)
		{
			valid = true;
			return;
		}
	}
}

/* Whether the database's extension has the cache's triggers (0.3.0 on). */
static bool
config_available(void)
{
	uint64		epoch = benefit_catalog_epoch();

	if (epoch != available_epoch)
	{
		available_now = OidIsValid(get_namespace_oid(BENEFIT_INTERNAL_SCHEMA, true));
		available_epoch = epoch;
	}
	return available_now;
}

const BenefitConfig *
benefit_config_pin(void)
{
	if (!config_available())
		return NULL;
	register_callbacks();
	AcceptInvalidationMessages();
	if (!valid)
		build();
	pins++;
	return current;
}

void
benefit_config_unpin(void)
{
	if (pins > 0)
		pins--;
}

const CfgChannel *
cfg_channel(const BenefitConfig *cfg, const char *code)
{
	CfgChannel	key;

	key.code = unconstify(char *, code);
	return bsearch(&key, cfg->channels, cfg->nchannels, sizeof(CfgChannel), cmp_channel);
}

const CfgPointOfSale *
cfg_point_of_sale(const BenefitConfig *cfg, const char *code)
{
	CfgPointOfSale key;

	key.code = unconstify(char *, code);
	return bsearch(&key, cfg->pos, cfg->npos, sizeof(CfgPointOfSale), cmp_pos);
}

const CfgBenefit *
cfg_benefit(const BenefitConfig *cfg, int64 id)
{
	int			i = benefit_index(cfg, id);

	return i < 0 ? NULL : &cfg->benefits[i];
}

const CfgBenefit *
cfg_partner(const BenefitConfig *cfg, const char *lower_code)
{
	CfgKeyed	key;
	const CfgKeyed *k;

	key.text = lower_code;
	k = bsearch(&key, cfg->by_partner, cfg->npartner, sizeof(CfgKeyed), cmp_keyed_text);
	return k == NULL ? NULL : &cfg->benefits[k->benefit];
}

const CfgPromo *
cfg_promo(const BenefitConfig *cfg, const char *lower_code)
{
	CfgPromo	key;

	key.lower_code = unconstify(char *, lower_code);
	return bsearch(&key, cfg->promos, cfg->npromos, sizeof(CfgPromo), cmp_promo);
}

const CfgProduct *
cfg_product(const BenefitConfig *cfg, int64 id)
{
	int			i = product_index(cfg, id);

	return i < 0 ? NULL : &cfg->products[i];
}

const CfgPerformance *
cfg_performance(const BenefitConfig *cfg, int64 id)
{
	int			lo = 0;
	int			hi = cfg->nperformances - 1;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;
		int64		v = cfg->performances[mid].id;

		if (v == id)
			return &cfg->performances[mid];
		if (v < id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

/* Whether id is in sorted[0..n). */
bool
cfg_has_id(const int64 *sorted, int n, int64 id)
{
	int			lo = 0;
	int			hi = n - 1;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (sorted[mid] == id)
			return true;
		if (sorted[mid] < id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return false;
}

/* Whether an owner with these channels is sold on channel_id. */
bool
cfg_on_channel(bool all_channels, const int64 *channels, int n, int64 channel_id)
{
	int			lo = 0;
	int			hi = n - 1;

	if (all_channels)
		return true;
	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (channels[mid] == channel_id)
			return true;
		if (channels[mid] < channel_id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return false;
}

/* The first index of v[0..n) (sorted by key) with key key, or n. */
int
cfg_keyed_first(const CfgKeyed *v, int n, int64 key)
{
	int			lo = 0;
	int			hi = n;

	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (v[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

PG_FUNCTION_INFO_V1(benefit_config_changed);

/*
 * Trigger function benefit_internal.config_changed(), FOR EACH STATEMENT
 * after every change of a configuration table: the configuration cache of
 * every backend is stale once this transaction commits, and this backend's
 * at its next command (see the header).
 */
Datum
benefit_config_changed(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Oid			relid;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "config_changed must be called as a trigger");
	relid = get_relname_relid("benefit", RelationGetNamespace(td->tg_relation));
	if (OidIsValid(relid))
		CacheInvalidateRelcacheByRelid(relid);
	return PointerGetDatum(NULL);
}
