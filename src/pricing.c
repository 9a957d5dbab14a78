/*-------------------------------------------------------------------------
 *
 * pricing.c
 *		benefit.price, the pricing of price_basket and hold: the steps of a
 *		call, and the statements that read what the rules need.
 *
 * After the sale's references (sale.c) and the lines (basket.c), three
 * kept statements read the figures: eligibility with the quota figures of
 * each usable benefit (total and per order, per contact, and the units
 * used on each performance of the basket), the tariff rows of the usable
 * benefits for the basket's products, then the promo code with the figures
 * of its conditions.  The rules decide in plain C: the choice of a tariff
 * for each line (tariff_choice.c), the promo code's conditions
 * (promo_rule.c), the money arithmetic (money.c).  basket.c builds the
 * result (result benefit.priced_basket, uses jsonb, promo_id bigint).  The
 * rules are those of README "Pricing rules": per line the cheapest usable
 * tariff (then the lower benefit id) that fits the quotas left, in line
 * order; then the promo code on the whole basket, allocated to the cent.
 *
 * In a database at 0.3.0 the configuration and the catalogue come from the
 * configuration cache (config.c) and who may use what is decided in C
 * (eligibility.c): only the buyer's own rows are read (its contact,
 * campaigns, indicator levels and single-use codes entered, then the
 * counters of the candidates that have a limit and of the promo code), by
 * index scans, and the lines' catalogue facts, the tariff rows and the
 * promo code come from the cache.  A database not yet updated (no cache
 * there) is read by the three statements below.
 *
 * Every statement runs read-only, on the snapshot of the calling statement.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/formatting.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include "basket.h"
#include "config.h"
#include "eligibility.h"
#include "internal_sql.h"
#include "money.h"
#include "money_sql.h"
#include "pricing.h"
#include "promo_rule.h"
#include "sale.h"
#include "search_path.h"
#include "spi_util.h"
#include "tariff_choice.h"
#include "throttle.h"

/* The sale a basket is priced for. */
typedef struct PriceSale
{
	bool		contact_null;
	int64		contact_id;
	int64		channel_id;
	TimestampTz at;
} PriceSale;

static BenefitPlans plans;
static SPIPlanPtr plan_eligible;
static SPIPlanPtr plan_candidates;
static SPIPlanPtr plan_promo;

/*
 * The OID of the schema holding the internal functions: benefit_internal,
 * or benefit in a database still at 0.1.0 or 0.2.0.  The plans are made for
 * it, so that a session that priced before ALTER EXTENSION benefit UPDATE
 * moved eligibility prepares its statements again (its kept plan names the
 * old schema), and after DROP / CREATE EXTENSION too.
 */
static Oid
internal_schema(void)
{
	Oid			ns = get_namespace_oid(BENEFIT_INTERNAL_SCHEMA, true);

	return OidIsValid(ns) ? ns : get_namespace_oid(BENEFIT_PUBLIC_SCHEMA, false);
}

/* Prepares the statements of this file (the plan rule of spi_util.h). */
static void
make_plans(BenefitPlans *set, Oid made_for)
{
	Oid			t_elig[7] = {INT8OID, TEXTOID, TEXTOID, TIMESTAMPTZOID, TEXTARRAYOID, INT8OID, INT8ARRAYOID};
	Oid			t_cand[5] = {INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID};
	Oid			t_promo[3] = {TEXTOID, INT8OID, INT8OID};

	/*
	 * who may use what, with the quota figures of each usable benefit: the
	 * units left of its total quota and per-order limit, of the contact's
	 * limit, and, when it has a per-performance quota, the units used on
	 * each performance $7 of the basket as {performance_id, units} pairs;
	 * by benefit, then code: the codes of a benefit are applied in code order
	 */
	plan_eligible = benefit_plans_keep(set, psprintf(
		"SELECT e.benefit_id, e.entered_code, e.single_use_code::pg_catalog.text, e.reason::pg_catalog.text, "
		"       b.code, b.quota_per_performance, "
		"       LEAST(b.quota_total - (SELECT pg_catalog.sum(ct.held + ct.used) FROM benefit.counter ct "
		"                               WHERE ct.kind = 'benefit_slot' AND ct.owner_id = b.benefit_id), "
		"             b.quota_per_order), "
		"       b.quota_per_contact - COALESCE((SELECT ct.held + ct.used FROM benefit.counter ct "
		"                                        WHERE ct.kind = 'benefit_contact' AND ct.owner_id = b.benefit_id "
		"                                          AND ct.key = $6), 0), "
		"       CASE WHEN b.quota_per_performance IS NOT NULL AND $7::pg_catalog.int8[] IS NOT NULL "
		"                 AND e.reason::pg_catalog.text = 'ok' "
		"            THEN ARRAY(SELECT ARRAY[ct.key, (ct.held + ct.used)::pg_catalog.int8] FROM benefit.counter ct "
		"                        WHERE ct.kind = 'benefit_performance' AND ct.owner_id = b.benefit_id "
		"                          AND ct.key = ANY ($7)) END, "
		"       %s "
		"  FROM %s." BENEFIT_FN_ELIGIBILITY "($1, $2, $3, $4, $5) e "
		"  LEFT JOIN benefit.benefit b ON b.benefit_id = e.benefit_id "
		" ORDER BY e.benefit_id, e.single_use_code::pg_catalog.text, e.entered_code",
		/* units_per_code is 0.3.0's: a database not yet updated reads "any" */
		strcmp(get_namespace_name(made_for), "benefit_internal") == 0 ? "b.units_per_code" : "NULL::pg_catalog.int4",
		get_namespace_name(made_for)),
		7, t_elig);

	/*
	 * every tariff row of the usable benefits for the basket's products, by
	 * benefit and product in tariff id order; C picks each line's row
	 */
	plan_candidates = benefit_plans_keep(set,
		"SELECT bt.benefit_id, bt.product_id, bt.tariff_id, bt.performance_id, bt.seat_category_id, "
		"       bt.audience_id, bt.price_cents, bt.amount_off_cents, (bt.percent_off * 100)::pg_catalog.int8 "
		"  FROM benefit.benefit_tariff bt "
		" WHERE bt.benefit_id = ANY ($1) AND bt.product_id = ANY ($2) "
		"   AND (bt.performance_id IS NULL OR bt.performance_id = ANY ($3)) "
		"   AND (bt.seat_category_id IS NULL OR bt.seat_category_id = ANY ($4)) "
		"   AND (bt.audience_id IS NULL OR bt.audience_id = ANY ($5)) "
		" ORDER BY bt.benefit_id, bt.product_id, bt.tariff_id",
		5, t_cand);

	/*
	 * the promo code and every figure its conditions need, its budget left
	 * included (0.3.0; before it, benefit in a database at 0.1.0 or 0.2.0,
	 * no promo code has a budget)
	 */
	plan_promo = benefit_plans_keep(set, psprintf(
		"SELECT pc.promo_code_id, pc.code, pc.is_active, pc.valid_from, pc.valid_until, "
		"       pc.all_channels OR EXISTS (SELECT 1 FROM benefit.promo_code_channel pcc "
		"                                   WHERE pcc.promo_code_id = pc.promo_code_id AND pcc.channel_id = $3), "
		"       pc.indicator_level_id IS NULL OR EXISTS (SELECT 1 FROM benefit.contact_indicator ci "
		"                                                 WHERE ci.contact_id = $2 AND ci.level_id = pc.indicator_level_id), "
		"       pc.max_uses_per_contact, pc.max_uses_total, "
		"       COALESCE((SELECT pg_catalog.sum(ct.held + ct.used) FROM benefit.counter ct "
		"                  WHERE ct.kind = 'promo_slot' AND ct.owner_id = pc.promo_code_id), 0)::pg_catalog.int8, "
		"       COALESCE((SELECT ct.held + ct.used FROM benefit.counter ct "
		"                  WHERE ct.kind = 'promo_contact' AND ct.owner_id = pc.promo_code_id AND ct.key = $2), 0)::pg_catalog.int8, "
		"       pc.min_basket_cents, pc.amount_off_cents, (pc.percent_off * 100)::pg_catalog.int8, %s "
		"  FROM benefit.promo_code pc WHERE pg_catalog.lower(pc.code) = pg_catalog.lower(pg_catalog.btrim($1))",
		strcmp(get_namespace_name(made_for), BENEFIT_INTERNAL_SCHEMA) != 0
		? "NULL::pg_catalog.int8, 0::pg_catalog.int8"
		: "pc.max_discount_cents_total, "
		"       COALESCE((SELECT pg_catalog.sum(ct.held + ct.used) FROM benefit.counter ct "
		"                  WHERE ct.kind = 'promo_budget' AND ct.owner_id = pc.promo_code_id), 0)::pg_catalog.int8"),
		3, t_promo);
}

/* The performance ids of the lines as an int8[] parameter; NULL (*isnull) when no line has one. */
static Datum
performance_ids(const PriceCall *call, bool *isnull)
{
	int64	   *v = palloc(sizeof(int64) * call->nlines);
	bool	   *nl = palloc0(sizeof(bool) * call->nlines);
	int			n = 0;

	for (int i = 0; i < call->nlines; i++)
		if (!call->lines[i].dims.performance_any)
			v[n++] = call->lines[i].dims.performance_id;
	*isnull = n == 0;
	return n == 0 ? (Datum) 0 : benefit_int8_array(v, nl, n);
}

/* Appends the {performance_id, units} pairs of column 9 of eligibility row r to call->perf_used. */
static void
read_perf_used(PriceCall *call, int r, int64 benefit_id)
{
	bool		isnull;
	Datum		d = col_datum(r, 9, &isnull);
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	if (isnull)
		return;
	deconstruct_array(DatumGetArrayTypeP(d), INT8OID, sizeof(int64), true, TYPALIGN_DOUBLE, &elems, &nulls, &n);
	if (n == 0)
		return;
	call->perf_used = call->perf_used == NULL
		? MemoryContextAlloc(call->cxt, sizeof(PricePerfUsed) * (n / 2))
		: repalloc(call->perf_used, sizeof(PricePerfUsed) * (call->nperf_used + n / 2));
	for (int k = 0; k + 1 < n; k += 2)
	{
		PricePerfUsed *u = &call->perf_used[call->nperf_used++];

		u->benefit_id = benefit_id;
		u->performance_id = DatumGetInt64(elems[k]);
		u->used = DatumGetInt64(elems[k + 1]);
	}
}

/* Row r of the eligibility statement into b; -1 for no limit, never below 0 otherwise. */
static void
read_benefit(PriceCall *call, int r, PriceBenefit *b)
{
	bool		isnull;

	b->id = col_int8(r, 1, &isnull);
	b->entered = col_text(r, 2, call->cxt);
	b->su_code = col_text(r, 3, call->cxt);
	b->reason = col_text(r, 4, call->cxt);
	b->code = col_text(r, 5, call->cxt);
	b->perf_quota = col_int4(r, 6, &isnull);
	if (isnull)
		b->perf_quota = -1;
	b->left = col_int8(r, 7, &isnull);
	if (isnull)
		b->left = -1;
	else if (b->left < 0)
		b->left = 0;
	b->cleft = col_int4(r, 8, &isnull);
	if (isnull)
		b->cleft = -1;
	else if (b->cleft < 0)
		b->cleft = 0;
	b->code_units = col_int4(r, 10, &isnull);
	if (isnull)
		b->code_units = -1;
	if (strcmp(b->reason, "ok") == 0)
		read_perf_used(call, r, b->id);
}

/*
 * Who may use what: the eligibility rows into call->benefits, the usable
 * ones into call->ok, their per-performance figures into call->perf_used;
 * makes room for every refusal and refuses the benefits eligibility refused.
 */
static void
find_usable(const PriceInput *in, PriceCall *call, const PriceSale *sale)
{
	Datum		args[7];
	char		argnulls[7];
	bool		perf_null;
	int			ret;

	args[0] = Int64GetDatum(sale->contact_id);
	argnulls[0] = sale->contact_null ? 'n' : ' ';
	args[1] = in->channel;
	argnulls[1] = ' ';
	args[2] = in->point_of_sale;
	argnulls[2] = in->point_of_sale_null ? 'n' : ' ';
	args[3] = TimestampTzGetDatum(sale->at);
	argnulls[3] = ' ';
	args[4] = in->codes;
	argnulls[4] = in->codes_null ? 'n' : ' ';
	args[5] = Int64GetDatum(sale->contact_id);
	argnulls[5] = sale->contact_null ? 'n' : ' ';
	args[6] = performance_ids(call, &perf_null);
	argnulls[6] = perf_null ? 'n' : ' ';
	ret = SPI_execute_plan(plan_eligible, args, argnulls, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "eligibility failed: %s", SPI_result_code_string(ret));
	call->nbenefits = (int) SPI_processed;
	call->benefits = MemoryContextAllocZero(call->cxt, sizeof(PriceBenefit) * Max(call->nbenefits, 1));
	call->ok = MemoryContextAllocZero(call->cxt, sizeof(int) * Max(call->nbenefits, 1));
	for (int r = 0; r < call->nbenefits; r++)
		read_benefit(call, r, &call->benefits[r]);
	SPI_freetuptable(SPI_tuptable);
	call->nok = price_usable(call->benefits, call->nbenefits, call->ok);

	/* refusals: every eligibility refusal, up to 6 per (line, benefit), no_tariff, the promo code */
	call->refusals = MemoryContextAllocZero(call->cxt, sizeof(PriceRefusal) *
											(call->nbenefits * 3 + call->nlines * Max(call->nok, 1) + 2));
	call->nrefusals = 0;
	price_refuse_unusable(call->benefits, call->nbenefits, call->refusals, &call->nrefusals);
}

/*
 * Every tariff row of the usable benefits for the basket's products, then
 * the candidates of the lines in the order of the choice (call->cands).
 */
static void
find_candidates(PriceCall *call)
{
	int			nok = call->nok;
	int64	   *okids = palloc(sizeof(int64) * nok);
	bool	   *nonulls = palloc0(sizeof(bool) * nok);
	Datum		args[5];
	int			nrows;
	PriceTariff *rows;
	BMDims	   *dims;
	int			ret;

	/* $2..$5: the lines' products, performances, seat categories, audiences */
	basket_line_id_arrays(call->lines, call->nlines, &args[1]);
	for (int k = 0; k < nok; k++)
		okids[k] = call->benefits[call->ok[k]].id;
	args[0] = benefit_int8_array(okids, nonulls, nok);
	ret = SPI_execute_plan(plan_candidates, args, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "looking up tariff rows failed: %s", SPI_result_code_string(ret));
	if (SPI_processed > (uint64) (MaxAllocSize / sizeof(PriceTariff)))
		ereport(ERROR,
				errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				errmsg("too many tariff rows fit this basket: " UINT64_FORMAT, SPI_processed));
	nrows = (int) SPI_processed;
	rows = palloc(sizeof(PriceTariff) * Max(nrows, 1));
	dims = palloc(sizeof(BMDims) * Max(nrows, 1));
	for (int r = 0; r < nrows; r++)
	{
		PriceTariff *t = &rows[r];
		bool		isnull;
		int64		benefit_id = col_int8(r, 1, &isnull);
		bool		price_null;
		bool		amount_null;
		bool		percent_null;
		int64		price_cents = col_int8(r, 7, &price_null);
		int64		amount_off = col_int8(r, 8, &amount_null);
		int64		percent_bp = col_int8(r, 9, &percent_null);

		t->benefit = price_benefit_index(call->benefits, call->ok, nok, benefit_id);
		if (t->benefit < 0)
			elog(ERROR, "unexpected tariff row for benefit " INT64_FORMAT, benefit_id);
		t->product_id = col_int8(r, 2, &isnull);
		t->tariff_id = col_int8(r, 3, &isnull);
		dims[r].performance_id = col_int8(r, 4, &dims[r].performance_any);
		dims[r].seat_category_id = col_int8(r, 5, &dims[r].seat_any);
		dims[r].audience_id = col_int8(r, 6, &dims[r].audience_any);
		price_tariff_form(price_null, price_cents, amount_null, amount_off, percent_null, percent_bp,
						  &t->form, &t->value);
	}
	SPI_freetuptable(SPI_tuptable);

	/* a line has one product: at most one candidate of each usable benefit a line */
	call->cands = MemoryContextAllocZero(call->cxt, mul_size(sizeof(PriceCandidate), (Size) call->nlines * nok));
	call->ncands = price_candidates(call->lines, call->nlines, rows, dims, nrows,
									palloc(sizeof(int) * (nrows + 1)), call->benefits, call->cands);
	if (call->ncands < 0)
		benefit_money_out_of_range("price");
}

/* Row 0 of the promo statement as the facts its rule needs. */
static void
read_promo(PromoFacts *f, bool contact_null)
{
	bool		isnull;

	f->is_active = col_bool(0, 3);
	f->valid_from = col_timestamptz(0, 4, &isnull);
	f->valid_from_set = !isnull;
	f->valid_until = col_timestamptz(0, 5, &isnull);
	f->valid_until_set = !isnull;
	f->on_channel = col_bool(0, 6);
	f->level_ok = col_bool(0, 7);
	f->has_contact = !contact_null;
	f->per_contact = col_int4(0, 8, &isnull);
	f->per_contact_set = !isnull;
	f->total = col_int4(0, 9, &isnull);
	f->total_set = !isnull;
	f->taken = col_int8(0, 10, &isnull);
	f->taken_by_contact = col_int8(0, 11, &isnull);
	f->min_basket = col_int8(0, 12, &isnull);
	f->amount_off = col_int8(0, 13, &isnull);
	f->amount_off_set = !isnull;
	f->percent_off_bp = col_int8(0, 14, &isnull);
	f->budget = col_int8(0, 15, &isnull);
	f->budget_set = !isnull;
	f->budget_taken = col_int8(0, 16, &isnull);
}

/*
 * The promo code typed (blanks around it ignored, all blank: none) on the
 * whole basket: applied (call->discount, promo_id, promo_code) or refused
 * with its reason.
 */
static void
apply_promo(Datum promo, PriceCall *call, const PriceSale *sale)
{
	char	   *typed = TextDatumGetCString(promo);
	char	   *trimmed = typed + strspn(typed, " ");
	size_t		len = strlen(trimmed);
	const char *reason = "unknown_promo_code";
	Datum		args[3];
	char		argnulls[3] = {' ', ' ', ' '};
	int			ret;

	while (len > 0 && trimmed[len - 1] == ' ')
		trimmed[--len] = '\0';
	if (len == 0)
		return;
	args[0] = promo;
	args[1] = Int64GetDatum(sale->contact_id);
	argnulls[1] = sale->contact_null ? 'n' : ' ';
	args[2] = Int64GetDatum(sale->channel_id);
	ret = SPI_execute_plan(plan_promo, args, argnulls, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "looking up the promo code failed: %s", SPI_result_code_string(ret));
	if (SPI_processed > 0)
	{
		PromoFacts f;

		read_promo(&f, sale->contact_null);
		reason = promo_refusal(&f, sale->at, call->lines_total);
		if (reason == NULL)
		{
			bool		isnull;

			if (!promo_discount(&f, call->lines_total, &call->discount))
				benefit_money_out_of_range("discount");
			call->promo_applied = true;
			call->promo_id = col_int8(0, 1, &isnull);
			call->promo_code = col_text(0, 2, call->cxt);
		}
	}
	SPI_freetuptable(SPI_tuptable);
	if (!call->promo_applied)
		price_add_refusal(call->refusals, &call->nrefusals, 0, 0, NULL, MemoryContextStrdup(call->cxt, trimmed),
						  reason);
}

/*
 * The cached path (a database at 0.3.0): the configuration from the cache,
 * the buyer's rows from eligibility.c's statements.
 */

/* Sorts the eligibility rows as the statement did: by benefit id, then single-use code, then entered code. */
static int
cmp_elig(const void *a, const void *b)
{
	const EligRow *x = a;
	const EligRow *y = b;
	int			c;

	if ((x->b == NULL) != (y->b == NULL))
		return x->b == NULL ? 1 : -1;
	if (x->b != NULL && x->b->id != y->b->id)
		return x->b->id < y->b->id ? -1 : 1;
	if ((x->su_code == NULL) != (y->su_code == NULL))
		return x->su_code == NULL ? 1 : -1;
	if (x->su_code != NULL && (c = elig_cmp_text(x->su_code, y->su_code)) != 0)
		return c;
	if ((x->entered == NULL) != (y->entered == NULL))
		return x->entered == NULL ? 1 : -1;
	return x->entered == NULL ? 0 : elig_cmp_text(x->entered, y->entered);
}

static char *
copy_text(PriceCall *call, const char *s)
{
	return s == NULL ? NULL : MemoryContextStrdup(call->cxt, s);
}

/* Eligibility row r as the figures a benefit of the pricing needs (read_benefit's). */
static void
cached_benefit(PriceCall *call, const EligRow *r, const EligInput *ein, PriceBenefit *pb)
{
	const CfgBenefit *b = r->b;

	pb->id = b == NULL ? 0 : b->id;
	pb->entered = copy_text(call, r->entered);
	pb->su_code = copy_text(call, r->su_code);
	pb->reason = r->reason;
	pb->code = b == NULL ? NULL : copy_text(call, b->code);
	pb->perf_quota = b == NULL || b->quota_per_performance < 0 ? -1 : b->quota_per_performance;
	pb->left = -1;
	pb->cleft = -1;
	pb->code_units = b == NULL || b->units_per_code < 0 ? -1 : b->units_per_code;
	if (b == NULL)
		return;
	/* LEAST(quota_total - units held and used on its slots (none: NULL), quota_per_order), at least 0 */
	{
		bool		total_set = b->quota_total >= 0 && r->slots_found;
		int64		total = b->quota_total - r->slots_used;

		if (total_set && b->quota_per_order >= 0)
			pb->left = Max(Min(total, b->quota_per_order), 0);
		else if (total_set)
			pb->left = Max(total, 0);
		else if (b->quota_per_order >= 0)
			pb->left = b->quota_per_order;
	}
	if (b->quota_per_contact >= 0)
		pb->cleft = Max(b->quota_per_contact - r->contact_used, 0);
	if (strcmp(pb->reason, "ok") == 0 && b->quota_per_performance >= 0 && ein->nperf > 0 && r->nperf > 0)
	{
		call->perf_used = call->perf_used == NULL
			? MemoryContextAlloc(call->cxt, sizeof(PricePerfUsed) * r->nperf)
			: repalloc(call->perf_used, sizeof(PricePerfUsed) * (call->nperf_used + r->nperf));
		for (int k = 0; k < r->nperf; k++)
		{
			PricePerfUsed *u = &call->perf_used[call->nperf_used++];

			u->benefit_id = b->id;
			u->performance_id = r->perf_ids[k];
			u->used = r->perf_used[k];
		}
	}
}

/* The performance ids of the lines (those that have one). */
static int
line_performances(const PriceCall *call, int64 **out)
{
	int64	   *v = palloc(sizeof(int64) * Max(call->nlines, 1));
	int			n = 0;

	for (int i = 0; i < call->nlines; i++)
		if (!call->lines[i].dims.performance_any)
			v[n++] = call->lines[i].dims.performance_id;
	*out = v;
	return n;
}

/* Who may use what (find_usable's result), on the cache; the rows' benefits into *cbs. */
static void
find_usable_cached(PriceCall *call, EligInput *ein, const EligBuyer *buyer, const CfgBenefit ***cbs,
				   EligResult *res)
{
	int64	   *perfs;

	ein->nperf = line_performances(call, &perfs);
	ein->perf_ids = perfs;
	elig_decide(ein, buyer, res);
	qsort(res->rows, res->nrows, sizeof(EligRow), cmp_elig);
	call->nbenefits = res->nrows;
	call->benefits = MemoryContextAllocZero(call->cxt, sizeof(PriceBenefit) * Max(call->nbenefits, 1));
	call->ok = MemoryContextAllocZero(call->cxt, sizeof(int) * Max(call->nbenefits, 1));
	*cbs = palloc(sizeof(CfgBenefit *) * Max(res->nrows, 1));
	for (int r = 0; r < res->nrows; r++)
	{
		cached_benefit(call, &res->rows[r], ein, &call->benefits[r]);
		(*cbs)[r] = res->rows[r].b;
	}
	call->nok = price_usable(call->benefits, call->nbenefits, call->ok);
	call->refusals = MemoryContextAllocZero(call->cxt, sizeof(PriceRefusal) *
											(call->nbenefits * 3 + call->nlines * Max(call->nok, 1) + 2));
	call->nrefusals = 0;
	price_refuse_unusable(call->benefits, call->nbenefits, call->refusals, &call->nrefusals);
}

static bool
line_has(const PriceCall *call, int what, int64 id)
{
	for (int i = 0; i < call->nlines; i++)
	{
		const PriceLine *l = &call->lines[i];

		if ((what == 0 && l->product_id == id) ||
			(what == 1 && !l->dims.performance_any && l->dims.performance_id == id) ||
			(what == 2 && !l->dims.seat_any && l->dims.seat_category_id == id) ||
			(what == 3 && !l->dims.audience_any && l->dims.audience_id == id))
			return true;
	}
	return false;
}

static int
cmp_tariff(const void *a, const void *b)
{
	const CfgTariff *x = *(const CfgTariff *const *) a;
	const CfgTariff *y = *(const CfgTariff *const *) b;

	if (x->product_id != y->product_id)
		return x->product_id < y->product_id ? -1 : 1;
	return x->tariff_id < y->tariff_id ? -1 : x->tariff_id > y->tariff_id;
}

/* find_candidates on the cache: the tariff rows of the usable benefits that may fit a line. */
static void
find_candidates_cached(PriceCall *call, const CfgBenefit **cbs)
{
	int			nok = call->nok;
	int			room = 0;
	int			nrows = 0;
	PriceTariff *rows;
	BMDims	   *dims;
	const CfgTariff **pick;

	for (int k = 0; k < nok; k++)
		room += cbs[call->ok[k]]->ntariffs;
	rows = palloc(sizeof(PriceTariff) * Max(room, 1));
	dims = palloc(sizeof(BMDims) * Max(room, 1));
	pick = palloc(sizeof(CfgTariff *) * Max(room, 1));
	for (int k = 0; k < nok; k++)
	{
		const CfgBenefit *b = cbs[call->ok[k]];
		int			first = nrows;

		for (int t = 0; t < b->ntariffs; t++)
		{
			const CfgTariff *x = &b->tariffs[t];

			if (line_has(call, 0, x->product_id) &&
				(x->performance_any || line_has(call, 1, x->performance_id)) &&
				(x->seat_any || line_has(call, 2, x->seat_category_id)) &&
				(x->audience_any || line_has(call, 3, x->audience_id)))
				pick[nrows++] = x;
		}
		/* by benefit, product, then tariff id, as the statement read them */
		qsort(pick + first, nrows - first, sizeof(CfgTariff *), cmp_tariff);
		for (int r = first; r < nrows; r++)
		{
			const CfgTariff *x = pick[r];
			PriceTariff *t = &rows[r];

			t->benefit = call->ok[k];
			t->product_id = x->product_id;
			t->tariff_id = x->tariff_id;
			dims[r].performance_id = x->performance_id;
			dims[r].performance_any = x->performance_any;
			dims[r].seat_category_id = x->seat_category_id;
			dims[r].seat_any = x->seat_any;
			dims[r].audience_id = x->audience_id;
			dims[r].audience_any = x->audience_any;
			price_tariff_form(x->price_null, x->price_cents, x->amount_null, x->amount_off_cents,
							  x->percent_null, x->percent_bp, &t->form, &t->value);
		}
	}
	call->cands = MemoryContextAllocZero(call->cxt, mul_size(sizeof(PriceCandidate), (Size) call->nlines * nok));
	call->ncands = price_candidates(call->lines, call->nlines, rows, dims, nrows,
									palloc(sizeof(int) * (nrows + 1)), call->benefits, call->cands);
	if (call->ncands < 0)
		benefit_money_out_of_range("price");
}

/* The promo code typed, blanks around it ignored, into *trimmed ("" for none); its cache entry or NULL. */
static const CfgPromo *
promo_typed(const BenefitConfig *cfg, const PriceInput *in, char **trimmed)
{
	char	   *typed;
	size_t		len;
	char	   *lowered;
	const CfgPromo *p;

	*trimmed = "";
	if (in->promo_code_null)
		return NULL;
	typed = TextDatumGetCString(in->promo_code);
	typed += strspn(typed, " ");
	len = strlen(typed);
	while (len > 0 && typed[len - 1] == ' ')
		typed[--len] = '\0';
	*trimmed = typed;
	if (len == 0)
		return NULL;
	lowered = str_tolower(typed, len, DEFAULT_COLLATION_OID);
	p = cfg_promo(cfg, lowered);
	pfree(lowered);
	return p;
}

/* apply_promo on the cache: the facts of promo code p with its counters (res). */
static void
apply_promo_cached(PriceCall *call, const PriceSale *sale, const CfgPromo *p, const char *trimmed,
				   const EligBuyer *buyer, const EligResult *res)
{
	const char *reason = "unknown_promo_code";

	if (trimmed[0] == '\0')
		return;
	if (p != NULL)
	{
		PromoFacts	f;

		memset(&f, 0, sizeof(f));
		f.is_active = p->is_active;
		f.valid_from_set = p->valid_from_set;
		f.valid_from = p->valid_from;
		f.valid_until_set = p->valid_until_set;
		f.valid_until = p->valid_until;
		f.on_channel = cfg_on_channel(p->all_channels, p->channels, p->nchannels, sale->channel_id);
		f.level_ok = !p->level_set || elig_has_level(buyer, p->level_id);
		f.has_contact = !sale->contact_null;
		f.per_contact_set = p->per_contact_set;
		f.per_contact = p->per_contact;
		f.total_set = p->total_set;
		f.total = p->total;
		f.taken = res->promo_taken;
		f.taken_by_contact = res->promo_by_contact;
		f.min_basket = p->min_basket_cents;
		f.amount_off_set = p->amount_off_set;
		f.amount_off = p->amount_off_cents;
		f.percent_off_bp = p->percent_off_bp;
		f.budget_set = p->budget_set;
		f.budget = p->budget_cents;
		f.budget_taken = res->promo_budget_taken;
		reason = promo_refusal(&f, sale->at, call->lines_total);
		if (reason == NULL)
		{
			if (!promo_discount(&f, call->lines_total, &call->discount))
				benefit_money_out_of_range("discount");
			call->promo_applied = true;
			call->promo_id = p->id;
			call->promo_code = copy_text(call, p->code);
		}
	}
	if (!call->promo_applied)
		price_add_refusal(call->refusals, &call->nrefusals, 0, 0, NULL, copy_text(call, trimmed), reason);
}

/*
 * Each line's choice (quotas in line order), the refusals of what was not
 * applied, then the lines after their benefits.
 */
static void
price_lines(PriceCall *call)
{
	price_choose(call->lines, call->benefits, call->cands, call->ncands, call->perf_used, call->nperf_used,
				 MemoryContextAllocZero(call->cxt, sizeof(PricePerfLeft) * Max(call->ncands, 1)),
				 call->refusals, &call->nrefusals);
	price_refuse_untried(call->benefits, call->ok, call->nok, call->refusals, &call->nrefusals);
	price_code_units(call->benefits, call->nbenefits, call->refusals, &call->nrefusals);

	/* the lines after benefits */
	call->amounts = MemoryContextAlloc(call->cxt, sizeof(int64) * Max(call->nlines, 1));
	call->parts = MemoryContextAlloc(call->cxt, sizeof(int64) * Max(call->nlines, 1));
	if (!price_line_amounts(call->lines, call->nlines, call->cands, call->amounts, &call->lines_total))
		benefit_money_out_of_range("line amount");
}

/* benefit_price_run on the cache (see the file header). */
static void
price_run_cached(const BenefitConfig *cfg, const PriceInput *in, PriceCall *call, PriceSale *sale)
{
	BenefitSale checked;
	EligInput	ein;
	EligBuyer	buyer;
	EligResult	res;
	const CfgBenefit **cbs;
	char	   *trimmed;

	/*
	 * The references first, as every runtime call checks them: a NULL
	 * channel is 22004, an unknown channel or point of sale, or a point of
	 * sale of another channel, 22023, an unknown contact P0002.
	 */
	benefit_check_sale_refs(cfg, in->channel, in->channel_null, in->point_of_sale, in->point_of_sale_null, true,
							&checked);
	sale->channel_id = checked.channel_id;
	memset(&ein, 0, sizeof(ein));
	ein.cfg = cfg;
	ein.contact_null = sale->contact_null;
	ein.contact_id = sale->contact_id;
	ein.channel_id = checked.channel_id;
	ein.web = checked.channel_web;
	ein.pos_null = checked.point_of_sale_null;
	ein.pos_id = checked.point_of_sale_id;
	ein.at = sale->at;
	if (!in->codes_null &&
		ArrayGetNItems(ARR_NDIM(DatumGetArrayTypeP(in->codes)), ARR_DIMS(DatumGetArrayTypeP(in->codes))) <= 100)
		ein.nentered = benefit_entered_codes(in->codes, in->codes_null, &ein.entered);
	ein.promo = promo_typed(cfg, in, &trimmed);
	elig_read_buyer(&ein, &buyer);
	if (!buyer.contact_exists)
		benefit_refuse_contact(sale->contact_id);

	/* the lines, checked against the catalogue */
	basket_read_lines(in->lines, in->lines_null, call);
	basket_check_lines(call);
	benefit_check_code_count(in->codes, in->codes_null);

	/* the usable benefits, each line's candidates, the choice */
	find_usable_cached(call, &ein, &buyer, &cbs, &res);
	if (call->nok > 0)
		find_candidates_cached(call, cbs);
	price_lines(call);

	/* then the promo code on the whole basket, allocated to the cent */
	apply_promo_cached(call, sale, ein.promo, trimmed, &buyer, &res);
	if (!bm_allocate(call->discount, call->amounts, (size_t) call->nlines, call->parts))
		benefit_money_out_of_range("discount");
}

/*
 * Prices a basket into call (the caller is connected to SPI, call->cxt
 * set): the sale's references, the lines, the usable benefits, each line's
 * choice, then the promo code on the whole basket, allocated to the cent.
 */
void
benefit_price_run(const PriceInput *in, PriceCall *call)
{
	PriceSale	sale;
	BenefitSale checked;
	const BenefitConfig *cfg;

	sale.contact_null = in->contact_null;
	sale.contact_id = in->contact_null ? 0 : in->contact_id;
	sale.at = in->at;
	cfg = benefit_config_pin();
	if (cfg != NULL)
	{
		price_run_cached(cfg, in, call, &sale);
		benefit_config_unpin();
		return;
	}
	benefit_plans_get(&plans, internal_schema(), make_plans);

	/*
	 * The references first, as every runtime call checks them (sale.c): a
	 * NULL channel is 22004, an unknown channel or point of sale, or a point
	 * of sale of another channel, 22023, an unknown contact P0002.
	 */
	benefit_check_sale(in->channel, in->channel_null, in->point_of_sale, in->point_of_sale_null,
					   Int64GetDatum(sale.contact_id), sale.contact_null, true, true, &checked);
	sale.channel_id = checked.channel_id;

	/* the lines, checked against the catalogue */
	basket_read_lines(in->lines, in->lines_null, call);
	basket_check_lines(call);

	/* the usable benefits, each line's candidates, the choice */
	find_usable(in, call, &sale);
	if (call->nok > 0)
		find_candidates(call);
	price_lines(call);

	/* then the promo code on the whole basket, allocated to the cent */
	if (!in->promo_code_null)
		apply_promo(in->promo_code, call, &sale);
	if (!bm_allocate(call->discount, call->amounts, (size_t) call->nlines, call->parts))
		benefit_money_out_of_range("discount");
}

/*
 * benefit_price_run with the throttling of wrong code entries (see
 * pricing.h); a buyer is known by the contact or the client key.
 */
void
benefit_price_guarded(const PriceInput *in, PriceCall *call)
{
	bool		keyed = !in->contact_null || in->client_key != NULL;
	char	  **entered;
	int			nentered = benefit_entered_codes(in->codes, in->codes_null, &entered);

	if (keyed && nentered > 0 &&
		benefit_throttle_check(!in->contact_null, in->contact_id, in->client_key))
	{
		PriceInput	blind = *in;

		blind.codes_null = true;
		blind.codes = (Datum) 0;
		benefit_price_run(&blind, call);
		call->refusals = repalloc(call->refusals, sizeof(PriceRefusal) * (call->nrefusals + nentered));
		for (int i = 0; i < nentered; i++)
			price_add_refusal(call->refusals, &call->nrefusals, 0, 0, NULL,
							  MemoryContextStrdup(call->cxt, entered[i]), "throttled");
	}
	else
	{
		int			unknown = 0;

		benefit_price_run(in, call);
		for (int k = 0; k < call->nrefusals; k++)
			if (strcmp(call->refusals[k].reason, "unknown_code") == 0)
				unknown++;
		if (keyed && unknown > 0)
			benefit_throttle_count(!in->contact_null, in->contact_id, in->client_key, unknown);
	}
}

/* The arguments (lines, contact_id, channel, point_of_sale, at, codes, promo_code[, client_key]). */
static void
read_input(FunctionCallInfo fcinfo, bool keyed, PriceInput *in)
{
	in->lines = PG_ARGISNULL(0) ? (Datum) 0 : PG_GETARG_DATUM(0);
	in->lines_null = PG_ARGISNULL(0);
	in->contact_null = PG_ARGISNULL(1);
	in->contact_id = in->contact_null ? 0 : PG_GETARG_INT64(1);
	in->channel = PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2);
	in->channel_null = PG_ARGISNULL(2);
	in->point_of_sale = PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3);
	in->point_of_sale_null = PG_ARGISNULL(3);
	in->at = PG_ARGISNULL(4) ? GetCurrentTimestamp() : PG_GETARG_TIMESTAMPTZ(4);	/* the call's instant */
	in->codes = PG_ARGISNULL(5) ? (Datum) 0 : PG_GETARG_DATUM(5);
	in->codes_null = PG_ARGISNULL(5);
	in->promo_code = PG_ARGISNULL(6) ? (Datum) 0 : PG_GETARG_DATUM(6);
	in->promo_code_null = PG_ARGISNULL(6);
	in->client_key = keyed && !PG_ARGISNULL(7) ? PG_GETARG_TEXT_PP(7) : NULL;
}

/*
 * The SQL forms below run with pg_catalog as the only schema searched,
 * pushed here (no SET clause: a GUC change on every call).
 */
static void
price_sql(FunctionCallInfo fcinfo, bool guarded, PriceCall *call)
{
	PriceInput	in;

	call->cxt = CurrentMemoryContext;
	read_input(fcinfo, guarded, &in);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	benefit_push_search_path();
	if (guarded)
		benefit_price_guarded(&in, call);
	else
		benefit_price_run(&in, call);
	benefit_pop_search_path();
	SPI_finish();
}

PG_FUNCTION_INFO_V1(benefit_price);

/*
 * price(lines, contact_id, channel, point_of_sale, at, codes, promo_code,
 *       OUT result priced_basket, OUT uses jsonb, OUT promo_id bigint)
 */
Datum
benefit_price(PG_FUNCTION_ARGS)
{
	PriceCall	call = {0};
	BasketTypes types;

	basket_types(fcinfo, &types);
	price_sql(fcinfo, false, &call);
	PG_RETURN_DATUM(basket_result(&types, &call));
}

PG_FUNCTION_INFO_V1(benefit_price_basket);

/*
 * benefit.price_basket(lines, contact_id, channel, point_of_sale, at,
 *                      codes, promo_code, client_key) RETURNS priced_basket:
 * in C from the call to the result.
 */
Datum
benefit_price_basket(PG_FUNCTION_ARGS)
{
	PriceCall	call = {0};
	BasketTypes types;
	TupleDesc	resdesc;

	if (get_call_result_type(fcinfo, NULL, &resdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "benefit.price_basket must return a composite type");
	basket_types_of(resdesc->tdtypeid, &types);
	price_sql(fcinfo, true, &call);
	PG_RETURN_DATUM(basket_priced(&types, &call, "ok", (Datum) 0, false, 0));
}
