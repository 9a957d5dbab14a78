/*-------------------------------------------------------------------------
 *
 * basket.c
 *		A basket in and out of benefit.price: the lines of a
 *		benefit.basket_line[] read and checked against the catalogue (does
 *		each reference exist, the catalogue price when none is given, the
 *		limits of a basket), and the result built from the pricing: the
 *		benefit.priced_basket with its priced lines and refusals, the uses
 *		a hold must reserve (jsonb) and the promo code applied.
 *
 * A basket has at most PRICE_MAX_LINES lines of 1 to PRICE_MAX_QUANTITY
 * units at a base price of 0 to PRICE_MAX_BASE cents, so that no sum of
 * amounts overflows.  The lines are checked against the catalogue of the
 * configuration cache (config.h): no table is read.  A database not yet
 * updated (no cache there) checks them in one kept statement.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

#include "basket.h"
#include "config.h"
#include "reason.h"
#include "spi_util.h"

#define PRICE_MAX_LINES		200
#define PRICE_MAX_QUANTITY	1000
#define PRICE_MAX_BASE		INT64CONST(100000000000)

static BenefitPlans plans;
static SPIPlanPtr plan_line_check;

/* Prepares the statement of this file (the plan rule of spi_util.h). */
static void
make_plans(BenefitPlans *set, Oid made_for)
{
	Oid			t_check[4] = {INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID};

	/*
	 * for every line: does the product exist; its most specific catalogue
	 * price; the product of its performance (NULL: no such performance);
	 * do its seat category and audience exist
	 */
	plan_line_check = benefit_plans_keep(set,
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
}

/*
 * Looks up the types of a benefit.priced_basket (basket_type) and of its
 * lines and refusals; types->result stays NULL.
 */
void
basket_types_of(Oid basket_type, BasketTypes *types)
{
	types->result = NULL;
	types->basket = lookup_rowtype_tupdesc_copy(basket_type, -1);
	types->reason_type = TupleDescAttr(types->basket, 0)->atttypid;
	types->line_type = get_element_type(TupleDescAttr(types->basket, 1)->atttypid);
	types->refusal_type = get_element_type(TupleDescAttr(types->basket, 2)->atttypid);
	if (!OidIsValid(types->line_type) || !OidIsValid(types->refusal_type))
		elog(ERROR, "benefit.priced_basket does not have the expected array columns");
	types->line = lookup_rowtype_tupdesc_copy(types->line_type, -1);
	types->refusal = lookup_rowtype_tupdesc_copy(types->refusal_type, -1);
}

/* Looks up the types of benefit.price's result from the function's own declaration. */
void
basket_types(FunctionCallInfo fcinfo, BasketTypes *types)
{
	TupleDesc	resdesc;

	if (get_call_result_type(fcinfo, NULL, &resdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "benefit.price must return a composite type");
	basket_types_of(TupleDescAttr(resdesc, 0)->atttypid, types);
	types->result = BlessTupleDesc(resdesc);
}

/* Reads one benefit.basket_line (elem, of tuple descriptor desc) into l; i is its 0-based index. */
static void
read_line(Datum elem, TupleDesc desc, int i, PriceLine *l)
{
	Datum		v[6];
	bool		nl[6];
	HeapTupleData tup;
	HeapTupleHeader th = DatumGetHeapTupleHeader(elem);

	tup.t_len = HeapTupleHeaderGetDatumLength(th);
	ItemPointerSetInvalid(&tup.t_self);
	tup.t_tableOid = InvalidOid;
	tup.t_data = th;
	if (desc->natts != 6)
		elog(ERROR, "benefit.basket_line does not have the expected columns");
	heap_deform_tuple(&tup, desc, v, nl);
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

/*
 * Reads the lines of a benefit.basket_line[] into call->lines: 22023 for
 * no line, 54000 for too many, 22004 for a line without product or
 * quantity.
 */
void
basket_read_lines(Datum lines, bool lines_null, PriceCall *call)
{
	ArrayType  *arr;
	Oid			elemtype;
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *elems;
	bool	   *elemnulls;
	int			n;
	TupleDesc	desc;

	if (lines_null)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("a basket needs at least one line"));
	arr = DatumGetArrayTypeP(lines);
	elemtype = ARR_ELEMTYPE(arr);
	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	deconstruct_array(arr, elemtype, typlen, typbyval, typalign, &elems, &elemnulls, &n);
	if (n == 0)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("a basket needs at least one line"));
	if (n > PRICE_MAX_LINES)
		ereport(ERROR,
				errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				errmsg("a basket has at most %d lines, not %d", PRICE_MAX_LINES, n));
	desc = lookup_rowtype_tupdesc_copy(elemtype, -1);
	call->lines = MemoryContextAllocZero(call->cxt, sizeof(PriceLine) * n);
	call->nlines = n;
	for (int i = 0; i < n; i++)
	{
		if (elemnulls[i])
			ereport(ERROR,
					errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					errmsg("line %d: product_id and quantity are required", i + 1));
		read_line(elems[i], desc, i, &call->lines[i]);
	}
}

/* The product, performance, seat category and audience ids of the lines as four int8[] parameters. */
void
basket_line_id_arrays(const PriceLine *lines, int n, Datum *args)
{
	int64	   *v = palloc(sizeof(int64) * n);
	bool	   *nl = palloc(sizeof(bool) * n);

	for (int i = 0; i < n; i++)
	{
		v[i] = lines[i].product_id;
		nl[i] = false;
	}
	args[0] = benefit_int8_array(v, nl, n);
	for (int i = 0; i < n; i++)
	{
		v[i] = lines[i].dims.performance_id;
		nl[i] = lines[i].dims.performance_any;
	}
	args[1] = benefit_int8_array(v, nl, n);
	for (int i = 0; i < n; i++)
	{
		v[i] = lines[i].dims.seat_category_id;
		nl[i] = lines[i].dims.seat_any;
	}
	args[2] = benefit_int8_array(v, nl, n);
	for (int i = 0; i < n; i++)
	{
		v[i] = lines[i].dims.audience_id;
		nl[i] = lines[i].dims.audience_any;
	}
	args[3] = benefit_int8_array(v, nl, n);
}

/* What the catalogue says of one line. */
typedef struct LineFacts
{
	bool		product_exists;
	bool		price_null;		/* no catalogue price fits */
	int64		price;			/* the most specific one's */
	bool		perf_null;		/* no such performance */
	int64		perf_product;	/* the product of its performance */
	bool		seat_exists;	/* or none given */
	bool		audience_exists;	/* or none given */
} LineFacts;

/* Row i of the line check statement as the facts of its line. */
static void
statement_facts(int i, LineFacts *f)
{
	f->product_exists = col_bool(i, 2);
	f->price = col_int8(i, 3, &f->price_null);
	f->perf_product = col_int8(i, 4, &f->perf_null);
	f->seat_exists = col_bool(i, 5);
	f->audience_exists = col_bool(i, 6);
}

/*
 * The facts of line l from the cached catalogue; the catalogue price is the
 * first of its product's rows that fits (they are in the statement's order:
 * most dimensions set first, then by base_price_id).
 */
static void
cached_facts(const BenefitConfig *cfg, const PriceLine *l, LineFacts *f)
{
	const CfgProduct *p = cfg_product(cfg, l->product_id);
	const BMDims *d = &l->dims;

	f->product_exists = p != NULL;
	f->price_null = true;
	f->price = 0;
	for (int k = 0; p != NULL && k < p->nprices; k++)
	{
		const CfgBasePrice *bp = &p->prices[k];

		if ((bp->performance_any || (!d->performance_any && bp->performance_id == d->performance_id)) &&
			(bp->seat_any || (!d->seat_any && bp->seat_category_id == d->seat_category_id)) &&
			(bp->audience_any || (!d->audience_any && bp->audience_id == d->audience_id)))
		{
			f->price_null = false;
			f->price = bp->price_cents;
			break;
		}
	}
	f->perf_null = true;
	f->perf_product = 0;
	if (!d->performance_any)
	{
		const CfgPerformance *pf = cfg_performance(cfg, d->performance_id);

		f->perf_null = pf == NULL;
		f->perf_product = pf == NULL ? 0 : pf->product_id;
	}
	f->seat_exists = d->seat_any || cfg_has_id(cfg->seat_categories, cfg->nseats, d->seat_category_id);
	f->audience_exists = d->audience_any || cfg_has_id(cfg->audiences, cfg->naudiences, d->audience_id);
}

/*
 * Checks line i (0-based) against what the catalogue says of it (f): its
 * product, performance (of that product), seat category and audience
 * exist; takes the catalogue price when none was given; checks the
 * quantity and base price.
 */
static void
check_line(PriceLine *l, int i, const LineFacts *f)
{
	if (!f->product_exists)
		ereport(ERROR,
				errcode(ERRCODE_NO_DATA_FOUND),
				errmsg("line %d: product " INT64_FORMAT " does not exist", i + 1, l->product_id));
	if (!l->dims.performance_any)
	{
		if (f->perf_null)
			ereport(ERROR,
					errcode(ERRCODE_NO_DATA_FOUND),
					errmsg("line %d: performance " INT64_FORMAT " does not exist",
						   i + 1, l->dims.performance_id));
		if (f->perf_product != l->product_id)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("line %d: performance " INT64_FORMAT " is not a performance of product " INT64_FORMAT,
						   i + 1, l->dims.performance_id, l->product_id),
					errdetail("Performance " INT64_FORMAT " is one of product " INT64_FORMAT ".",
							  l->dims.performance_id, f->perf_product));
	}
	if (!f->seat_exists)
		ereport(ERROR,
				errcode(ERRCODE_NO_DATA_FOUND),
				errmsg("line %d: seat category " INT64_FORMAT " does not exist", i + 1, l->dims.seat_category_id));
	if (!f->audience_exists)
		ereport(ERROR,
				errcode(ERRCODE_NO_DATA_FOUND),
				errmsg("line %d: audience " INT64_FORMAT " does not exist", i + 1, l->dims.audience_id));
	if (l->base_null)
	{
		if (f->price_null)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("line %d: no catalogue price for product " INT64_FORMAT " with this performance, seat category and audience",
						   i + 1, l->product_id),
					errhint("Pass base_price_cents, or add a row to benefit.base_price."));
		l->base = f->price;
	}
	if (l->quantity < 1 || l->quantity > PRICE_MAX_QUANTITY)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("line %d: quantity must be between 1 and %d, not %d", i + 1, PRICE_MAX_QUANTITY, l->quantity));
	if (l->base < 0 || l->base > PRICE_MAX_BASE)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("line %d: base_price_cents must be between 0 and 10^11, not " INT64_FORMAT, i + 1, l->base));
}

/*
 * Checks every line's references and looks up its catalogue price (P0002
 * or 22023 for a bad line, in line order), on the cached catalogue, or in
 * one statement in a database not yet updated; sums the base prices into
 * call->base_total.  The caller is connected to SPI.
 */
void
basket_check_lines(PriceCall *call)
{
	Datum		args[4];
	int			n = call->nlines;
	int			ret;
	const BenefitConfig *cfg = benefit_config_pin();
	LineFacts	f;

	call->base_total = 0;
	if (cfg != NULL)
	{
		for (int i = 0; i < n; i++)
		{
			cached_facts(cfg, &call->lines[i], &f);
			check_line(&call->lines[i], i, &f);
			/* at most 200 x 10^14: no overflow */
			call->base_total += call->lines[i].base * call->lines[i].quantity;
		}
		benefit_config_unpin();
		return;
	}
	benefit_plans_get(&plans, benefit_code_type_oid(), make_plans);
	basket_line_id_arrays(call->lines, n, args);
	ret = SPI_execute_plan(plan_line_check, args, NULL, true, 0);
	if (ret != SPI_OK_SELECT || SPI_processed != (uint64) n)
		elog(ERROR, "checking the lines failed: %s", SPI_result_code_string(ret));
	for (int i = 0; i < n; i++)
	{
		statement_facts(i, &f);
		check_line(&call->lines[i], i, &f);
		/* at most 200 x 10^14: no overflow */
		call->base_total += call->lines[i].base * call->lines[i].quantity;
	}
	SPI_freetuptable(SPI_tuptable);
}

/* What a hold must reserve, line by line, as jsonb text. */
static char *
uses_text(const PriceCall *call)
{
	StringInfoData uses;

	initStringInfo(&uses);
	appendStringInfoChar(&uses, '[');
	for (int i = 0, first = 1; i < call->nlines; i++)
	{
		const PriceLine *l = &call->lines[i];
		const PriceBenefit *b;

		if (l->chosen < 0)
			continue;
		b = &call->benefits[call->cands[l->chosen].benefit];
		appendStringInfo(&uses, "%s{\"benefit_id\": " INT64_FORMAT ", \"units\": %d, \"performance_id\": ",
						 first ? "" : ", ", b->id, l->quantity);
		if (b->perf_quota >= 0 && !l->dims.performance_any)
			appendStringInfo(&uses, INT64_FORMAT, l->dims.performance_id);
		else
			appendStringInfoString(&uses, "null");
		appendStringInfoString(&uses, ", \"code\": null}");
		first = 0;
	}
	/* the codes applied, with the units each covers (null: every unit of its benefit) */
	for (int r = 0, first = call->nlines == 0 || uses.len == 1; r < call->nbenefits; r++)
	{
		const PriceBenefit *b = &call->benefits[r];
		const PriceBenefit *f = b->first >= 0 ? &call->benefits[b->first] : b;

		if (b->su_code == NULL || b->covered == 0 || strcmp(b->reason, "ok") != 0)
			continue;
		appendStringInfo(&uses, "%s{\"benefit_id\": " INT64_FORMAT ", \"units\": 0, \"performance_id\": null, "
						 "\"code\": \"%s\", \"code_units\": ",	/* dddd-dddd-dddd-c: nothing to escape */
						 first ? "" : ", ", b->id, b->su_code);
		if (f->code_units < 0)
			appendStringInfoString(&uses, "null}");
		else
			appendStringInfo(&uses, INT64_FORMAT "}", b->covered);
		first = 0;
	}
	appendStringInfoChar(&uses, ']');
	return uses.data;
}

/*
 * The text Datums and reason values of one result, each made once: the
 * rows of a basket repeat the same benefit codes and reasons (a basket of
 * 20 lines and 17 usable benefits has over 300 refusals).  Keyed by the
 * address of the C string, which the pricing shares between its rows.
 */
typedef struct ResultTexts
{
	int			n;
	int			room;
	const char **keys;
	Datum	   *values;
	bool	   *is_reason;
	int			last[2];		/* the entry found last, of a text and of a reason */
	Oid			reason_type;
} ResultTexts;

static Datum
result_value(ResultTexts *rt, const char *s, bool reason)
{
	Datum		d;
	int			last = rt->last[reason ? 1 : 0];

	if (last < rt->n && rt->keys[last] == s && rt->is_reason[last] == reason)
		return rt->values[last];
	for (int i = rt->n - 1; i >= 0; i--)
		if (rt->keys[i] == s && rt->is_reason[i] == reason)
		{
			rt->last[reason ? 1 : 0] = i;
			return rt->values[i];
		}
	d = reason ? benefit_reason_datum(rt->reason_type, s) : CStringGetTextDatum(s);
	if (rt->n == rt->room)
	{
		rt->room = Max(rt->room * 2, 32);
		rt->keys = rt->keys ? repalloc(rt->keys, sizeof(char *) * rt->room) : palloc(sizeof(char *) * rt->room);
		rt->values = rt->values ? repalloc(rt->values, sizeof(Datum) * rt->room) : palloc(sizeof(Datum) * rt->room);
		rt->is_reason = rt->is_reason ? repalloc(rt->is_reason, sizeof(bool) * rt->room)
			: palloc(sizeof(bool) * rt->room);
	}
	rt->keys[rt->n] = s;
	rt->values[rt->n] = d;
	rt->is_reason[rt->n] = reason;
	rt->last[reason ? 1 : 0] = rt->n++;
	return d;
}

#define LINE_NATTS 14
#define REFUSAL_NATTS 5

/* Line i as the values of a benefit.priced_line. */
static void
priced_line(const PriceCall *call, int i, ResultTexts *rt, Datum *v, bool *nl)
{
	const PriceLine *l = &call->lines[i];
	const PriceCandidate *c = l->chosen >= 0 ? &call->cands[l->chosen] : NULL;

	memset(nl, 0, sizeof(bool) * LINE_NATTS);
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
	v[8] = c ? Int64GetDatum(call->benefits[c->benefit].id) : (Datum) 0;
	nl[8] = c == NULL;
	v[9] = c ? result_value(rt, call->benefits[c->benefit].code, false) : (Datum) 0;
	nl[9] = c == NULL;
	v[10] = c ? Int64GetDatum(c->tariff_id) : (Datum) 0;
	nl[10] = c == NULL;
	v[11] = Int64GetDatum(call->amounts[i]);
	v[12] = Int64GetDatum(call->parts[i]);
	v[13] = Int64GetDatum(call->amounts[i] - call->parts[i]);
}

/* A refusal as the values of a benefit.refusal. */
static void
refusal_row(const PriceRefusal *r, ResultTexts *rt, Datum *v, bool *nl)
{
	memset(nl, 0, sizeof(bool) * REFUSAL_NATTS);
	v[0] = Int32GetDatum(r->line);
	nl[0] = r->line == 0;
	v[1] = Int64GetDatum(r->benefit_id);
	nl[1] = r->benefit_id == 0;
	v[2] = r->benefit_code ? result_value(rt, r->benefit_code, false) : (Datum) 0;
	nl[2] = r->benefit_code == NULL;
	v[3] = r->entered ? result_value(rt, r->entered, false) : (Datum) 0;
	nl[3] = r->entered == NULL;
	v[4] = result_value(rt, r->reason, true);
}

/*
 * A one-dimensional array of n values of the composite type typid (tuple
 * descriptor desc), row i's values at v[i * natts] (nulls nl).  Each row
 * is formed by heap_form_tuple, which marks it with its type's version.
 */
static Datum
rows_array(TupleDesc desc, Oid typid, Datum *v, bool *nl, int n)
{
	int			natts = desc->natts;
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *elems;

	get_typlenbyvalalign(typid, &typlen, &typbyval, &typalign);
	if (n == 0)
		return PointerGetDatum(construct_empty_array(typid));
	elems = palloc(sizeof(Datum) * n);
	for (int i = 0; i < n; i++)
		elems[i] = HeapTupleGetDatum(heap_form_tuple(desc, &v[i * natts], &nl[i * natts]));
	return PointerGetDatum(construct_array(elems, n, typid, typlen, typbyval, typalign));
}

/*
 * The benefit.priced_basket of a pricing, with its reason and, for a hold
 * (held), the order reference and deadline.
 */
Datum
basket_priced(const BasketTypes *types, const PriceCall *call, const char *reason,
			  Datum order_ref, bool held, TimestampTz held_until)
{
	Datum	   *line_values = palloc(sizeof(Datum) * LINE_NATTS * Max(call->nlines, 1));
	bool	   *line_nulls = palloc(sizeof(bool) * LINE_NATTS * Max(call->nlines, 1));
	Datum	   *refusal_values = palloc(sizeof(Datum) * REFUSAL_NATTS * Max(call->nrefusals, 1));
	bool	   *refusal_nulls = palloc(sizeof(bool) * REFUSAL_NATTS * Max(call->nrefusals, 1));
	Datum		basket_values[10];
	bool		basket_nulls[10] = {false};
	ResultTexts rt = {0};

	if (types->basket->natts != 10)
		elog(ERROR, "benefit.priced_basket does not have the expected columns");
	if (types->line->natts != LINE_NATTS)
		elog(ERROR, "benefit.priced_line does not have the expected columns");
	if (types->refusal->natts != REFUSAL_NATTS)
		elog(ERROR, "benefit.refusal does not have the expected columns");
	rt.reason_type = types->reason_type;
	for (int i = 0; i < call->nlines; i++)
		priced_line(call, i, &rt, &line_values[i * LINE_NATTS], &line_nulls[i * LINE_NATTS]);
	for (int k = 0; k < call->nrefusals; k++)
		refusal_row(&call->refusals[k], &rt, &refusal_values[k * REFUSAL_NATTS], &refusal_nulls[k * REFUSAL_NATTS]);

	basket_values[0] = benefit_reason_datum(types->reason_type, reason);
	basket_values[1] = rows_array(types->line, types->line_type, line_values, line_nulls, call->nlines);
	basket_values[2] = rows_array(types->refusal, types->refusal_type, refusal_values, refusal_nulls,
								  call->nrefusals);
	basket_values[3] = Int64GetDatum(call->base_total);
	basket_values[4] = Int64GetDatum(call->lines_total);
	basket_values[5] = call->promo_code ? CStringGetTextDatum(call->promo_code) : (Datum) 0;
	basket_nulls[5] = call->promo_code == NULL;
	basket_values[6] = Int64GetDatum(call->discount);
	basket_values[7] = Int64GetDatum(call->lines_total - call->discount);
	basket_values[8] = order_ref;
	basket_nulls[8] = !held;
	basket_values[9] = TimestampTzGetDatum(held_until);
	basket_nulls[9] = !held;
	return HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(types->basket), basket_values, basket_nulls));
}

/* The result of benefit.price: (result priced_basket, uses jsonb, promo_id bigint). */
Datum
basket_result(const BasketTypes *types, const PriceCall *call)
{
	Datum		result_values[3];
	bool		result_nulls[3] = {false};

	result_values[0] = basket_priced(types, call, "ok", (Datum) 0, false, 0);
	result_values[1] = DirectFunctionCall1(jsonb_in, CStringGetDatum(uses_text(call)));
	result_values[2] = Int64GetDatum(call->promo_id);
	result_nulls[2] = !call->promo_applied;
	return HeapTupleGetDatum(heap_form_tuple(types->result, result_values, result_nulls));
}
