/*-------------------------------------------------------------------------
 *
 * pricing.c
 *		Basket pricing: benefit.price (the pricing of price_basket and hold)
 *		and SQL-callable wrappers of the pure-C money arithmetic (money.c):
 *		the unit price of a tariff row, a basket discount, and its
 *		allocation across lines to the cent.
 *
 * Percentages arrive as basis points (hundredths of a percent): the tables
 * allow at most two decimals, so percent_off * 100 is exact.  An amount
 * outside what money.c handles is a 22003 error, never a wrong price.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "glue.h"
#include "money.h"
#include "sale.h"

static void
out_of_range(const char *what)
{
	ereport(ERROR,
			errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			errmsg("%s out of range", what),
			errdetail("Amounts must be between 0 and %lld cents, percentages between 0 and 100.",
					  (long long) BM_MAX_CENTS));
}

PG_FUNCTION_INFO_V1(benefit_money_unit_price);

/*
 * money_unit_price(base_cents, price_cents, amount_off_cents, percent_off_bp):
 * the unit price a tariff row gives; exactly one of the last three is set.
 */
Datum
benefit_money_unit_price(PG_FUNCTION_ARGS)
{
	int64		base;
	int64		out;
	BMForm		form;
	int64		value;
	int			set = 0;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	base = PG_GETARG_INT64(0);
	for (int i = 1; i <= 3; i++)
		if (!PG_ARGISNULL(i))
			set++;
	if (set != 1)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("exactly one of price_cents, amount_off_cents and percent_off_bp must be set"));
	if (!PG_ARGISNULL(1))
	{
		form = BM_FIXED_PRICE;
		value = PG_GETARG_INT64(1);
	}
	else if (!PG_ARGISNULL(2))
	{
		form = BM_AMOUNT_OFF;
		value = PG_GETARG_INT64(2);
	}
	else
	{
		form = BM_PERCENT_OFF;
		value = PG_GETARG_INT64(3);
	}
	if (!bm_unit_price(base, form, value, &out))
		out_of_range("price");
	PG_RETURN_INT64(out);
}

PG_FUNCTION_INFO_V1(benefit_money_basket_discount);

/*
 * money_basket_discount(total_cents, amount_off_cents, percent_off_bp): a
 * promo code's discount on a basket total, never more than the total.
 */
Datum
benefit_money_basket_discount(PG_FUNCTION_ARGS)
{
	int64		out;
	bool		ok;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	if (PG_ARGISNULL(1) == PG_ARGISNULL(2))
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("exactly one of amount_off_cents and percent_off_bp must be set"));
	if (!PG_ARGISNULL(1))
		ok = bm_basket_discount(PG_GETARG_INT64(0), BM_AMOUNT_OFF, PG_GETARG_INT64(1), &out);
	else
		ok = bm_basket_discount(PG_GETARG_INT64(0), BM_PERCENT_OFF, PG_GETARG_INT64(2), &out);
	if (!ok)
		out_of_range("discount");
	PG_RETURN_INT64(out);
}

PG_FUNCTION_INFO_V1(benefit_money_allocate);

/*
 * money_allocate(discount_cents, weights bigint[]) -> bigint[]: the discount
 * split across lines in proportion to the weights (line amounts), largest
 * remainder first, ties to the earlier line; the parts add up exactly.
 */
Datum
benefit_money_allocate(PG_FUNCTION_ARGS)
{
	int64		discount;
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int64	   *weights;
	int64	   *parts;
	Datum	   *out;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	discount = PG_GETARG_INT64(0);
	arr = PG_GETARG_ARRAYTYPE_P(1);
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				errmsg("weights must be a one-dimensional array"));
	deconstruct_array(arr, INT8OID, sizeof(int64), true, TYPALIGN_DOUBLE, &elems, &nulls, &n);
	weights = palloc(sizeof(int64) * Max(n, 1));
	parts = palloc(sizeof(int64) * Max(n, 1));
	out = palloc(sizeof(Datum) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					errmsg("weights must not contain NULL"));
		weights[i] = DatumGetInt64(elems[i]);
	}
	if (!bm_allocate(discount, weights, (size_t) n, parts))
		ereport(ERROR,
				errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				errmsg("cannot allocate a discount of " INT64_FORMAT " cents", discount),
				errdetail("The discount must be between 0 and the sum of the weights, every weight between 0 and %lld.",
						  (long long) BM_MAX_CENTS));
	for (int i = 0; i < n; i++)
		out[i] = Int64GetDatum(parts[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(out, n, INT8OID, sizeof(int64), true, TYPALIGN_DOUBLE));
}

/*
 * ------------------------------------------------------------------------
 * benefit.price: the pricing of price_basket and hold.
 *
 * Reads through kept SPI plans (eligibility and the quota figures of the
 * usable benefits in one statement, the tariff rows of the usable benefits
 * for the basket's products in another, then the promo code), matches each
 * line to each benefit's most specific row and chooses in C with the money
 * arithmetic of money.c, and returns (result benefit.priced_basket, uses
 * jsonb, promo_id bigint).  The rules are those of README "Pricing rules":
 * per line the cheapest usable tariff (then the lower benefit id) that fits
 * the quotas left, in line order; then the promo code on the whole basket,
 * allocated to the cent.
 * ------------------------------------------------------------------------
 */

#define PRICE_MAX_LINES		200
#define PRICE_MAX_QUANTITY	1000
#define PRICE_MAX_BASE		INT64CONST(100000000000)

/* One usable (or refused) benefit of the eligibility step. */
typedef struct PriceBenefit
{
	int64		id;
	char	   *code;			/* benefit code, NULL for an unknown entered code */
	char	   *entered;		/* the code text that unlocked it, or NULL */
	char	   *su_code;		/* a single-use code entered for it, or NULL */
	const char *reason;			/* "ok" or the refusal */
	int64		perf_quota;		/* quota_per_performance, -1 for none */
	int64		left;			/* total quota and per-order limit left, -1 for no limit */
	int64		cleft;			/* the contact's limit left, -1 for no limit */
	bool		tried;			/* had a tariff row for some line */
} PriceBenefit;

/* One (line, usable benefit) pair with the benefit's most specific tariff row. */
typedef struct PriceCandidate
{
	int			line;			/* 0-based */
	int			benefit;		/* index in the PriceBenefit array */
	int64		tariff_id;
	int64		unit;
} PriceCandidate;

/* One tariff row of a usable benefit for a product of the basket. */
typedef struct PriceTariff
{
	int			benefit;		/* index in the PriceBenefit array */
	int64		product_id;
	int64		tariff_id;
	BMForm		form;
	int64		value;
} PriceTariff;

/* One basket line. */
typedef struct PriceLine
{
	int64		product_id;
	BMDims		dims;			/* performance, seat category, audience (any: not given) */
	int32		quantity;
	int64		base;
	bool		base_null;		/* no base price given: the catalogue's */
	int			chosen;			/* candidate index, -1 for none */
	int64		amount;
} PriceLine;

/* A refusal, built as the choice goes. */
typedef struct PriceRefusal
{
	int			line;			/* 1-based, 0 for none */
	int64		benefit_id;		/* 0 for none */
	const char *benefit_code;
	const char *entered;
	const char *reason;
} PriceRefusal;

/* Per-performance units left of a benefit, looked up once per call. */
typedef struct PricePerfLeft
{
	int64		benefit_id;
	int64		performance_id;
	int64		left;
} PricePerfLeft;

static SPIPlanPtr plan_line_check;
static SPIPlanPtr plan_eligible;
static bool plan_eligible_internal;	/* plan_eligible names benefit_internal */
static SPIPlanPtr plan_candidates;
static SPIPlanPtr plan_perf_used;
static SPIPlanPtr plan_promo;

static void
price_prepare_plans(void)
{
	Oid			t_check[4] = {INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID};
	Oid			t_elig[6] = {INT8OID, TEXTOID, TEXTOID, TIMESTAMPTZOID, TEXTARRAYOID, INT8OID};
	Oid			t_cand[5] = {INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID};
	Oid			t_perf[2] = {INT8OID, INT8OID};
	Oid			t_promo[4] = {TEXTOID, INT8OID, INT8OID, TIMESTAMPTZOID};
	bool		internal;

	/*
	 * who may use what, with the quota figures of each usable benefit.
	 * eligibility is in schema benefit_internal from 0.3.0 on, in benefit in
	 * a database not yet updated: the library serves both, and a session that
	 * priced before ALTER EXTENSION benefit UPDATE moved it prepares the
	 * statement again (its kept plan names the old schema).
	 */
	internal = OidIsValid(get_namespace_oid("benefit_internal", true));
	if (plan_eligible != NULL && plan_eligible_internal != internal)
	{
		SPI_freeplan(plan_eligible);
		plan_eligible = NULL;
	}
	if (plan_eligible == NULL)
	{
		plan_eligible = benefit_keep_plan(psprintf(
			"SELECT e.benefit_id, e.entered_code, e.single_use_code::pg_catalog.text, e.reason::pg_catalog.text, "
			"       b.code, b.quota_per_performance, "
			"       LEAST(b.quota_total - (SELECT pg_catalog.sum(ct.held + ct.used) FROM benefit.counter ct "
			"                               WHERE ct.kind = 'benefit_slot' AND ct.owner_id = b.benefit_id), "
			"             b.quota_per_order), "
			"       b.quota_per_contact - COALESCE((SELECT ct.held + ct.used FROM benefit.counter ct "
			"                                        WHERE ct.kind = 'benefit_contact' AND ct.owner_id = b.benefit_id "
			"                                          AND ct.key = $6), 0) "
			"  FROM %s.eligibility($1, $2, $3, $4, $5) e "
			"  LEFT JOIN benefit.benefit b ON b.benefit_id = e.benefit_id",
			internal ? "benefit_internal" : "benefit"),
			6, t_elig);
		plan_eligible_internal = internal;
	}

	/*
	 * Once per backend: the parameters are built-in types, and the plan
	 * cache re-plans the statements itself when the tables change (or the
	 * extension is created anew).
	 */
	if (plan_promo != NULL)
		return;

	/*
	 * for every line: does the product exist; its most specific catalogue
	 * price; the product of its performance (NULL: no such performance);
	 * do its seat category and audience exist
	 */
	plan_line_check = benefit_keep_plan(
		"SELECT l.ord, EXISTS (SELECT 1 FROM benefit.product p WHERE p.product_id = l.product_id), "
		"       (SELECT bp.price_cents FROM benefit.base_price bp "
		"         WHERE bp.product_id = l.product_id "
		"           AND (bp.performance_id IS NULL OR bp.performance_id = l.performance_id) "
		"           AND (bp.seat_category_id IS NULL OR bp.seat_category_id = l.seat_category_id) "
		"           AND (bp.audience_id IS NULL OR bp.audience_id = l.audience_id) "
		"         ORDER BY (bp.performance_id IS NOT NULL)::pg_catalog.int4 "
		"                  + (bp.seat_category_id IS NOT NULL)::pg_catalog.int4 "
		"                  + (bp.audience_id IS NOT NULL)::pg_catalog.int4 DESC, bp.base_price_id "
		"         LIMIT 1), "
		"       (SELECT pf.product_id FROM benefit.performance pf WHERE pf.performance_id = l.performance_id), "
		"       l.seat_category_id IS NULL OR EXISTS (SELECT 1 FROM benefit.seat_category sc "
		"                                              WHERE sc.seat_category_id = l.seat_category_id), "
		"       l.audience_id IS NULL OR EXISTS (SELECT 1 FROM benefit.audience a WHERE a.audience_id = l.audience_id) "
		"  FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), pg_catalog.unnest($3), "
		"                  pg_catalog.unnest($4)) WITH ORDINALITY "
		"       AS l (product_id, performance_id, seat_category_id, audience_id, ord) "
		" ORDER BY l.ord",
		4, t_check);

	/*
	 * every tariff row of the usable benefits for the basket's products, by
	 * benefit and product in tariff id order; C picks each line's row
	 */
	plan_candidates = benefit_keep_plan(
		"SELECT bt.benefit_id, bt.product_id, bt.tariff_id, bt.performance_id, bt.seat_category_id, "
		"       bt.audience_id, bt.price_cents, bt.amount_off_cents, (bt.percent_off * 100)::pg_catalog.int8 "
		"  FROM benefit.benefit_tariff bt "
		" WHERE bt.benefit_id = ANY ($1) AND bt.product_id = ANY ($2) "
		"   AND (bt.performance_id IS NULL OR bt.performance_id = ANY ($3)) "
		"   AND (bt.seat_category_id IS NULL OR bt.seat_category_id = ANY ($4)) "
		"   AND (bt.audience_id IS NULL OR bt.audience_id = ANY ($5)) "
		" ORDER BY bt.benefit_id, bt.product_id, bt.tariff_id",
		5, t_cand);

	plan_perf_used = benefit_keep_plan(
		"SELECT COALESCE((SELECT ct.held + ct.used FROM benefit.counter ct "
		"                  WHERE ct.kind = 'benefit_performance' AND ct.owner_id = $1 AND ct.key = $2), 0)",
		2, t_perf);

	/* the promo code and every figure its conditions need */
	plan_promo = benefit_keep_plan(
		"SELECT pc.promo_code_id, pc.code, pc.is_active, "
		"       pc.valid_from IS NOT NULL AND pc.valid_from > $4, "
		"       pc.valid_until IS NOT NULL AND pc.valid_until <= $4, "
		"       pc.all_channels OR EXISTS (SELECT 1 FROM benefit.promo_code_channel pcc "
		"                                   WHERE pcc.promo_code_id = pc.promo_code_id AND pcc.channel_id = $3), "
		"       pc.indicator_level_id IS NULL OR EXISTS (SELECT 1 FROM benefit.contact_indicator ci "
		"                                                 WHERE ci.contact_id = $2 AND ci.level_id = pc.indicator_level_id), "
		"       pc.max_uses_per_contact, pc.max_uses_total, "
		"       COALESCE((SELECT pg_catalog.sum(ct.held + ct.used) FROM benefit.counter ct "
		"                  WHERE ct.kind = 'promo_slot' AND ct.owner_id = pc.promo_code_id), 0)::pg_catalog.int8, "
		"       COALESCE((SELECT ct.held + ct.used FROM benefit.counter ct "
		"                  WHERE ct.kind = 'promo_contact' AND ct.owner_id = pc.promo_code_id AND ct.key = $2), 0)::pg_catalog.int8, "
		"       pc.min_basket_cents, pc.amount_off_cents, (pc.percent_off * 100)::pg_catalog.int8 "
		"  FROM benefit.promo_code pc WHERE pg_catalog.lower(pc.code) = pg_catalog.lower(pg_catalog.btrim($1))",
		4, t_promo);
}

/* Column n of row r of the last SPI result as int8; *isnull set. */
static int64
spi_int8(int r, int n, bool *isnull)
{
	Datum		d = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, n, isnull);

	return *isnull ? 0 : DatumGetInt64(d);
}

/* Column n of row r of the last SPI result as bool (false for NULL). */
static bool
spi_bool(int r, int n)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, n, &isnull);

	return !isnull && DatumGetBool(d);
}

/* Column n of row r of the last SPI result as a string in cxt, or NULL. */
static char *
spi_str(int r, int n, MemoryContext cxt)
{
	char	   *v = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, n);

	return v == NULL ? NULL : MemoryContextStrdup(cxt, v);
}

/* Orders candidates by line, then unit price, then benefit id. */
static int
candidate_cmp(const void *a, const void *b, void *arg)
{
	const PriceCandidate *x = a;
	const PriceCandidate *y = b;
	const PriceBenefit *benefits = arg;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->unit != y->unit)
		return x->unit < y->unit ? -1 : 1;
	if (benefits[x->benefit].id != benefits[y->benefit].id)
		return benefits[x->benefit].id < benefits[y->benefit].id ? -1 : 1;
	return 0;
}

/* Appends a refusal. */
static void
add_refusal(PriceRefusal *refusals, int *n, int line, int64 benefit_id, const char *benefit_code,
			const char *entered, const char *reason)
{
	refusals[*n].line = line;
	refusals[*n].benefit_id = benefit_id;
	refusals[*n].benefit_code = benefit_code;
	refusals[*n].entered = entered;
	refusals[*n].reason = reason;
	(*n)++;
}

/* An int8[] of n values (nulls where isnull[i]) for a statement parameter. */
static Datum
int8_array(const int64 *v, const bool *isnull, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));
	int			dims[1] = {n};
	int			lbs[1] = {1};

	for (int i = 0; i < n; i++)
		d[i] = Int64GetDatum(v[i]);
	return PointerGetDatum(construct_md_array(d, (bool *) isnull, 1, dims, lbs, INT8OID,
											  sizeof(int64), true, TYPALIGN_DOUBLE));
}

/* The product, performance, seat category and audience ids of the lines as four int8[] parameters. */
static void
line_ids_arrays(const PriceLine *lines, int n, Datum *args)
{
	int64	   *v = palloc(sizeof(int64) * n);
	bool	   *nl = palloc(sizeof(bool) * n);

	for (int i = 0; i < n; i++)
	{
		v[i] = lines[i].product_id;
		nl[i] = false;
	}
	args[0] = int8_array(v, nl, n);
	for (int i = 0; i < n; i++)
	{
		v[i] = lines[i].dims.performance_id;
		nl[i] = lines[i].dims.performance_any;
	}
	args[1] = int8_array(v, nl, n);
	for (int i = 0; i < n; i++)
	{
		v[i] = lines[i].dims.seat_category_id;
		nl[i] = lines[i].dims.seat_any;
	}
	args[2] = int8_array(v, nl, n);
	for (int i = 0; i < n; i++)
	{
		v[i] = lines[i].dims.audience_id;
		nl[i] = lines[i].dims.audience_any;
	}
	args[3] = int8_array(v, nl, n);
}

/* The enum value of benefit.reason for a label. */
static Datum
reason_datum(Oid reason_type, const char *label)
{
	return DirectFunctionCall2(enum_in, CStringGetDatum(label), ObjectIdGetDatum(reason_type));
}

/* Builds a one-dimensional array of composite values of type typid. */
static Datum
composite_array(Datum *elems, int n, Oid typid)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;

	get_typlenbyvalalign(typid, &typlen, &typbyval, &typalign);
	if (n == 0)
		return PointerGetDatum(construct_empty_array(typid));
	return PointerGetDatum(construct_array(elems, n, typid, typlen, typbyval, typalign));
}

PG_FUNCTION_INFO_V1(benefit_price);

/*
 * price(lines, contact_id, channel, point_of_sale, at, codes, promo_code,
 *       OUT result priced_basket, OUT uses jsonb, OUT promo_id bigint)
 */
Datum
benefit_price(PG_FUNCTION_ARGS)
{
	MemoryContext callercxt = CurrentMemoryContext;
	TupleDesc	resdesc;
	TupleDesc	basketdesc;
	TupleDesc	linedesc;
	TupleDesc	refusaldesc;
	TupleDesc	inlinedesc;
	Oid			basket_type;
	Oid			line_type;
	Oid			refusal_type;
	Oid			reason_type;
	Oid			inline_type;
	ArrayType  *lines_arr;
	Datum	   *elems;
	bool	   *elemnulls;
	int			n;
	int16		typlen;
	bool		typbyval;
	char		typalign;
	bool		contact_null = PG_ARGISNULL(1);
	int64		contact_id = contact_null ? 0 : PG_GETARG_INT64(1);
	TimestampTz at = PG_ARGISNULL(4) ? GetCurrentTransactionStartTimestamp() : PG_GETARG_TIMESTAMPTZ(4);
	int64		channel_id;
	PriceLine  *lines;
	PriceBenefit *benefits = NULL;
	int			nbenefits = 0;
	int		   *ok = NULL;			/* indexes of the usable benefits, first row per benefit id */
	int			nok = 0;
	PriceCandidate *cands = NULL;
	int			ncands = 0;
	PriceRefusal *refusals;
	int			nrefusals = 0;
	int			maxrefusals;
	PricePerfLeft *perf = NULL;
	int			nperf = 0;
	int64		base_total = 0;
	int64		lines_total = 0;
	int64		discount = 0;
	int64	   *amounts;
	int64	   *parts;
	bool		promo_applied = false;
	int64		promo_id = 0;
	char	   *promo_code = NULL;
	BenefitSale sale;
	Datum		args[6];
	char		argnulls[6];
	bool		isnull;
	int			ret;
	StringInfoData uses;
	Datum	   *line_datums;
	Datum	   *refusal_datums;
	Datum		basket_values[10];
	bool		basket_nulls[10];
	Datum		result_values[3];
	bool		result_nulls[3];

	/* the result types, from the function's own declaration */
	if (get_call_result_type(fcinfo, NULL, &resdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "benefit.price must return a composite type");
	resdesc = BlessTupleDesc(resdesc);
	basket_type = TupleDescAttr(resdesc, 0)->atttypid;
	basketdesc = lookup_rowtype_tupdesc_copy(basket_type, -1);
	reason_type = TupleDescAttr(basketdesc, 0)->atttypid;
	line_type = get_element_type(TupleDescAttr(basketdesc, 1)->atttypid);
	refusal_type = get_element_type(TupleDescAttr(basketdesc, 2)->atttypid);
	if (!OidIsValid(line_type) || !OidIsValid(refusal_type))
		elog(ERROR, "benefit.priced_basket does not have the expected array columns");
	linedesc = lookup_rowtype_tupdesc_copy(line_type, -1);
	refusaldesc = lookup_rowtype_tupdesc_copy(refusal_type, -1);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	price_prepare_plans();

	/*
	 * The references first, as every runtime call checks them (sale.c): a
	 * NULL channel is 22004, an unknown channel or point of sale, or a point
	 * of sale of another channel, 22023, an unknown contact P0002.
	 */
	benefit_check_sale(PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2), PG_ARGISNULL(2),
					   PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3), PG_ARGISNULL(3),
					   Int64GetDatum(contact_id), contact_null, true, true, &sale);
	channel_id = sale.channel_id;

	/* the lines */
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("a basket needs at least one line"));
	lines_arr = PG_GETARG_ARRAYTYPE_P(0);
	inline_type = ARR_ELEMTYPE(lines_arr);
	get_typlenbyvalalign(inline_type, &typlen, &typbyval, &typalign);
	deconstruct_array(lines_arr, inline_type, typlen, typbyval, typalign, &elems, &elemnulls, &n);
	if (n == 0)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("a basket needs at least one line"));
	if (n > PRICE_MAX_LINES)
		ereport(ERROR,
				errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				errmsg("a basket has at most %d lines, not %d", PRICE_MAX_LINES, n));
	inlinedesc = lookup_rowtype_tupdesc_copy(inline_type, -1);
	lines = MemoryContextAllocZero(callercxt, sizeof(PriceLine) * n);
	for (int i = 0; i < n; i++)
	{
		PriceLine  *l = &lines[i];
		Datum		v[6];
		bool		nl[6];
		HeapTupleData tup;
		HeapTupleHeader th;

		if (elemnulls[i])
			ereport(ERROR,
					errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					errmsg("line %d: product_id and quantity are required", i + 1));
		th = DatumGetHeapTupleHeader(elems[i]);
		tup.t_len = HeapTupleHeaderGetDatumLength(th);
		ItemPointerSetInvalid(&tup.t_self);
		tup.t_tableOid = InvalidOid;
		tup.t_data = th;
		if (inlinedesc->natts != 6)
			elog(ERROR, "benefit.basket_line does not have the expected columns");
		heap_deform_tuple(&tup, inlinedesc, v, nl);
		if (nl[0] || nl[4])
			ereport(ERROR,
					errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					errmsg("line %d: product_id and quantity are required", i + 1));
		l->product_id = DatumGetInt64(v[0]);
		l->dims.performance_any = nl[1];
		l->dims.performance_id = nl[1] ? 0 : DatumGetInt64(v[1]);
		l->dims.seat_any = nl[2];
		l->dims.seat_category_id = nl[2] ? 0 : DatumGetInt64(v[2]);
		l->dims.audience_any = nl[3];
		l->dims.audience_id = nl[3] ? 0 : DatumGetInt64(v[3]);
		l->quantity = DatumGetInt32(v[4]);
		l->base_null = nl[5];
		l->base = nl[5] ? 0 : DatumGetInt64(v[5]);
		l->chosen = -1;
	}

	/* every line's references checked and catalogue price looked up in one statement */
	line_ids_arrays(lines, n, args);
	ret = SPI_execute_plan(plan_line_check, args, NULL, true, 0);
	if (ret != SPI_OK_SELECT || SPI_processed != (uint64) n)
		elog(ERROR, "checking the lines failed: %s", SPI_result_code_string(ret));
	for (int i = 0; i < n; i++)
	{
		PriceLine  *l = &lines[i];

		if (!spi_bool(i, 2))
			ereport(ERROR,
					errcode(ERRCODE_NO_DATA_FOUND),
					errmsg("line %d: product " INT64_FORMAT " does not exist", i + 1, l->product_id));
		if (!l->dims.performance_any)
		{
			int64		perf_product = spi_int8(i, 4, &isnull);

			if (isnull)
				ereport(ERROR,
						errcode(ERRCODE_NO_DATA_FOUND),
						errmsg("line %d: performance " INT64_FORMAT " does not exist",
							   i + 1, l->dims.performance_id));
			if (perf_product != l->product_id)
				ereport(ERROR,
						errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("line %d: performance " INT64_FORMAT " is not a performance of product " INT64_FORMAT,
							   i + 1, l->dims.performance_id, l->product_id),
						errdetail("Performance " INT64_FORMAT " is one of product " INT64_FORMAT ".",
								  l->dims.performance_id, perf_product));
		}
		if (!spi_bool(i, 5))
			ereport(ERROR,
					errcode(ERRCODE_NO_DATA_FOUND),
					errmsg("line %d: seat category " INT64_FORMAT " does not exist", i + 1, l->dims.seat_category_id));
		if (!spi_bool(i, 6))
			ereport(ERROR,
					errcode(ERRCODE_NO_DATA_FOUND),
					errmsg("line %d: audience " INT64_FORMAT " does not exist", i + 1, l->dims.audience_id));
		if (l->base_null)
		{
			l->base = spi_int8(i, 3, &isnull);
			if (isnull)
				ereport(ERROR,
						errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("line %d: no catalogue price for product " INT64_FORMAT " with this performance, seat category and audience",
							   i + 1, l->product_id),
						errhint("Pass base_price_cents, or add a row to benefit.base_price."));
		}
		if (l->quantity < 1 || l->quantity > PRICE_MAX_QUANTITY)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("line %d: quantity must be between 1 and %d, not %d", i + 1, PRICE_MAX_QUANTITY, l->quantity));
		if (l->base < 0 || l->base > PRICE_MAX_BASE)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("line %d: base_price_cents must be between 0 and 10^11, not " INT64_FORMAT, i + 1, l->base));
		base_total += l->base * l->quantity;	/* at most 200 x 10^14: no overflow */
	}
	SPI_freetuptable(SPI_tuptable);

	/* who may use what, with the quota figures of each usable benefit */
	args[0] = Int64GetDatum(contact_id);
	argnulls[0] = contact_null ? 'n' : ' ';
	args[1] = PG_GETARG_DATUM(2);
	argnulls[1] = ' ';
	args[2] = PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3);
	argnulls[2] = PG_ARGISNULL(3) ? 'n' : ' ';
	args[3] = TimestampTzGetDatum(at);
	argnulls[3] = ' ';
	args[4] = PG_ARGISNULL(5) ? (Datum) 0 : PG_GETARG_DATUM(5);
	argnulls[4] = PG_ARGISNULL(5) ? 'n' : ' ';
	args[5] = Int64GetDatum(contact_id);
	argnulls[5] = contact_null ? 'n' : ' ';
	ret = SPI_execute_plan(plan_eligible, args, argnulls, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "eligibility failed: %s", SPI_result_code_string(ret));
	nbenefits = (int) SPI_processed;
	benefits = MemoryContextAllocZero(callercxt, sizeof(PriceBenefit) * Max(nbenefits, 1));
	ok = MemoryContextAllocZero(callercxt, sizeof(int) * Max(nbenefits, 1));
	for (int r = 0; r < nbenefits; r++)
	{
		PriceBenefit *b = &benefits[r];
		char	   *reason = spi_str(r, 4, callercxt);
		bool		dup = false;

		b->id = spi_int8(r, 1, &isnull);
		b->entered = spi_str(r, 2, callercxt);
		b->su_code = spi_str(r, 3, callercxt);
		b->reason = reason;
		b->code = spi_str(r, 5, callercxt);
		b->perf_quota = spi_int8(r, 6, &isnull);
		if (isnull)
			b->perf_quota = -1;
		b->left = spi_int8(r, 7, &isnull);
		if (isnull)
			b->left = -1;
		else if (b->left < 0)
			b->left = 0;
		b->cleft = spi_int8(r, 8, &isnull);
		if (isnull)
			b->cleft = -1;
		else if (b->cleft < 0)
			b->cleft = 0;
		if (strcmp(reason, "ok") != 0)
			continue;
		for (int k = 0; k < nok; k++)
			if (benefits[ok[k]].id == b->id)
			{
				/* the same benefit twice (two codes of it): keep the first, its code too */
				if (benefits[ok[k]].su_code == NULL)
					benefits[ok[k]].su_code = b->su_code;
				if (benefits[ok[k]].entered == NULL)
					benefits[ok[k]].entered = b->entered;
				dup = true;
				break;
			}
		if (!dup)
			ok[nok++] = r;
	}
	SPI_freetuptable(SPI_tuptable);

	/* refusals: every eligibility refusal, up to 6 per (line, benefit), no_tariff, the promo code */
	maxrefusals = nbenefits * 2 + n * Max(nok, 1) + 2;
	refusals = MemoryContextAllocZero(callercxt, sizeof(PriceRefusal) * maxrefusals);
	for (int r = 0; r < nbenefits; r++)
		if (strcmp(benefits[r].reason, "ok") != 0)
			add_refusal(refusals, &nrefusals, 0, benefits[r].id, benefits[r].code, benefits[r].entered,
						benefits[r].reason);

	/* every tariff row of the usable benefits for the basket's products */
	if (nok > 0)
	{
		int64	   *okids = palloc(sizeof(int64) * nok);
		bool	   *nonulls = palloc0(sizeof(bool) * nok);
		int			nrows;
		PriceTariff *rows;
		BMDims	   *dims;
		int		   *run;
		int			nruns = 0;

		/* $2..$5: the lines' products, performances, seat categories, audiences */
		line_ids_arrays(lines, n, &args[1]);
		for (int k = 0; k < nok; k++)
			okids[k] = benefits[ok[k]].id;
		args[0] = int8_array(okids, nonulls, nok);
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
			int64		benefit_id = spi_int8(r, 1, &isnull);
			int64		price_cents;
			int64		amount_off;
			int64		percent_bp;
			bool		price_null;
			bool		amount_null;
			bool		percent_null;

			t->benefit = -1;
			for (int k = 0; k < nok; k++)
				if (benefits[ok[k]].id == benefit_id)
				{
					t->benefit = ok[k];
					break;
				}
			if (t->benefit < 0)
				elog(ERROR, "unexpected tariff row for benefit " INT64_FORMAT, benefit_id);
			t->product_id = spi_int8(r, 2, &isnull);
			t->tariff_id = spi_int8(r, 3, &isnull);
			dims[r].performance_id = spi_int8(r, 4, &dims[r].performance_any);
			dims[r].seat_category_id = spi_int8(r, 5, &dims[r].seat_any);
			dims[r].audience_id = spi_int8(r, 6, &dims[r].audience_any);
			price_cents = spi_int8(r, 7, &price_null);
			amount_off = spi_int8(r, 8, &amount_null);
			percent_bp = spi_int8(r, 9, &percent_null);
			if (!price_null)
			{
				t->form = BM_FIXED_PRICE;
				t->value = price_cents;
			}
			else if (!amount_null)
			{
				t->form = BM_AMOUNT_OFF;
				t->value = amount_off;
			}
			else
			{
				t->form = BM_PERCENT_OFF;
				t->value = percent_null ? 0 : percent_bp;
			}
		}
		SPI_freetuptable(SPI_tuptable);

		/* the runs of rows of one benefit and product: run k is rows[run[k]..run[k + 1]) */
		run = palloc(sizeof(int) * (nrows + 1));
		for (int r = 0; r < nrows; r++)
			if (r == 0 || rows[r].benefit != rows[r - 1].benefit || rows[r].product_id != rows[r - 1].product_id)
				run[nruns++] = r;
		run[nruns] = nrows;

		/*
		 * Each line against each run of its product: the run's most specific
		 * row that fits the line is a candidate.  A line has one product, so
		 * at most one run of each benefit fits it: at most nok candidates a
		 * line.
		 */
		cands = MemoryContextAllocZero(callercxt, mul_size(sizeof(PriceCandidate), (Size) n * nok));
		for (int i = 0; i < n; i++)
		{
			for (int k = 0; k < nruns; k++)
			{
				int			m;

				if (rows[run[k]].product_id != lines[i].product_id)
					continue;
				m = bm_match_tariff(&dims[run[k]], (size_t) (run[k + 1] - run[k]), &lines[i].dims);
				if (m < 0)
					continue;
				m += run[k];
				cands[ncands].line = i;
				cands[ncands].benefit = rows[m].benefit;
				cands[ncands].tariff_id = rows[m].tariff_id;
				if (!bm_unit_price(lines[i].base, rows[m].form, rows[m].value, &cands[ncands].unit))
					out_of_range("price");
				benefits[rows[m].benefit].tried = true;
				ncands++;
			}
		}
		qsort_arg(cands, ncands, sizeof(PriceCandidate), candidate_cmp, benefits);
	}

	/* the choice: cheapest first, the first that fits the quotas left wins the line */
	perf = MemoryContextAllocZero(callercxt, sizeof(PricePerfLeft) * Max(ncands, 1));
	for (int k = 0; k < ncands; k++)
	{
		PriceCandidate *c = &cands[k];
		PriceBenefit *b = &benefits[c->benefit];
		PriceLine  *l = &lines[c->line];
		PricePerfLeft *p = NULL;

		if (c->unit >= l->base)
		{
			add_refusal(refusals, &nrefusals, c->line + 1, b->id, b->code, b->entered, "price_not_lower");
			continue;
		}
		if (l->chosen >= 0)
		{
			add_refusal(refusals, &nrefusals, c->line + 1, b->id, b->code, b->entered, "not_best");
			continue;
		}
		if (b->left >= 0 && b->left < l->quantity)
		{
			add_refusal(refusals, &nrefusals, c->line + 1, b->id, b->code, b->entered, "quota_exhausted");
			continue;
		}
		if (b->cleft >= 0 && b->cleft < l->quantity)
		{
			add_refusal(refusals, &nrefusals, c->line + 1, b->id, b->code, b->entered, "contact_quota_exhausted");
			continue;
		}
		if (b->perf_quota >= 0 && !l->dims.performance_any)
		{
			for (int j = 0; j < nperf; j++)
				if (perf[j].benefit_id == b->id && perf[j].performance_id == l->dims.performance_id)
				{
					p = &perf[j];
					break;
				}
			if (p == NULL)
			{
				args[0] = Int64GetDatum(b->id);
				args[1] = Int64GetDatum(l->dims.performance_id);
				ret = SPI_execute_plan(plan_perf_used, args, NULL, true, 1);
				if (ret != SPI_OK_SELECT || SPI_processed != 1)
					elog(ERROR, "looking up a performance quota failed: %s", SPI_result_code_string(ret));
				p = &perf[nperf++];
				p->benefit_id = b->id;
				p->performance_id = l->dims.performance_id;
				p->left = b->perf_quota - spi_int8(0, 1, &isnull);
				SPI_freetuptable(SPI_tuptable);
			}
			if (p->left < l->quantity)
			{
				add_refusal(refusals, &nrefusals, c->line + 1, b->id, b->code, b->entered,
							"performance_quota_exhausted");
				continue;
			}
			p->left -= l->quantity;
		}
		if (b->left >= 0)
			b->left -= l->quantity;
		if (b->cleft >= 0)
			b->cleft -= l->quantity;
		l->chosen = k;
	}

	/* codes that unlocked a benefit with no tariff row for any line */
	for (int k = 0; k < nok; k++)
		if (benefits[ok[k]].entered != NULL && !benefits[ok[k]].tried)
			add_refusal(refusals, &nrefusals, 0, benefits[ok[k]].id, benefits[ok[k]].code,
						benefits[ok[k]].entered, "no_tariff");

	/* the lines after benefits */
	amounts = MemoryContextAlloc(callercxt, sizeof(int64) * n);
	parts = MemoryContextAlloc(callercxt, sizeof(int64) * n);
	for (int i = 0; i < n; i++)
	{
		int64		unit = lines[i].chosen >= 0 ? cands[lines[i].chosen].unit : lines[i].base;

		if (!bm_multiply(unit, lines[i].quantity, &amounts[i]))
			out_of_range("line amount");
		lines_total += amounts[i];
	}

	/* the promo code on the whole basket */
	if (!PG_ARGISNULL(6))
	{
		char	   *typed = TextDatumGetCString(PG_GETARG_DATUM(6));
		char	   *trimmed = typed + strspn(typed, " ");
		size_t		len = strlen(trimmed);

		while (len > 0 && trimmed[len - 1] == ' ')
			trimmed[--len] = '\0';
		if (len > 0)
		{
			const char *reason = "ok";

			args[0] = PG_GETARG_DATUM(6);
			args[1] = Int64GetDatum(contact_id);
			args[2] = Int64GetDatum(channel_id);
			args[3] = TimestampTzGetDatum(at);
			argnulls[0] = ' ';
			argnulls[1] = contact_null ? 'n' : ' ';
			argnulls[2] = ' ';
			argnulls[3] = ' ';
			ret = SPI_execute_plan(plan_promo, args, argnulls, true, 1);
			if (ret != SPI_OK_SELECT)
				elog(ERROR, "looking up the promo code failed: %s", SPI_result_code_string(ret));
			if (SPI_processed == 0)
				reason = "unknown_promo_code";
			else
			{
				int64		per_contact = spi_int8(0, 8, &isnull);
				bool		per_contact_null = isnull;
				int64		total = spi_int8(0, 9, &isnull);
				bool		total_null = isnull;
				int64		taken = spi_int8(0, 10, &isnull);
				int64		taken_by_contact = spi_int8(0, 11, &isnull);
				int64		min_basket = spi_int8(0, 12, &isnull);
				bool		amount_null;
				int64		amount_off = spi_int8(0, 13, &amount_null);
				int64		percent_bp = spi_int8(0, 14, &isnull);

				if (!spi_bool(0, 3))
					reason = "promo_not_active";
				else if (spi_bool(0, 4))
					reason = "not_yet_valid";
				else if (spi_bool(0, 5))
					reason = "expired";
				else if (!spi_bool(0, 6))
					reason = "wrong_channel";
				else if (!spi_bool(0, 7))
					reason = "indicator_level_required";
				else if (!per_contact_null && contact_null)
					reason = "contact_required";
				else if (!total_null && taken >= total)
					reason = "promo_limit_reached";
				else if (!per_contact_null && taken_by_contact >= per_contact)
					reason = "promo_contact_limit_reached";
				else if (lines_total < min_basket)
					reason = "min_amount_not_reached";
				else
				{
					bool		ok_discount;

					if (!amount_null)
						ok_discount = bm_basket_discount(lines_total, BM_AMOUNT_OFF, amount_off, &discount);
					else
						ok_discount = bm_basket_discount(lines_total, BM_PERCENT_OFF, percent_bp, &discount);
					if (!ok_discount)
						out_of_range("discount");
					promo_applied = true;
					promo_id = spi_int8(0, 1, &isnull);
					promo_code = spi_str(0, 2, callercxt);
				}
			}
			SPI_freetuptable(SPI_tuptable);
			if (!promo_applied)
				add_refusal(refusals, &nrefusals, 0, 0, NULL, MemoryContextStrdup(callercxt, trimmed), reason);
		}
	}
	if (!bm_allocate(discount, amounts, (size_t) n, parts))
		out_of_range("discount");

	SPI_finish();

	/* what a hold must reserve, line by line */
	initStringInfo(&uses);
	appendStringInfoChar(&uses, '[');
	for (int i = 0, first = 1; i < n; i++)
	{
		PriceBenefit *b;

		if (lines[i].chosen < 0)
			continue;
		b = &benefits[cands[lines[i].chosen].benefit];
		appendStringInfo(&uses, "%s{\"benefit_id\": " INT64_FORMAT ", \"units\": %d, \"performance_id\": ",
						 first ? "" : ", ", b->id, lines[i].quantity);
		if (b->perf_quota >= 0 && !lines[i].dims.performance_any)
			appendStringInfo(&uses, INT64_FORMAT, lines[i].dims.performance_id);
		else
			appendStringInfoString(&uses, "null");
		if (b->su_code != NULL)
			appendStringInfo(&uses, ", \"code\": \"%s\"}", b->su_code);	/* dddd-dddd-dddd-c: nothing to escape */
		else
			appendStringInfoString(&uses, ", \"code\": null}");
		first = 0;
	}
	appendStringInfoChar(&uses, ']');

	/* the priced lines */
	line_datums = palloc(sizeof(Datum) * n);
	for (int i = 0; i < n; i++)
	{
		PriceLine  *l = &lines[i];
		Datum		v[14];
		bool		nl[14] = {false};
		PriceCandidate *c = l->chosen >= 0 ? &cands[l->chosen] : NULL;

		v[0] = Int32GetDatum(i + 1);
		v[1] = Int64GetDatum(l->product_id);
		v[2] = Int64GetDatum(l->dims.performance_id);
		nl[2] = l->dims.performance_any;
		v[3] = Int64GetDatum(l->dims.seat_category_id);
		nl[3] = l->dims.seat_any;
		v[4] = Int64GetDatum(l->dims.audience_id);
		nl[4] = l->dims.audience_any;
		v[5] = Int32GetDatum(l->quantity);
		v[6] = Int64GetDatum(l->base);
		v[7] = Int64GetDatum(c ? c->unit : l->base);
		v[8] = c ? Int64GetDatum(benefits[c->benefit].id) : (Datum) 0;
		nl[8] = c == NULL;
		v[9] = c ? CStringGetTextDatum(benefits[c->benefit].code) : (Datum) 0;
		nl[9] = c == NULL;
		v[10] = c ? Int64GetDatum(c->tariff_id) : (Datum) 0;
		nl[10] = c == NULL;
		v[11] = Int64GetDatum(amounts[i]);
		v[12] = Int64GetDatum(parts[i]);
		v[13] = Int64GetDatum(amounts[i] - parts[i]);
		if (linedesc->natts != 14)
			elog(ERROR, "benefit.priced_line does not have the expected columns");
		line_datums[i] = HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(linedesc), v, nl));
	}

	/* the refusals */
	refusal_datums = palloc(sizeof(Datum) * Max(nrefusals, 1));
	for (int k = 0; k < nrefusals; k++)
	{
		PriceRefusal *r = &refusals[k];
		Datum		v[5];
		bool		nl[5] = {false};

		v[0] = Int32GetDatum(r->line);
		nl[0] = r->line == 0;
		v[1] = Int64GetDatum(r->benefit_id);
		nl[1] = r->benefit_id == 0;
		v[2] = r->benefit_code ? CStringGetTextDatum(r->benefit_code) : (Datum) 0;
		nl[2] = r->benefit_code == NULL;
		v[3] = r->entered ? CStringGetTextDatum(r->entered) : (Datum) 0;
		nl[3] = r->entered == NULL;
		v[4] = reason_datum(reason_type, r->reason);
		if (refusaldesc->natts != 5)
			elog(ERROR, "benefit.refusal does not have the expected columns");
		refusal_datums[k] = HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(refusaldesc), v, nl));
	}

	/* the basket, then (result, uses, promo_id) */
	memset(basket_nulls, false, sizeof(basket_nulls));
	basket_values[0] = reason_datum(reason_type, "ok");
	basket_values[1] = composite_array(line_datums, n, line_type);
	basket_values[2] = composite_array(refusal_datums, nrefusals, refusal_type);
	basket_values[3] = Int64GetDatum(base_total);
	basket_values[4] = Int64GetDatum(lines_total);
	basket_values[5] = promo_code ? CStringGetTextDatum(promo_code) : (Datum) 0;
	basket_nulls[5] = promo_code == NULL;
	basket_values[6] = Int64GetDatum(discount);
	basket_values[7] = Int64GetDatum(lines_total - discount);
	basket_nulls[8] = true;
	basket_nulls[9] = true;
	if (basketdesc->natts != 10)
		elog(ERROR, "benefit.priced_basket does not have the expected columns");

	result_values[0] = HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(basketdesc), basket_values, basket_nulls));
	result_nulls[0] = false;
	result_values[1] = DirectFunctionCall1(jsonb_in, CStringGetDatum(uses.data));
	result_nulls[1] = false;
	result_values[2] = Int64GetDatum(promo_id);
	result_nulls[2] = !promo_applied;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(resdesc, result_values, result_nulls)));
}
