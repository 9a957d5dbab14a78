/*-------------------------------------------------------------------------
 *
 * refund.c
 *		benefit.refund: give back, after payment, what a confirmed order
 *		used, whole or some units of some lines (the rules: the header of
 *		sql/src/18_refunds.sql and README "Refunds").
 *
 * One pass in C, every check before the first write, so that a refused
 * refund writes nothing and no subtransaction is needed:
 *
 *	1. the arguments (NULLs, references, the lines asked), without SPI;
 *	2. plan_lock: the order row, FOR UPDATE (refunds, confirm, release and
 *	   expiry of one order run one after the other; a REPEATABLE READ or
 *	   SERIALIZABLE caller that missed another refund gets 40001 here);
 *	3. plan_facts, one statement whose snapshot follows that lock: the
 *	   refund already made under the reference (and its lines), the order's
 *	   lines with the units earlier refunds took, its counter rows with the
 *	   units they still hold, and whether it has codes;
 *	4. plan_codes, only for an order with codes: its codes, locked in code
 *	   order (before any counter row: the common lock order);
 *	5. the decisions (src/refund_rule.c): units left, counter units and
 *	   codes given back;
 *	6. plan_write (plan_write_codes when codes come back): one statement
 *	   writes the refund, its lines, the units given back (counter rows
 *	   locked by kind, owner and key before they are updated), the codes
 *	   and their history, the tickets, and the order row.  A unique
 *	   violation there is the same reference written meanwhile by a call
 *	   this one could not see: 40001, so that the retry answers right.
 *
 * A refund of an order without codes is thus three statements, whole or in
 * part (four with codes); the same refund again, or one refused after the
 * order is read, two; an unknown order, one.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "read_only.h"
#include "reason.h"
#include "refund_rule.h"
#include "sale.h"
#include "search_path.h"
#include "spi_util.h"

static BenefitPlans plans;
static SPIPlanPtr plan_lock;
static SPIPlanPtr plan_facts;
static SPIPlanPtr plan_codes;
static SPIPlanPtr plan_write;
static SPIPlanPtr plan_write_codes;

/* benefit.code[] and the storage of benefit.code, for the codes given back */
static Oid	code_array_type;
static int16 code_typlen;
static bool code_typbyval;
static char code_typalign;

/* The rows plan_facts returns, by their first column. */
#define FACT_REFUND 1			/* the refund made under the reference: order_ref, whole */
#define FACT_REFUND_LINE 2		/* a line of it: line_no, quantity */
#define FACT_LINE 3				/* a line of the order */
#define FACT_COUNTER 4			/* a counter row of the order */
#define FACT_CODES 5			/* the order has codes */

#define WRITE_NARGS 13

/* Prepares the statements of this file for type code_type (the plan rule of spi_util.h). */
static void
make_plans(BenefitPlans *set, Oid code_type)
{
	Oid			t_text[1] = {TEXTOID};
	Oid			t_facts[2] = {TEXTOID, TEXTOID};
	Oid			t_write[WRITE_NARGS] = {
		TEXTOID, TEXTOID, BOOLOID, BOOLOID, INT4ARRAYOID, INT4ARRAYOID,
		TEXTARRAYOID, INT8ARRAYOID, INT8ARRAYOID, INT4ARRAYOID, InvalidOid, INT8OID, TEXTOID
	};

	code_array_type = get_array_type(code_type);
	if (!OidIsValid(code_array_type))
		elog(ERROR, "type benefit.code has no array type");
	get_typlenbyvalalign(code_type, &code_typlen, &code_typbyval, &code_typalign);
	t_write[10] = code_array_type;

	plan_lock = benefit_plans_keep(set,
		"SELECT o.state::pg_catalog.text, o.kind, o.contact_id, o.channel "
		"FROM benefit.order_hold o WHERE o.order_ref = $1 FOR UPDATE",
		1, t_text);

	/*
	 * Everything the checks and decisions read, as rows tagged by their first
	 * column (FACT_*), ordered so that lines come by line number and a
	 * benefit's slots by key.
	 */
	plan_facts = benefit_plans_keep(set,
		"SELECT 1, f.order_ref, f.whole::pg_catalog.int4::pg_catalog.int8, NULL::pg_catalog.int8, "
		"       NULL::pg_catalog.int8, NULL::pg_catalog.int8, NULL::pg_catalog.int8 "
		"  FROM benefit.order_refund f WHERE f.refund_ref = $2 "
		"UNION ALL "
		"SELECT 2, NULL, f.line_no, f.quantity, NULL, NULL, NULL "
		"  FROM benefit.order_refund_line f WHERE f.refund_ref = $2 "
		"UNION ALL "
		"SELECT 3, NULL, l.line_no, l.quantity, "
		"       coalesce((SELECT sum(f.quantity) FROM benefit.order_refund_line f "
		"                  WHERE f.order_ref = l.order_ref AND f.line_no = l.line_no), 0), "
		"       l.benefit_id, l.performance_id "
		"  FROM benefit.order_line l WHERE l.order_ref = $1 "
		"UNION ALL "
		"SELECT 4, o.kind::pg_catalog.text, o.owner_id, o.key, "
		"       o.units - coalesce((SELECT sum(g.units) FROM benefit.order_refund_counter g "
		"                            WHERE g.order_ref = o.order_ref AND g.kind = o.kind "
		"                              AND g.owner_id = o.owner_id AND g.key = o.key), 0), NULL, NULL "
		"  FROM benefit.order_hold_counter o WHERE o.order_ref = $1 "
		"UNION ALL "
		"SELECT 5, NULL, NULL, NULL, NULL, NULL, NULL "
		" WHERE EXISTS (SELECT FROM benefit.order_code o WHERE o.order_ref = $1) "
		"ORDER BY 1, 2, 3, 4",
		2, t_facts);

	plan_codes = benefit_plans_keep(set,
		"SELECT c.code, c.benefit_id, o.units, c.state = 'used' AND c.used_order = $1 "
		"FROM benefit.order_code o "
		"JOIN benefit.single_use_code c ON c.code OPERATOR(benefit.=) o.code "
		"WHERE o.order_ref = $1 ORDER BY c.code FOR UPDATE OF c",
		1, t_text);

	/*
	 * The writes: $1 refund_ref, $2 order_ref, $3 whole, $4 completes,
	 * $5/$6 the lines refunded now and their units, $7-$10 the counter rows
	 * (kind, owner, key) and the units given back on each, $11 the codes
	 * given back, $12/$13 the order's contact and channel (their history).
	 *
	 * The main statement inserts the refund, so that a reference written
	 * meanwhile fails first; the other parts run after it.  The tickets:
	 * every ticket left when the refund completes the order; else, per
	 * benefit, as many as it refunds units, the tickets of the codes it
	 * gives back first, then unscanned before scanned, then the most
	 * recently issued.
	 */
#define WRITE_HEAD \
		"WITH refund_line AS (" \
		" INSERT INTO benefit.order_refund_line (refund_ref, order_ref, line_no, quantity)" \
		" SELECT $1, $2, n.line_no, n.units FROM unnest($5, $6) n(line_no, units)" \
		"), back AS (" \
		" SELECT n.kind::benefit.counter_kind AS kind, n.owner_id, n.key, n.units" \
		"   FROM unnest($7, $8, $9, $10) n(kind, owner_id, key, units)" \
		"), locked AS (" \
		" SELECT c.kind, c.owner_id, c.key, b.units FROM benefit.counter c" \
		"   JOIN back b ON b.kind = c.kind AND b.owner_id = c.owner_id AND b.key = c.key" \
		"  ORDER BY c.kind, c.owner_id, c.key FOR UPDATE OF c" \
		"), counted AS (" \
		" UPDATE benefit.counter c SET used = c.used - l.units FROM locked l" \
		"  WHERE c.kind = l.kind AND c.owner_id = l.owner_id AND c.key = l.key" \
		"), refund_counter AS (" \
		" INSERT INTO benefit.order_refund_counter (refund_ref, order_ref, kind, owner_id, key, units)" \
		" SELECT $1, $2, b.kind, b.owner_id, b.key, b.units FROM back b" \
		"), held AS (" \
		" UPDATE benefit.order_hold o SET state = CASE WHEN $4 THEN 'refunded' ELSE o.state END" \
		"  WHERE o.order_ref = $2" \
		"), ticket AS (" \
		" UPDATE benefit.ticket t SET refunded_at = pg_catalog.now(), refund_ref = $1" \
		"   FROM (SELECT k.ticket_ref FROM benefit.ticket k" \
		"          WHERE k.order_ref = $2 AND k.refunded_at IS NULL AND $4" \
		"         UNION" \
		"         SELECT p.ticket_ref" \
		"           FROM (SELECT k.ticket_ref, k.benefit_id," \
		"                        pg_catalog.row_number() OVER (PARTITION BY k.benefit_id ORDER BY"
#define WRITE_TAIL \
		"                          k.scanned_at IS NULL DESC, k.issued_at DESC, k.ticket_ref DESC) AS rank" \
		"                   FROM benefit.ticket k" \
		"                  WHERE k.order_ref = $2 AND k.refunded_at IS NULL AND NOT $4) p" \
		"           JOIN (SELECT l.benefit_id, pg_catalog.sum(n.units) AS units" \
		"                   FROM unnest($5, $6) n(line_no, units)" \
		"                   JOIN benefit.order_line l ON l.order_ref = $2 AND l.line_no = n.line_no" \
		"                  GROUP BY l.benefit_id) a ON a.benefit_id = p.benefit_id" \
		"          WHERE p.rank <= a.units) m" \
		"  WHERE t.ticket_ref = m.ticket_ref" \
		")"
#define WRITE_REFUND \
		" INSERT INTO benefit.order_refund (refund_ref, order_ref, whole, completes)" \
		" VALUES ($1, $2, $3, $4)"

	plan_write = benefit_plans_keep(set, WRITE_HEAD WRITE_TAIL WRITE_REFUND,
									WRITE_NARGS, t_write);
	plan_write_codes = benefit_plans_keep(set,
		WRITE_HEAD
		"                          (k.code OPERATOR(benefit.=) ANY ($11)) IS TRUE DESC,"
		WRITE_TAIL
		", code AS ("
		" UPDATE benefit.single_use_code c"
		"    SET state = 'issued', used_at = NULL, used_by_contact = NULL, used_order = NULL"
		"  WHERE c.code OPERATOR(benefit.=) ANY ($11)"
		"), history AS ("
		" INSERT INTO benefit.code_history (code, from_state, to_state, order_ref, contact_id, channel, reason)"
		" SELECT x.code, 'used', 'issued', $2, $12, $13, 'refunded'"
		"   FROM pg_catalog.unnest($11) x(code) ORDER BY x.code"
		")"
		WRITE_REFUND,
		WRITE_NARGS, t_write);
#undef WRITE_HEAD
#undef WRITE_TAIL
#undef WRITE_REFUND
}

/* The reason type (the result type of the called function), looked up once per backend. */
static uint64 types_epoch = 0;
static Oid	types_fn_oid = InvalidOid;
static Oid	reason_type = InvalidOid;

/* Returns the OID of benefit.reason, the type the called function returns. */
static Oid
refund_reason_type(FunctionCallInfo fcinfo)
{
	uint64		epoch = benefit_catalog_epoch();

	if (types_epoch != epoch || types_fn_oid != fcinfo->flinfo->fn_oid || !OidIsValid(reason_type))
	{
		reason_type = get_func_rettype(fcinfo->flinfo->fn_oid);
		types_fn_oid = fcinfo->flinfo->fn_oid;
		types_epoch = epoch;
	}
	return reason_type;
}

/* A line the call asks to refund. */
typedef struct AskedLine
{
	int32		line_no;
	int32		quantity;
} AskedLine;

/* Orders asked lines by line number. */
static int
asked_cmp(const void *a, const void *b)
{
	int32		x = ((const AskedLine *) a)->line_no;
	int32		y = ((const AskedLine *) b)->line_no;

	return (x > y) - (x < y);
}

/*
 * Refuses (22023) a refund reference that is blank (spaces, tabs, line and
 * page breaks only) or longer than 200 characters.
 */
static void
check_refund_ref(text *ref)
{
	const char *s = VARDATA_ANY(ref);
	int			len = VARSIZE_ANY_EXHDR(ref);
	bool		blank = true;

	for (int i = 0; i < len && blank; i++)
		blank = (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n' ||
				 s[i] == '\f' || s[i] == '\v');
	if (blank || pg_mbstrlen_with_len(s, len) > 200)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("refund_ref must be 1 to 200 characters, not blank"));
}

/*
 * Reads the lines of the call (benefit.refund_line[]), sorted by line
 * number, into *asked; raises for a line without number or quantity (22004,
 * naming its position, as lines[i] reads it), a quantity under 1 or a line
 * given twice (22023, naming the line).
 */
static int
read_asked_lines(ArrayType *arr, AskedLine **asked)
{
	Oid			elemtype = ARR_ELEMTYPE(arr);
	int			n = ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr));
	int			lb = ARR_NDIM(arr) == 1 ? ARR_LBOUND(arr)[0] : 0;
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *elems;
	bool	   *elnulls;
	int			nelems;
	AskedLine  *a;

	if (n == 0)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("lines must not be empty"),
				errhint("Give NULL to refund the whole order."));
	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	deconstruct_array(arr, elemtype, typlen, typbyval, typalign, &elems, &elnulls, &nelems);
	a = palloc(sizeof(AskedLine) * n);
	for (int i = 1; i <= n; i++)
	{
		/* lines[i] of a multidimensional array, or outside its bounds, is NULL */
		int			k = i - lb;
		bool		no_null,
					q_null;
		Datum		no = 0,
					q = 0;

		if (ARR_NDIM(arr) != 1 || k < 0 || k >= n || elnulls[k])
			no_null = q_null = true;
		else
		{
			HeapTupleHeader row = DatumGetHeapTupleHeader(elems[k]);

			no = GetAttributeByNum(row, 1, &no_null);
			q = GetAttributeByNum(row, 2, &q_null);
		}
		if (no_null || q_null)
			ereport(ERROR,
					errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					errmsg("refund line %d must have a line number and a quantity", i));
		if (DatumGetInt32(q) < 1)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("quantity of line %d must be positive", DatumGetInt32(no)),
					errdetail("The refund asked for %d units.", DatumGetInt32(q)));
		a[k].line_no = DatumGetInt32(no);
		a[k].quantity = DatumGetInt32(q);
	}
	qsort(a, n, sizeof(AskedLine), asked_cmp);
	for (int i = 1; i < n; i++)
		if (a[i].line_no == a[i - 1].line_no)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("line %d is given twice", a[i].line_no));
	*asked = a;
	return n;
}

/* What plan_facts read. */
typedef struct RefundFacts
{
	bool		made;			/* a refund was made under the reference */
	char	   *made_order;		/* its order */
	bool		made_whole;
	int			nmade;			/* its lines, by line number */
	AskedLine  *made_lines;
	int			nlines;			/* the order's lines, by line number */
	RefundLine *lines;
	int			ncounters;		/* the order's counter rows */
	RefundCounter *counters;
	char	  **kinds;			/* their kinds (labels of benefit.counter_kind) */
	bool		has_codes;
} RefundFacts;

/* Returns the kind of counter row a label of benefit.counter_kind names, for the rule. */
static RefundCounterKind
counter_kind(const char *label)
{
	if (strcmp(label, "benefit_slot") == 0)
		return REFUND_BENEFIT_SLOT;
	if (strcmp(label, "benefit_performance") == 0)
		return REFUND_BENEFIT_PERFORMANCE;
	if (strcmp(label, "benefit_contact") == 0)
		return REFUND_BENEFIT_CONTACT;
	return REFUND_OTHER_COUNTER;
}

/* Runs plan_facts for the order and the reference into *f. */
static void
read_facts(Datum order_ref, Datum refund_ref, RefundFacts *f)
{
	Datum		args[2] = {order_ref, refund_ref};
	int			ret;
	uint64		n;
	bool		isnull;

	ret = SPI_execute_plan(plan_facts, args, NULL, false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "reading the order failed: %s", SPI_result_code_string(ret));
	n = SPI_processed;
	memset(f, 0, sizeof(*f));
	f->made_lines = palloc(sizeof(AskedLine) * Max(n, 1));
	f->lines = palloc(sizeof(RefundLine) * Max(n, 1));
	f->counters = palloc(sizeof(RefundCounter) * Max(n, 1));
	f->kinds = palloc(sizeof(char *) * Max(n, 1));
	for (uint64 i = 0; i < n; i++)
	{
		int			row = (int) i;

		switch (col_int4(row, 1, &isnull))
		{
			case FACT_REFUND:
				f->made = true;
				f->made_order = col_text(row, 2, NULL);
				f->made_whole = col_int8(row, 3, &isnull) != 0;
				break;
			case FACT_REFUND_LINE:
				f->made_lines[f->nmade].line_no = (int32) col_int8(row, 3, &isnull);
				f->made_lines[f->nmade].quantity = (int32) col_int8(row, 4, &isnull);
				f->nmade++;
				break;
			case FACT_LINE:
				{
					RefundLine *l = &f->lines[f->nlines++];

					l->line_no = (int32) col_int8(row, 3, &isnull);
					l->sold = col_int8(row, 4, &isnull);
					l->refunded = col_int8(row, 5, &isnull);
					l->now = 0;
					l->benefit_id = col_int8(row, 6, &isnull);
					l->has_benefit = !isnull;
					l->performance_id = col_int8(row, 7, &isnull);
					l->has_performance = !isnull;
					break;
				}
			case FACT_COUNTER:
				{
					RefundCounter *c = &f->counters[f->ncounters];

					f->kinds[f->ncounters] = col_text(row, 2, NULL);
					c->kind = counter_kind(f->kinds[f->ncounters]);
					c->owner_id = col_int8(row, 3, &isnull);
					c->key = col_int8(row, 4, &isnull);
					c->remaining = col_int8(row, 5, &isnull);
					c->back = 0;
					f->ncounters++;
					break;
				}
			case FACT_CODES:
				f->has_codes = true;
				break;
			default:
				elog(ERROR, "unexpected row reading the order");
		}
	}
	SPI_freetuptable(SPI_tuptable);
}

/*
 * Raises unless the refund made under refund_ref is this one: the same
 * order, and the same lines (or the whole order again).
 */
static void
check_same_refund(const RefundFacts *f, const char *refund_str, const char *order_str,
				  bool whole, const AskedLine *asked, int nasked)
{
	bool		same;

	if (strcmp(f->made_order, order_str) != 0)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("refund \"%s\" is a refund of another order", refund_str),
				errdetail("It refunded order \"%s\", not \"%s\".", f->made_order, order_str));
	same = f->made_whole == whole;
	if (same && !whole)
	{
		/* both by line number, each line once */
		same = f->nmade == nasked;
		for (int i = 0; same && i < nasked; i++)
			same = f->made_lines[i].line_no == asked[i].line_no &&
				f->made_lines[i].quantity == asked[i].quantity;
	}
	if (!same)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("refund \"%s\" was made with other lines", refund_str),
				errhint("A refund reference names one refund: give a new reference for another refund."));
}

/*
 * Sets now of each line: what it has left for a refund of the whole order;
 * else the units asked, raising (22023) for a line the order does not have
 * or one asked more units than it has left, by line number.
 */
static void
take_lines(RefundFacts *f, const char *order_str, bool whole, const AskedLine *asked, int nasked)
{
	int			j = 0;

	if (whole)
	{
		for (int i = 0; i < f->nlines; i++)
			f->lines[i].now = Max(f->lines[i].sold - f->lines[i].refunded, 0);
		return;
	}
	for (int i = 0; i < nasked; i++)
	{
		RefundLine *l;
		int64		left;

		while (j < f->nlines && f->lines[j].line_no < asked[i].line_no)
			j++;
		if (j == f->nlines || f->lines[j].line_no != asked[i].line_no)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("line %d is not a line of order \"%s\"", asked[i].line_no, order_str));
		l = &f->lines[j];
		left = l->sold - l->refunded;
		if (asked[i].quantity > left)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("line %d has " INT64_FORMAT " units left to refund", asked[i].line_no, left),
					errdetail("The refund asked for %d of its " INT64_FORMAT " units.",
							  asked[i].quantity, l->sold));
		l->now = asked[i].quantity;
	}
}

/* The codes of the order as plan_codes read them (locked). */
typedef struct RefundCodes
{
	int			n;
	Datum	   *code;			/* benefit.code values, copied out of SPI's memory */
	RefundCode *rule;
} RefundCodes;

/* Locks the codes of the order, in code order, and reads them into *c. */
static void
lock_codes(Datum order_ref, RefundCodes *c)
{
	Datum		args[1] = {order_ref};
	int			ret;
	bool		isnull;

	ret = SPI_execute_plan(plan_codes, args, NULL, false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "locking the codes failed: %s", SPI_result_code_string(ret));
	c->n = (int) SPI_processed;
	c->code = palloc(sizeof(Datum) * Max(c->n, 1));
	c->rule = palloc(sizeof(RefundCode) * Max(c->n, 1));
	for (int i = 0; i < c->n; i++)
	{
		c->code[i] = col_datum_copy(i, 1, &isnull);
		c->rule[i].benefit_id = col_int8(i, 2, &isnull);
		c->rule[i].units = col_int4(i, 3, &isnull);
		c->rule[i].has_units = !isnull;
		c->rule[i].used_here = col_bool(i, 4);
		c->rule[i].back = false;
	}
	SPI_freetuptable(SPI_tuptable);
}

/* An array of n values of type elemtype (int4, int8 or text) for a statement parameter. */
static Datum
param_array(Datum *values, int n, Oid elemtype)
{
	switch (elemtype)
	{
		case INT4OID:
			return PointerGetDatum(construct_array(values, n, INT4OID, sizeof(int32), true, TYPALIGN_INT));
		case INT8OID:
			return PointerGetDatum(construct_array(values, n, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		case TEXTOID:
			return PointerGetDatum(construct_array(values, n, TEXTOID, -1, false, TYPALIGN_INT));
	}
	elog(ERROR, "unexpected array element type %u", elemtype);
	return (Datum) 0;
}

/*
 * Runs the write statement; a unique violation (the reference written
 * meanwhile by a call this one could not see) becomes 40001.  No
 * subtransaction: the error ends the transaction either way.
 */
static void
write_refund(SPIPlanPtr plan, Datum *args, const char *nulls, const char *refund_str)
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile int ret = 0;

	PG_TRY();
	{
		ret = SPI_execute_plan(plan, args, nulls, false, 0);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		if (edata->sqlerrcode != ERRCODE_UNIQUE_VIOLATION)
			PG_RE_THROW();
		FlushErrorState();
		ereport(ERROR,
				errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				errmsg("refund \"%s\" was made concurrently by another call", refund_str),
				errhint("Retry the transaction: the refund reference then answers ok, or says which order it refunded."));
	}
	PG_END_TRY();
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "writing the refund failed: %s", SPI_result_code_string(ret));
}

PG_FUNCTION_INFO_V1(benefit_refund);

/* benefit.refund(order_ref, refund_ref, lines): ok, unknown_order or not_confirmed. */
Datum
benefit_refund(PG_FUNCTION_ARGS)
{
	Oid			rtype = refund_reason_type(fcinfo);
	bool		whole = PG_ARGISNULL(2);
	AskedLine  *asked = NULL;
	int			nasked = 0;
	char	   *order_str;
	char	   *refund_str;
	const char *reason = "ok";
	bool		isnull;
	int			ret;

	benefit_require_writable("benefit.refund()");
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("order_ref and refund_ref must not be NULL"));
	benefit_check_order_ref(PG_GETARG_TEXT_PP(0));
	check_refund_ref(PG_GETARG_TEXT_PP(1));
	if (!whole)
		nasked = read_asked_lines(PG_GETARG_ARRAYTYPE_P(2), &asked);
	order_str = text_to_cstring(PG_GETARG_TEXT_PP(0));
	refund_str = text_to_cstring(PG_GETARG_TEXT_PP(1));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* an error unwinds the pushed path with the transaction */
	benefit_push_search_path();
	benefit_plans_get(&plans, benefit_code_type_oid(), make_plans);

	/* the order row first */
	ret = SPI_execute_plan(plan_lock, &fcinfo->args[0].value, NULL, false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "locking the order failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		reason = "unknown_order";
	else
	{
		char	   *state = col_text(0, 1, NULL);
		bool		codes_kind = strcmp(col_text(0, 2, NULL), "codes") == 0;
		int64		contact_id = col_int8(0, 3, &isnull);
		bool		contact_null = isnull;
		Datum		channel = col_datum_copy(0, 4, &isnull);
		bool		channel_null = isnull;
		RefundFacts f;

		SPI_freetuptable(SPI_tuptable);
		read_facts(PG_GETARG_DATUM(0), PG_GETARG_DATUM(1), &f);
		if (f.made)
			check_same_refund(&f, refund_str, order_str, whole, asked, nasked);
		else if (strcmp(state, "confirmed") != 0)
			reason = "not_confirmed";
		else
		{
			RefundCodes codes = {0};
			bool		complete;
			Datum		args[WRITE_NARGS];
			char		nulls[WRITE_NARGS];
			Datum	   *v1,
					   *v2,
					   *v3,
					   *v4;
			int			n;
			int			nback;		/* codes given back */

			if (!whole && codes_kind)
				ereport(ERROR,
						errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("order \"%s\" has no lines", order_str),
						errhint("A codes order is refunded whole: give NULL lines."));
			take_lines(&f, order_str, whole, asked, nasked);
			complete = whole || refund_units_left(f.lines, f.nlines) == 0;

			/* the codes (by code) before the counters */
			if (f.has_codes)
				lock_codes(PG_GETARG_DATUM(0), &codes);
			refund_codes(codes.rule, codes.n, f.lines, f.nlines, complete);
			refund_counters(f.counters, f.ncounters, f.lines, f.nlines,
							!contact_null, contact_id, complete);

			/* every check is done: the writes */
			memset(nulls, ' ', sizeof(nulls));
			args[0] = PG_GETARG_DATUM(1);
			args[1] = PG_GETARG_DATUM(0);
			args[2] = BoolGetDatum(whole);
			args[3] = BoolGetDatum(complete);

			v1 = palloc(sizeof(Datum) * Max(f.nlines, 1));
			v2 = palloc(sizeof(Datum) * Max(f.nlines, 1));
			n = 0;
			for (int i = 0; i < f.nlines; i++)
				if (f.lines[i].now > 0)
				{
					v1[n] = Int32GetDatum(f.lines[i].line_no);
					v2[n++] = Int32GetDatum((int32) f.lines[i].now);
				}
			args[4] = param_array(v1, n, INT4OID);
			args[5] = param_array(v2, n, INT4OID);

			v1 = palloc(sizeof(Datum) * Max(f.ncounters, 1));
			v2 = palloc(sizeof(Datum) * Max(f.ncounters, 1));
			v3 = palloc(sizeof(Datum) * Max(f.ncounters, 1));
			v4 = palloc(sizeof(Datum) * Max(f.ncounters, 1));
			n = 0;
			for (int i = 0; i < f.ncounters; i++)
				if (f.counters[i].back > 0)
				{
					v1[n] = CStringGetTextDatum(f.kinds[i]);
					v2[n] = Int64GetDatum(f.counters[i].owner_id);
					v3[n] = Int64GetDatum(f.counters[i].key);
					v4[n++] = Int32GetDatum((int32) f.counters[i].back);
				}
			args[6] = param_array(v1, n, TEXTOID);
			args[7] = param_array(v2, n, INT8OID);
			args[8] = param_array(v3, n, INT8OID);
			args[9] = param_array(v4, n, INT4OID);

			v1 = palloc(sizeof(Datum) * Max(codes.n, 1));
			nback = 0;
			for (int i = 0; i < codes.n; i++)
				if (codes.rule[i].back)
					v1[nback++] = codes.code[i];
			args[10] = PointerGetDatum(construct_array(v1, nback, benefit_code_type_oid(), code_typlen,
													   code_typbyval, code_typalign));
			args[11] = Int64GetDatum(contact_id);
			nulls[11] = contact_null ? 'n' : ' ';
			args[12] = channel;
			nulls[12] = channel_null ? 'n' : ' ';

			/* the codes' parts only when codes come back */
			write_refund(nback > 0 ? plan_write_codes : plan_write, args, nulls, refund_str);
		}
	}
	benefit_pop_search_path();
	SPI_finish();
	PG_RETURN_DATUM(benefit_reason_datum(rtype, reason));
}
