/*-------------------------------------------------------------------------
 *
 * eligibility.c
 *		Who may use what, on the configuration cache (config.c): the rules
 *		of benefit_internal.eligibility (16_eligibility.sql) in C, for price
 *		(pricing.c) and benefit.available (below).
 *
 * The configuration comes from the cache; the buyer's own rows are read by
 * index scans of their primary keys and indexes, without the executor: the
 * contact (its campaigns, its indicator levels, and the contact row itself
 * only for one with neither: their foreign keys prove it exists), the
 * single-use codes entered (state and hold), then the counters of the
 * candidate benefits that have a limit (and of the promo code priced).
 * Then, in C, the candidates as eligibility lists them (the live public
 * benefits, the contact's campaign and indicator benefits, and whatever an
 * entered code points to: a partner access code first, then a single-use
 * code, else unknown_code, as benefit_internal.read_codes reads them) and
 * for each the one rule of a use (use_rule.h).  The scans read on the
 * snapshot of the calling statement (its active snapshot), as a read-only
 * statement would, with the same locks (AccessShareLock on each table and
 * index) and the same predicate locks under SERIALIZABLE (taken by the index
 * and heap access methods).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/formatting.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/varlena.h"

#include "code_format.h"
#include "config.h"
#include "eligibility.h"
#include "internal_sql.h"
#include "reason.h"
#include "sale.h"
#include "search_path.h"
#include "spi_util.h"
#include "throttle.h"
#include "use_rule.h"

/* The counter kinds, by number. */
#define KIND_BENEFIT_SLOT 1
#define KIND_BENEFIT_CONTACT 2
#define KIND_BENEFIT_PERFORMANCE 3
#define KIND_PROMO_SLOT 4
#define KIND_PROMO_CONTACT 5
#define KIND_PROMO_BUDGET 6

/* Catalog lookups kept until benefit_catalog_epoch() changes (spi_util.h). */
static uint64 lookups_epoch;
static Oid	kind_oids[7];		/* benefit.counter_kind's labels, by the numbers above */
static RegProcedure code_eq;	/* benefit.code's equality, for its primary key */

static void
lookups(void)
{
	static const char *const labels[] = {NULL, "benefit_slot", "benefit_contact", "benefit_performance",
	"promo_slot", "promo_contact", "promo_budget"};
	uint64		epoch = benefit_catalog_epoch();
	Oid			nsp;
	Oid			kind_type;
	Oid			code_type;
	Oid			op;

	if (epoch == lookups_epoch)
		return;
	nsp = get_namespace_oid(BENEFIT_PUBLIC_SCHEMA, false);
	kind_type = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid, CStringGetDatum("counter_kind"),
								ObjectIdGetDatum(nsp));
	if (!OidIsValid(kind_type))
		elog(ERROR, "type benefit.counter_kind does not exist");
	for (int k = 1; k <= 6; k++)
		kind_oids[k] = DatumGetObjectId(DirectFunctionCall2(enum_in, CStringGetDatum(labels[k]),
															ObjectIdGetDatum(kind_type)));
	code_type = benefit_code_type_oid();
	op = OpernameGetOprid(list_make2(makeString(BENEFIT_PUBLIC_SCHEMA), makeString("=")), code_type, code_type);
	if (!OidIsValid(op))
		elog(ERROR, "operator benefit.= (benefit.code, benefit.code) does not exist");
	code_eq = get_opcode(op);
	lookups_epoch = epoch;
}

/* An index scan of one table of schema benefit by one of its indexes, on the active snapshot. */
typedef struct RowScan
{
	Relation	rel;
	Relation	index;
	IndexScanDesc scan;			/* the scan of the keys set now */
	IndexScanDesc by_nkeys[4];	/* a scan keeps its number of keys: one each, made when first used */
	TupleTableSlot *slot;
	int			nkeys;
	ScanKeyData keys[3];
	int			att[5];			/* counter: the numbers of kind, owner_id, key, held, used */
} RowScan;

static Oid
benefit_relation(const char *name)
{
	Oid			relid = get_relname_relid(name, get_namespace_oid(BENEFIT_PUBLIC_SCHEMA, false));

	if (!OidIsValid(relid))
		elog(ERROR, "relation benefit.%s does not exist", name);
	return relid;
}

static void
scan_open(RowScan *rs, const char *table, const char *index, int nkeys)
{
	rs->rel = table_open(benefit_relation(table), AccessShareLock);
	rs->index = index_open(benefit_relation(index), AccessShareLock);
	rs->slot = table_slot_create(rs->rel, NULL);
	rs->nkeys = nkeys;
	rs->scan = NULL;
	memset(rs->by_nkeys, 0, sizeof(rs->by_nkeys));
	memset(rs->keys, 0, sizeof(rs->keys));
}

/* Sets key k (index column k + 1) to equality with value, by the function eq. */
static void
scan_key(RowScan *rs, int k, RegProcedure eq, Datum value)
{
	ScanKeyInit(&rs->keys[k], (AttrNumber) (k + 1), BTEqualStrategyNumber, eq, value);
}

/* Starts (again) with the first rs->nkeys keys set; then scan_next gives each row. */
static void
scan_start(RowScan *rs)
{
	Assert(rs->nkeys >= 1 && rs->nkeys <= 3);
	if (rs->by_nkeys[rs->nkeys] == NULL)
		rs->by_nkeys[rs->nkeys] = index_beginscan(rs->rel, rs->index, GetActiveSnapshot(), rs->nkeys, 0);
	rs->scan = rs->by_nkeys[rs->nkeys];
	index_rescan(rs->scan, rs->keys, rs->nkeys, NULL, 0);
}

static bool
scan_next(RowScan *rs)
{
	return index_getnext_slot(rs->scan, ForwardScanDirection, rs->slot);
}

static void
scan_close(RowScan *rs)
{
	for (int k = 0; k < 4; k++)
		if (rs->by_nkeys[k] != NULL)
			index_endscan(rs->by_nkeys[k]);
	ExecDropSingleTupleTableSlot(rs->slot);
	index_close(rs->index, NoLock);
	table_close(rs->rel, NoLock);
}

/* The number of column name of the scanned table. */
static int
scan_attnum(const RowScan *rs, const char *name)
{
	TupleDesc	desc = RelationGetDescr(rs->rel);

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute a = TupleDescAttr(desc, i);

		if (!a->attisdropped && strcmp(NameStr(a->attname), name) == 0)
			return i + 1;
	}
	elog(ERROR, "column %s of benefit.%s does not exist", name, RelationGetRelationName(rs->rel));
}

/* Column attnum of the current row. */
static Datum
scan_col(RowScan *rs, int attnum, bool *isnull)
{
	return slot_getattr(rs->slot, attnum, isnull);
}

/* The values of column name of the rows whose first index column is id (an int8 key), into *out. */
static int
read_int8_list(const char *table, const char *index, int64 id, const char *name, int64 **out)
{
	RowScan		rs;
	int			n = 0;
	int			room = 8;
	int			attnum;

	scan_open(&rs, table, index, 1);
	attnum = scan_attnum(&rs, name);
	*out = palloc(sizeof(int64) * room);
	scan_key(&rs, 0, F_INT8EQ, Int64GetDatum(id));
	scan_start(&rs);
	while (scan_next(&rs))
	{
		bool		isnull;
		Datum		d = scan_col(&rs, attnum, &isnull);

		if (isnull)
			continue;
		if (n == room)
		{
			room *= 2;
			*out = repalloc(*out, sizeof(int64) * room);
		}
		(*out)[n++] = DatumGetInt64(d);
	}
	scan_close(&rs);
	return n;
}

/* Compares two texts in the database's default collation (ORDER BY of text). */
int
elig_cmp_text(const char *x, const char *y)
{
	return varstr_cmp(x, strlen(x), y, strlen(y), DEFAULT_COLLATION_OID);
}

static int
cmp_collated(const void *a, const void *b)
{
	return elig_cmp_text(*(const char *const *) a, *(const char *const *) b);
}

/*
 * The codes entered, as the rules read them: blanks around each ignored,
 * NULL and blank ones dropped, each once, in text order; returns how many.
 */
int
benefit_entered_codes(Datum codes, bool codes_null, char ***out)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			k = 0;
	char	  **v;

	*out = NULL;
	if (codes_null)
		return 0;
	deconstruct_array(DatumGetArrayTypeP(codes), TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	v = palloc(sizeof(char *) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		char	   *e;
		size_t		len;

		if (nulls[i])
			continue;
		e = TextDatumGetCString(elems[i]);
		e += strspn(e, " ");
		len = strlen(e);
		while (len > 0 && e[len - 1] == ' ')
			e[--len] = '\0';
		if (len > 0)
			v[k++] = e;
	}
	qsort(v, k, sizeof(char *), cmp_collated);
	n = 0;
	for (int i = 0; i < k; i++)
		if (n == 0 || strcmp(v[n - 1], v[i]) != 0)
			v[n++] = v[i];
	*out = v;
	return n;
}

/* Refuses (54000) more than 100 codes entered at once, as eligibility does. */
void
benefit_check_code_count(Datum codes, bool codes_null)
{
	ArrayType  *a;
	int			n;

	if (codes_null)
		return;
	a = DatumGetArrayTypeP(codes);
	n = ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a));
	if (n > 100)
		ereport(ERROR,
				errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				errmsg("at most 100 codes may be entered at once, not %d", n));
}

/* What an entered text is (benefit_internal.read_codes). */
typedef enum CodeKind
{
	CODE_UNKNOWN,
	CODE_PARTNER,
	CODE_SINGLE_USE
} CodeKind;

static CodeKind
read_code(const BenefitConfig *cfg, const char *e, const CfgBenefit **partner)
{
	size_t		len = strlen(e);
	bool		ok = pg_mbstrlen_with_len(e, len) <= 200;

	*partner = NULL;
	if (ok)
	{
		char	   *lowered = str_tolower(e, len, DEFAULT_COLLATION_OID);

		*partner = cfg_partner(cfg, lowered);
		pfree(lowered);
		if (*partner != NULL)
			return CODE_PARTNER;
		if (bcode_parse(e, len, NULL, NULL) == BCODE_OK)
			return CODE_SINGLE_USE;
	}
	return CODE_UNKNOWN;
}

/*
 * The buyer's own rows: whether the contact exists, its campaigns and
 * indicator levels, the single-use codes entered (none read when the buyer
 * is anonymous and entered no single-use code).  The result is in the
 * current memory context.
 */
void
elig_read_buyer(const EligInput *in, EligBuyer *buyer)
{
	int64	   *values = palloc(sizeof(int64) * Max(in->nentered, 1));
	int			nvalues = 0;

	memset(buyer, 0, sizeof(EligBuyer));
	buyer->contact_exists = true;
	for (int i = 0; i < in->nentered; i++)
	{
		const CfgBenefit *p;
		uint64_t	v;

		if (read_code(in->cfg, in->entered[i], &p) == CODE_SINGLE_USE &&
			bcode_parse(in->entered[i], strlen(in->entered[i]), &v, NULL) == BCODE_OK)
			values[nvalues++] = (int64) v;
	}
	if (in->contact_null && nvalues == 0)
		return;
	lookups();

	/* a contact with a campaign target or an indicator level exists (their foreign keys) */
	if (!in->contact_null)
	{
		buyer->ncampaigns = read_int8_list("campaign_target", "campaign_target_contact_id_idx", in->contact_id,
										   "campaign_id", &buyer->campaigns);
		buyer->nlevels = read_int8_list("contact_indicator", "contact_indicator_pkey", in->contact_id,
										"level_id", &buyer->levels);
		if (buyer->ncampaigns == 0 && buyer->nlevels == 0)
		{
			RowScan		rs;

			scan_open(&rs, "contact", "contact_pkey", 1);
			scan_key(&rs, 0, F_INT8EQ, Int64GetDatum(in->contact_id));
			scan_start(&rs);
			buyer->contact_exists = scan_next(&rs);
			scan_close(&rs);
		}
	}

	/* each single-use code entered that exists (each value once: the entered texts are distinct) */
	if (nvalues > 0)
	{
		RowScan		rs;
		int			a_code;
		int			a_benefit;
		int			a_state;
		int			a_hold;

		buyer->code_value = palloc(sizeof(int64) * nvalues);
		buyer->code_benefit = palloc(sizeof(int64) * nvalues);
		buyer->code_state = palloc(sizeof(char *) * nvalues);
		buyer->hold_null = palloc(sizeof(bool) * nvalues);
		buyer->hold_until = palloc(sizeof(TimestampTz) * nvalues);
		scan_open(&rs, "single_use_code", "single_use_code_pkey", 1);
		a_code = scan_attnum(&rs, "code");
		a_benefit = scan_attnum(&rs, "benefit_id");
		a_state = scan_attnum(&rs, "state");
		a_hold = scan_attnum(&rs, "hold_until");
		for (int i = 0; i < nvalues; i++)
		{
			bool		dup = false;

			/* two spellings of one code read it once, as code = ANY (...) does */
			for (int k = 0; k < i && !dup; k++)
				dup = values[k] == values[i];
			if (dup)
				continue;
			scan_key(&rs, 0, code_eq, Int64GetDatum(values[i]));
			scan_start(&rs);
			while (scan_next(&rs))
			{
				bool		isnull;
				int			c = buyer->ncodes;

				if (c == nvalues)
					break;
				buyer->code_value[c] = DatumGetInt64(scan_col(&rs, a_code, &isnull));
				buyer->code_benefit[c] = DatumGetInt64(scan_col(&rs, a_benefit, &isnull));
				buyer->code_state[c] = DatumGetCString(DirectFunctionCall1(enum_out,
																		   scan_col(&rs, a_state, &isnull)));
				buyer->hold_until[c] = DatumGetTimestampTz(scan_col(&rs, a_hold, &buyer->hold_null[c]));
				buyer->ncodes++;
			}
		}
		scan_close(&rs);
	}
}

bool
elig_has_level(const EligBuyer *buyer, int64 level_id)
{
	for (int i = 0; i < buyer->nlevels; i++)
		if (buyer->levels[i] == level_id)
			return true;
	return false;
}

/* Appends a candidate row. */
static EligRow *
add_row(EligResult *res, const CfgBenefit *b, const char *entered, const char *su_code)
{
	EligRow    *r = &res->rows[res->nrows++];

	memset(r, 0, sizeof(EligRow));
	r->b = b;
	r->entered = entered;
	r->su_code = su_code;
	return r;
}

/* Appends the live benefits of keys[0..nkeys) found in the sorted list v[0..n). */
static void
add_keyed(EligResult *res, const BenefitConfig *cfg, const CfgKeyed *v, int n, const int64 *keys, int nkeys)
{
	for (int k = 0; k < nkeys; k++)
		for (int i = cfg_keyed_first(v, n, keys[k]); i < n && v[i].key == keys[k]; i++)
			add_row(res, &cfg->benefits[v[i].benefit], NULL, NULL);
}

/* Whether the owner id of rows[0..i) has the same benefit as row i (its counters are read once). */
static bool
owner_seen(const EligResult *res, int i)
{
	for (int k = 0; k < i; k++)
		if (res->rows[k].b != NULL && res->rows[k].b->id == res->rows[i].b->id)
			return true;
	return false;
}

/* Adds the units of a counter row (kind, owner, key) to the rows of the result it concerns. */
static void
add_counter(const EligInput *in, EligResult *res, int kind, int64 owner, int64 key, int64 used)
{
	/* the rows of the promo code (a benefit may have its id: the kind tells) */
	if (kind >= KIND_PROMO_SLOT)
	{
		if (kind == KIND_PROMO_SLOT)
			res->promo_taken += used;
		else if (kind == KIND_PROMO_BUDGET)
			res->promo_budget_taken += used;
		else
			res->promo_by_contact = used;
		return;
	}
	for (int i = 0; i < res->nrows; i++)
	{
		EligRow    *e = &res->rows[i];

		if (e->b == NULL || e->b->id != owner)
			continue;
		if (kind == KIND_BENEFIT_SLOT)
		{
			e->slots_found = true;
			e->slots_used += used;
		}
		else if (kind == KIND_BENEFIT_CONTACT)
			e->contact_used = used;
		else
		{
			if (e->perf_ids == NULL)
			{
				e->perf_ids = palloc(sizeof(int64) * in->nperf);
				e->perf_used = palloc(sizeof(int64) * in->nperf);
			}
			if (e->nperf < in->nperf)
			{
				e->perf_ids[e->nperf] = key;
				e->perf_used[e->nperf++] = used;
			}
		}
	}
}

/* Reads the counter rows (kind, owner[, key]) and adds their units held and used. */
static void
read_counter(const EligInput *in, EligResult *res, RowScan *rs, int kind, int64 owner, bool keyed, int64 key)
{
	scan_key(rs, 0, F_ENUM_EQ, ObjectIdGetDatum(kind_oids[kind]));
	scan_key(rs, 1, F_INT8EQ, Int64GetDatum(owner));
	rs->nkeys = keyed ? 3 : 2;
	if (keyed)
		scan_key(rs, 2, F_INT8EQ, Int64GetDatum(key));
	scan_start(rs);
	while (scan_next(rs))
	{
		bool		isnull;
		int64		k = DatumGetInt64(scan_col(rs, rs->att[2], &isnull));
		int64		held = DatumGetInt32(scan_col(rs, rs->att[3], &isnull));
		int64		used = DatumGetInt32(scan_col(rs, rs->att[4], &isnull));

		add_counter(in, res, kind, owner, k, held + used);
	}
}

/* Whether v[0..i) holds v[i] (a performance of the basket read once). */
static bool
int8_seen(const int64 *v, int i)
{
	for (int k = 0; k < i; k++)
		if (v[k] == v[i])
			return true;
	return false;
}

/*
 * Reads the counters of the candidates that have a limit, and of the promo
 * code (by the counter's primary key; nothing read when nothing has a
 * limit): every slot of a total quota, and the rows of the contact and of
 * the basket's performances of the per-contact and per-performance limits.
 */
static void
read_counters(const EligInput *in, EligResult *res)
{
	RowScan		rs;
	bool		any = in->promo != NULL &&
		(in->promo->total_set || in->promo->budget_set || (in->promo->per_contact_set && !in->contact_null));

	for (int i = 0; i < res->nrows && !any; i++)
	{
		const CfgBenefit *b = res->rows[i].b;

		any = b != NULL && (b->quota_total >= 0 || (b->quota_per_contact >= 0 && !in->contact_null) ||
							(b->quota_per_performance >= 0 && in->nperf > 0));
	}
	if (!any)
		return;
	lookups();
	scan_open(&rs, "counter", "counter_pkey", 3);
	rs.att[2] = scan_attnum(&rs, "key");
	rs.att[3] = scan_attnum(&rs, "held");
	rs.att[4] = scan_attnum(&rs, "used");
	for (int i = 0; i < res->nrows; i++)
	{
		const CfgBenefit *b = res->rows[i].b;

		if (b == NULL || owner_seen(res, i))
			continue;
		if (b->quota_total >= 0)
			read_counter(in, res, &rs, KIND_BENEFIT_SLOT, b->id, false, 0);
		if (b->quota_per_contact >= 0 && !in->contact_null)
			read_counter(in, res, &rs, KIND_BENEFIT_CONTACT, b->id, true, in->contact_id);
		if (b->quota_per_performance >= 0)
			for (int k = 0; k < in->nperf; k++)
				if (!int8_seen(in->perf_ids, k))
					read_counter(in, res, &rs, KIND_BENEFIT_PERFORMANCE, b->id, true, in->perf_ids[k]);
	}
	/* the promo code's: only those of the limits it has (promo_rule.c reads no other) */
	if (in->promo != NULL)
	{
		if (in->promo->total_set)
			read_counter(in, res, &rs, KIND_PROMO_SLOT, in->promo->id, false, 0);
		if (in->promo->budget_set)
			read_counter(in, res, &rs, KIND_PROMO_BUDGET, in->promo->id, false, 0);
		if (in->promo->per_contact_set && !in->contact_null)
			read_counter(in, res, &rs, KIND_PROMO_CONTACT, in->promo->id, true, in->contact_id);
	}
	scan_close(&rs);
}

/* The reason of one candidate row: the one rule of a use (use_rule.h). */
static const char *
decide(const EligInput *in, const EligRow *r, const char *state, bool hold_null, TimestampTz hold_until)
{
	const CfgBenefit *b = r->b;
	UseFacts	f;
	const char *reason;

	memset(&f, 0, sizeof(f));
	if (!use_code_state(state, &f.code_state))
		elog(ERROR, "unknown code state \"%s\"", state);
	f.held_by_this_order = false;
	f.hold_until = hold_null ? DT_NOBEGIN : hold_until;
	f.benefit_live = b->live;
	f.valid_from_set = b->valid_from_set;
	f.valid_from = b->valid_from;
	f.valid_until_set = b->valid_until_set;
	f.valid_until = b->valid_until;
	f.channel_given = true;
	f.on_channel = cfg_on_channel(b->all_channels, b->channels, b->nchannels, in->channel_id);
	f.web_channel = in->web;
	f.benefit_pos_set = b->pos_set;
	f.pos_matches = b->pos_set ? (!in->pos_null && b->pos_id == in->pos_id) : in->pos_null;
	f.total_set = b->quota_total >= 0;
	f.total_left = f.total_set ? Max(b->quota_total - r->slots_used, 0) : 0;
	f.contact_set = b->quota_per_contact >= 0;
	f.contact_left = f.contact_set ? Max(b->quota_per_contact - r->contact_used, 0) : 0;
	f.units = 1;
	reason = use_refusal(&f, in->at);
	return reason == NULL ? "ok" : reason;
}

/*
 * Every row of eligibility (in no particular order): each candidate with ok
 * or the reason it cannot be used, and each entered code that matches
 * nothing (unknown_code); with the counters of the candidates that have a
 * limit, and of the promo code.
 */
void
elig_decide(const EligInput *in, const EligBuyer *buyer, EligResult *res)
{
	const BenefitConfig *cfg = in->cfg;
	int			room = cfg->npublic + in->nentered + 1;
	int			first_code;
	char	  **states;
	bool	   *hold_null;
	TimestampTz *hold_until;

	/* room: the public benefits, the campaign and level ones, one row per code */
	for (int k = 0; k < buyer->ncampaigns; k++)
		for (int i = cfg_keyed_first(cfg->by_campaign, cfg->ncampaign, buyer->campaigns[k]);
			 i < cfg->ncampaign && cfg->by_campaign[i].key == buyer->campaigns[k]; i++)
			room++;
	for (int k = 0; k < buyer->nlevels; k++)
		for (int i = cfg_keyed_first(cfg->by_level, cfg->nlevel, buyer->levels[k]);
			 i < cfg->nlevel && cfg->by_level[i].key == buyer->levels[k]; i++)
			room++;
	room += buyer->ncodes;
	memset(res, 0, sizeof(EligResult));
	res->rows = palloc(sizeof(EligRow) * room);
	states = palloc0(sizeof(char *) * room);
	hold_null = palloc(sizeof(bool) * room);
	hold_until = palloc0(sizeof(TimestampTz) * room);
	for (int i = 0; i < room; i++)
		hold_null[i] = true;

	for (int i = 0; i < cfg->npublic; i++)
		add_row(res, &cfg->benefits[cfg->public_live[i]], NULL, NULL);
	if (!in->contact_null)
	{
		add_keyed(res, cfg, cfg->by_campaign, cfg->ncampaign, buyer->campaigns, buyer->ncampaigns);
		add_keyed(res, cfg, cfg->by_level, cfg->nlevel, buyer->levels, buyer->nlevels);
	}

	/* the codes entered: partner first (once a benefit: its first code in text order), single-use, unknown */
	first_code = res->nrows;
	for (int i = 0; i < in->nentered; i++)
	{
		const char *e = in->entered[i];
		const CfgBenefit *p;
		bool		found = false;
		uint64_t	value;

		switch (read_code(cfg, e, &p))
		{
			case CODE_PARTNER:
				for (int k = first_code; k < res->nrows && !found; k++)
					found = res->rows[k].b == p && res->rows[k].su_code == NULL;
				if (!found)
					add_row(res, p, e, NULL);
				break;
			case CODE_SINGLE_USE:
				(void) bcode_parse(e, strlen(e), &value, NULL);
				for (int k = 0; k < buyer->ncodes; k++)
				{
					const CfgBenefit *b;
					char	   *canonical;

					if (buyer->code_value[k] != (int64) value)
						continue;
					found = true;
					b = cfg_benefit(cfg, buyer->code_benefit[k]);
					if (b == NULL)
					{
						/* a benefit newer than the cache (its invalidation is on its way) */
						add_row(res, NULL, e, NULL)->reason = "unknown_code";
						continue;
					}
					states[res->nrows] = buyer->code_state[k];
					hold_null[res->nrows] = buyer->hold_null[k];
					hold_until[res->nrows] = buyer->hold_until[k];
					canonical = palloc(BCODE_TEXT_SIZE);
					bcode_format((uint64_t) buyer->code_value[k], canonical);
					add_row(res, b, e, canonical);
				}
				if (!found)
					add_row(res, NULL, e, NULL)->reason = "unknown_code";
				break;
			case CODE_UNKNOWN:
				add_row(res, NULL, e, NULL)->reason = "unknown_code";
				break;
		}
	}

	read_counters(in, res);
	for (int i = 0; i < res->nrows; i++)
		if (res->rows[i].b != NULL)
			res->rows[i].reason = decide(in, &res->rows[i], states[i], hold_null[i], hold_until[i]);
}

/* The rows available returns, in its order: ok first, then by benefit code, then entered code. */
static int
cmp_available(const void *a, const void *b)
{
	const EligRow *x = a;
	const EligRow *y = b;
	bool		xok = strcmp(x->reason, "ok") == 0;
	bool		yok = strcmp(y->reason, "ok") == 0;
	int			c;

	if (xok != yok)
		return xok ? -1 : 1;
	if ((x->b == NULL) != (y->b == NULL))
		return x->b == NULL ? 1 : -1;
	if (x->b != NULL && (c = elig_cmp_text(x->b->code, y->b->code)) != 0)
		return c;
	if ((x->entered == NULL) != (y->entered == NULL))
		return x->entered == NULL ? 1 : -1;
	if (x->entered != NULL)
		return elig_cmp_text(x->entered, y->entered);
	return 0;
}

/* The units this buyer may still take of r's benefit (the least of its limits left); false: no limit. */
static bool
quota_left(const EligRow *r, int32 *left)
{
	const CfgBenefit *b = r->b;
	bool		set = false;
	int64		v = 0;

	if (b->quota_total < 0 && b->quota_per_contact < 0)
	{
		*left = b->quota_per_order;
		return b->quota_per_order >= 0;
	}
	if (b->quota_total >= 0)
	{
		v = Max(b->quota_total - r->slots_used, 0);
		set = true;
	}
	if (b->quota_per_contact >= 0)
	{
		int64		c = Max(b->quota_per_contact - r->contact_used, 0);

		v = set ? Min(v, c) : c;
		set = true;
	}
	if (b->quota_per_order >= 0)
		v = Min(v, b->quota_per_order);
	*left = (int32) v;
	return true;
}

PG_FUNCTION_INFO_V1(benefit_available);

/*
 * benefit.available(contact_id, channel, at, codes, point_of_sale,
 *                   client_key) RETURNS TABLE (benefit_id, benefit_code,
 *                   name, target_type, entered_code, reason, valid_until,
 *                   quota_left, tariffs):
 * the benefits a buyer may use, those it can no longer use (sold out, its
 * own limit used up) and what every entered code points to; the codes of
 * a throttled buyer are not looked at (each comes back throttled),
 * otherwise the codes that matched nothing count against the buyer.
 * SECURITY DEFINER without a SET clause: pg_catalog is pushed as the only
 * schema searched.
 */
Datum
benefit_available(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool		contact_null = PG_ARGISNULL(0);
	int64		contact_id = contact_null ? 0 : PG_GETARG_INT64(0);
	bool		codes_null = PG_ARGISNULL(3);
	text	   *client_key = PG_ARGISNULL(5) ? NULL : PG_GETARG_TEXT_PP(5);
	bool		keyed = !contact_null || client_key != NULL;
	char	  **entered;
	int			nentered;
	bool		throttled;
	const BenefitConfig *cfg;
	BenefitSale sale;
	EligInput	in;
	EligBuyer	buyer;
	EligResult	res;
	Oid			reason_type;
	int			unknown = 0;

	InitMaterializedSRF(fcinfo, 0);
	reason_type = TupleDescAttr(rsinfo->setDesc, 5)->atttypid;
	nentered = benefit_entered_codes(PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3), codes_null, &entered);

	/* entered codes from a throttled contact or client key are not looked at */
	throttled = keyed && nentered > 0 && benefit_throttle_check(!contact_null, contact_id, client_key);

	/* no SPI connection: nothing here runs a statement (a build of the cache connects itself) */
	benefit_push_search_path();
	cfg = benefit_config_pin();
	if (cfg == NULL)
		elog(ERROR, "the configuration cache is not available in this database");
	benefit_check_sale_refs(cfg, PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1), PG_ARGISNULL(1),
							PG_ARGISNULL(4) ? (Datum) 0 : PG_GETARG_DATUM(4), PG_ARGISNULL(4), true, &sale);
	memset(&in, 0, sizeof(in));
	in.cfg = cfg;
	in.contact_null = contact_null;
	in.contact_id = contact_id;
	in.channel_id = sale.channel_id;
	in.web = sale.channel_web;
	in.pos_null = sale.point_of_sale_null;
	in.pos_id = sale.point_of_sale_id;
	in.at = PG_ARGISNULL(2) ? GetCurrentTimestamp() : PG_GETARG_TIMESTAMPTZ(2);
	if (!throttled && !codes_null &&
		ArrayGetNItems(ARR_NDIM(PG_GETARG_ARRAYTYPE_P(3)), ARR_DIMS(PG_GETARG_ARRAYTYPE_P(3))) <= 100)
	{
		in.entered = entered;
		in.nentered = nentered;
	}
	elig_read_buyer(&in, &buyer);
	if (!buyer.contact_exists)
		benefit_refuse_contact(contact_id);
	if (!throttled)
		benefit_check_code_count(PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3), codes_null);
	elig_decide(&in, &buyer, &res);

	/* usable ones, those this buyer can no longer use, and whatever an entered code points to */
	{
		int			n = 0;

		for (int i = 0; i < res.nrows; i++)
		{
			const char *reason = res.rows[i].reason;

			if (strcmp(reason, "ok") == 0 || strcmp(reason, "quota_exhausted") == 0 ||
				strcmp(reason, "contact_quota_exhausted") == 0 || res.rows[i].entered != NULL)
				res.rows[n++] = res.rows[i];
		}
		res.nrows = n;
	}
	qsort(res.rows, res.nrows, sizeof(EligRow), cmp_available);

	for (int i = 0; i < res.nrows; i++)
	{
		const EligRow *r = &res.rows[i];
		const CfgBenefit *b = r->b;
		Datum		values[9];
		bool		nulls[9];
		int32		left = 0;

		memset(nulls, true, sizeof(nulls));
		if (b != NULL)
		{
			values[0] = Int64GetDatum(b->id);
			nulls[0] = false;
			values[1] = CStringGetTextDatum(b->code);
			nulls[1] = false;
			values[2] = CStringGetTextDatum(b->name);
			nulls[2] = false;
			values[3] = b->target_type;
			nulls[3] = false;
			values[6] = TimestampTzGetDatum(b->valid_until);
			nulls[6] = !b->valid_until_set;
			nulls[7] = !quota_left(r, &left);
			values[7] = Int32GetDatum(left);
			values[8] = JsonbPGetDatum(b->tariffs_json);
			nulls[8] = b->tariffs_json == NULL;
		}
		if (r->entered != NULL)
		{
			values[4] = CStringGetTextDatum(r->entered);
			nulls[4] = false;
		}
		values[5] = benefit_reason_datum(reason_type, r->reason);
		nulls[5] = false;
		if (strcmp(r->reason, "unknown_code") == 0)
			unknown++;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	if (throttled)
	{
		for (int i = 0; i < nentered; i++)
		{
			Datum		values[9];
			bool		nulls[9];

			memset(nulls, true, sizeof(nulls));
			values[4] = CStringGetTextDatum(entered[i]);
			nulls[4] = false;
			values[5] = benefit_reason_datum(reason_type, "throttled");
			nulls[5] = false;
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	else if (keyed && unknown > 0)
		benefit_throttle_count(!contact_null, contact_id, client_key, unknown);
	benefit_config_unpin();
	benefit_pop_search_path();
	return (Datum) 0;
}
