/*-------------------------------------------------------------------------
 *
 * eligibility.c
 *		Who may use what, on the configuration cache (config.c): the rules
 *		of benefit_internal.eligibility (16_eligibility.sql) in C, for price
 *		(pricing.c) and benefit.available (below).
 *
 * The configuration comes from the cache; the buyer's own rows from at most
 * two kept statements a call: one for the contact (does it exist, its
 * campaigns, its indicator levels) and the single-use codes entered (state
 * and hold), then one for the counters of the candidate benefits that have
 * a limit (and of the promo code priced).  Then, in C, the candidates as
 * eligibility lists them (the live public benefits, the contact's
 * campaign and indicator benefits, and whatever an entered code points to:
 * a partner access code first, then a single-use code, else unknown_code,
 * as benefit_internal.read_codes reads them) and for each the one rule of a
 * use (use_rule.h).  Both statements run read-only on the snapshot of the
 * calling statement.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/formatting.h"
#include "utils/lsyscache.h"
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

static BenefitPlans plans;
static SPIPlanPtr plan_buyer;
static SPIPlanPtr plan_buyer_codes;
static SPIPlanPtr plan_counters;

/* The counter kinds, as the counter statement numbers them. */
#define KIND_BENEFIT_SLOT 1
#define KIND_BENEFIT_CONTACT 2
#define KIND_BENEFIT_PERFORMANCE 3
#define KIND_PROMO_SLOT 4
#define KIND_PROMO_CONTACT 5
#define KIND_PROMO_BUDGET 6
static Oid	kind_type;			/* benefit.counter_kind */
static Oid	kind_oids[7];		/* its labels, by the numbers above */

/* Prepares the statements of this file (the plan rule of spi_util.h). */
static void
make_plans(BenefitPlans *set, Oid made_for)
{
	Oid			t_buyer[2] = {INT8OID, get_array_type(made_for)};
	Oid			t_counters[5];
	Oid			nsp = get_namespace_oid(BENEFIT_PUBLIC_SCHEMA, false);
	static const char *const labels[] = {NULL, "benefit_slot", "benefit_contact", "benefit_performance",
	"promo_slot", "promo_contact", "promo_budget"};

	kind_type = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid, CStringGetDatum("counter_kind"),
								ObjectIdGetDatum(nsp));
	if (!OidIsValid(kind_type))
		elog(ERROR, "type benefit.counter_kind does not exist");
	for (int k = 1; k <= 6; k++)
		kind_oids[k] = DatumGetObjectId(DirectFunctionCall2(enum_in, CStringGetDatum(labels[k]),
															ObjectIdGetDatum(kind_type)));
	t_counters[0] = get_array_type(kind_type);
	t_counters[1] = INT8ARRAYOID;
	t_counters[2] = t_counters[0];
	t_counters[3] = INT8ARRAYOID;
	t_counters[4] = INT8ARRAYOID;

	/*
	 * the contact: does it exist, its campaigns, its indicator levels; a
	 * contact with a campaign target or an indicator level exists (their
	 * foreign keys), the contact row is read only for one with neither
	 */
#define BUYER_COLUMNS \
	"$1::pg_catalog.int8 IS NULL OR pg_catalog.cardinality(s.c) > 0 OR pg_catalog.cardinality(s.l) > 0 " \
	"       OR EXISTS (SELECT 1 FROM benefit.contact c WHERE c.contact_id = $1), s.c, s.l "
#define BUYER_ROWS \
	"  FROM (SELECT ARRAY(SELECT ct.campaign_id FROM benefit.campaign_target ct WHERE ct.contact_id = $1) AS c, " \
	"               ARRAY(SELECT ci.level_id FROM benefit.contact_indicator ci WHERE ci.contact_id = $1) AS l " \
	"         OFFSET 0) s "
	plan_buyer = benefit_plans_keep(set, "SELECT " BUYER_COLUMNS BUYER_ROWS, 1, t_buyer);

	/* the same (row 0), then each single-use code of $2 that exists */
	plan_buyer_codes = benefit_plans_keep(set,
		"SELECT 0, " BUYER_COLUMNS ", "
		"       NULL::benefit.code, NULL::pg_catalog.int8, NULL::pg_catalog.text, NULL::pg_catalog.timestamptz "
		BUYER_ROWS
		"UNION ALL "
		"SELECT 1, NULL, NULL, NULL, c.code, c.benefit_id, c.state::pg_catalog.text, c.hold_until "
		"  FROM benefit.single_use_code c WHERE c.code OPERATOR(benefit.=) ANY ($2)",
		2, t_buyer);

	/*
	 * the counters, each (kind, owner, key) row with its units held and
	 * used: every slot of the owners $2 of the slot kinds $1, and the rows
	 * of keys $5 of the owners $4 of the other kinds $3 (kinds by the
	 * numbers above; the caller drops what it did not ask for)
	 */
	plan_counters = benefit_plans_keep(set,
		"SELECT CASE ct.kind WHEN 'benefit_slot' THEN 1 WHEN 'benefit_contact' THEN 2 "
		"                    WHEN 'benefit_performance' THEN 3 WHEN 'promo_slot' THEN 4 "
		"                    WHEN 'promo_contact' THEN 5 ELSE 6 END, "
		"       ct.owner_id, ct.key, (ct.held + ct.used)::pg_catalog.int8 "
		"  FROM benefit.counter ct WHERE ct.kind = ANY ($1) AND ct.owner_id = ANY ($2) "
		"UNION ALL "
		"SELECT CASE ct.kind WHEN 'benefit_slot' THEN 1 WHEN 'benefit_contact' THEN 2 "
		"                    WHEN 'benefit_performance' THEN 3 WHEN 'promo_slot' THEN 4 "
		"                    WHEN 'promo_contact' THEN 5 ELSE 6 END, "
		"       ct.owner_id, ct.key, (ct.held + ct.used)::pg_catalog.int8 "
		"  FROM benefit.counter ct WHERE ct.kind = ANY ($3) AND ct.owner_id = ANY ($4) AND ct.key = ANY ($5)",
		5, t_counters);
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

/* An int8[] array Datum of the values of an ARRAY column, into *out; returns how many. */
static int
int8_array_col(int row, int col, int64 **out)
{
	bool		isnull;
	Datum		d = col_datum(row, col, &isnull);
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	*out = NULL;
	if (isnull)
		return 0;
	deconstruct_array(DatumGetArrayTypeP(d), INT8OID, sizeof(int64), true, TYPALIGN_DOUBLE, &elems, &nulls, &n);
	*out = palloc(sizeof(int64) * Max(n, 1));
	for (int i = 0; i < n; i++)
		(*out)[i] = DatumGetInt64(elems[i]);
	return n;
}

/*
 * The buyer's own rows: whether the contact exists, its campaigns and
 * indicator levels, the single-use codes entered (one statement; none when
 * the buyer is anonymous and entered no single-use code).  The caller is
 * connected to SPI; the result is in the current memory context.
 */
void
elig_read_buyer(const EligInput *in, EligBuyer *buyer)
{
	MemoryContext cxt = CurrentMemoryContext;
	Datum	   *values = palloc(sizeof(Datum) * Max(in->nentered, 1));
	int			nvalues = 0;
	Datum		args[2];
	char		nulls[2] = {' ', ' '};
	int			ret;
	int			head;

	memset(buyer, 0, sizeof(EligBuyer));
	buyer->contact_exists = true;
	for (int i = 0; i < in->nentered; i++)
	{
		const CfgBenefit *p;
		uint64_t	v;

		if (read_code(in->cfg, in->entered[i], &p) == CODE_SINGLE_USE &&
			bcode_parse(in->entered[i], strlen(in->entered[i]), &v, NULL) == BCODE_OK)
			values[nvalues++] = Int64GetDatum((int64) v);
	}
	if (in->contact_null && nvalues == 0)
		return;

	benefit_plans_get(&plans, benefit_code_type_oid(), make_plans);
	args[0] = Int64GetDatum(in->contact_id);
	nulls[0] = in->contact_null ? 'n' : ' ';
	if (nvalues == 0)
		ret = SPI_execute_plan(plan_buyer, args, nulls, true, 0);
	else
	{
		args[1] = PointerGetDatum(construct_array(values, nvalues, benefit_code_type_oid(), sizeof(int64),
												  true, TYPALIGN_DOUBLE));
		ret = SPI_execute_plan(plan_buyer_codes, args, nulls, true, 0);
	}
	MemoryContextSwitchTo(cxt);
	if (ret != SPI_OK_SELECT || SPI_processed < 1)
		elog(ERROR, "reading the buyer's rows failed: %s", SPI_result_code_string(ret));

	/* the statement without codes has the contact's columns first, the other after the row kind */
	head = nvalues == 0 ? 0 : 1;
	buyer->code_value = palloc(sizeof(int64) * SPI_processed);
	buyer->code_benefit = palloc(sizeof(int64) * SPI_processed);
	buyer->code_state = palloc(sizeof(char *) * SPI_processed);
	buyer->hold_null = palloc(sizeof(bool) * SPI_processed);
	buyer->hold_until = palloc(sizeof(TimestampTz) * SPI_processed);
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		bool		isnull;
		int			row = (int) r;

		if (head == 0 || col_int4(row, 1, &isnull) == 0)
		{
			buyer->contact_exists = col_bool(row, head + 1);
			buyer->ncampaigns = int8_array_col(row, head + 2, &buyer->campaigns);
			buyer->nlevels = int8_array_col(row, head + 3, &buyer->levels);
			continue;
		}
		buyer->code_value[buyer->ncodes] = col_int8(row, 5, &isnull);
		buyer->code_benefit[buyer->ncodes] = col_int8(row, 6, &isnull);
		buyer->code_state[buyer->ncodes] = col_text(row, 7, cxt);
		buyer->hold_until[buyer->ncodes] = col_timestamptz(row, 8, &buyer->hold_null[buyer->ncodes]);
		buyer->ncodes++;
	}
	SPI_freetuptable(SPI_tuptable);
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

/* Adds a counter kind to a kind[] parameter (once). */
static void
add_kind(Datum *kinds, int *n, int kind)
{
	for (int i = 0; i < *n; i++)
		if (kinds[i] == ObjectIdGetDatum(kind_oids[kind]))
			return;
	kinds[(*n)++] = ObjectIdGetDatum(kind_oids[kind]);
}

static Datum
kind_array(Datum *kinds, int n)
{
	return PointerGetDatum(construct_array(kinds, n, kind_type, sizeof(Oid), true, TYPALIGN_INT));
}

/*
 * Reads the counters of the candidates that have a limit, and of the promo
 * code (one statement; none when nothing has a limit).
 */
static void
read_counters(const EligInput *in, EligResult *res)
{
	MemoryContext cxt = CurrentMemoryContext;
	int			room = res->nrows + 1;
	int64	   *slot_owners = palloc(sizeof(int64) * room);
	int64	   *key_owners = palloc(sizeof(int64) * room);
	int64	   *keys = palloc(sizeof(int64) * (in->nperf + 1));
	bool	   *nonulls = palloc0(sizeof(bool) * Max(room, in->nperf + 1));
	Datum		slot_kinds[3];
	Datum		key_kinds[3];
	int			nslot_kinds = 0;
	int			nkey_kinds = 0;
	int			nslot = 0;
	int			nkey_owners = 0;
	int			nkeys = 0;
	Datum		args[5];
	int			ret;

	/* first: the kinds' OIDs are those of the extension installed now */
	benefit_plans_get(&plans, benefit_code_type_oid(), make_plans);
	for (int i = 0; i < res->nrows; i++)
	{
		const CfgBenefit *b = res->rows[i].b;
		bool		keyed = false;

		if (b == NULL)
			continue;
		if (b->quota_total >= 0)
		{
			add_kind(slot_kinds, &nslot_kinds, KIND_BENEFIT_SLOT);
			slot_owners[nslot++] = b->id;
		}
		if (b->quota_per_contact >= 0 && !in->contact_null)
		{
			add_kind(key_kinds, &nkey_kinds, KIND_BENEFIT_CONTACT);
			keyed = true;
		}
		if (b->quota_per_performance >= 0 && in->nperf > 0)
		{
			add_kind(key_kinds, &nkey_kinds, KIND_BENEFIT_PERFORMANCE);
			keyed = true;
		}
		if (keyed)
			key_owners[nkey_owners++] = b->id;
	}
	if (in->promo != NULL)
	{
		add_kind(slot_kinds, &nslot_kinds, KIND_PROMO_SLOT);
		add_kind(slot_kinds, &nslot_kinds, KIND_PROMO_BUDGET);
		slot_owners[nslot++] = in->promo->id;
		if (!in->contact_null)
		{
			add_kind(key_kinds, &nkey_kinds, KIND_PROMO_CONTACT);
			key_owners[nkey_owners++] = in->promo->id;
		}
	}
	if (nslot == 0 && nkey_owners == 0)
		return;
	if (!in->contact_null)
		keys[nkeys++] = in->contact_id;
	for (int k = 0; k < in->nperf; k++)
		keys[nkeys++] = in->perf_ids[k];

	args[0] = kind_array(slot_kinds, nslot_kinds);
	args[1] = benefit_int8_array(slot_owners, nonulls, nslot);
	args[2] = kind_array(key_kinds, nkey_kinds);
	args[3] = benefit_int8_array(key_owners, nonulls, nkey_owners);
	args[4] = benefit_int8_array(keys, nonulls, nkeys);
	ret = SPI_execute_plan(plan_counters, args, NULL, true, 0);
	MemoryContextSwitchTo(cxt);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "reading the counters failed: %s", SPI_result_code_string(ret));
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		bool		isnull;
		int			row = (int) r;
		int			kind = col_int4(row, 1, &isnull);
		int64		owner = col_int8(row, 2, &isnull);
		int64		key = col_int8(row, 3, &isnull);
		int64		used = col_int8(row, 4, &isnull);

		/* the rows of the promo code (a benefit may have its id: the kind tells) */
		if (kind >= KIND_PROMO_SLOT)
		{
			if (in->promo == NULL || owner != in->promo->id)
				continue;
			if (kind == KIND_PROMO_SLOT)
				res->promo_taken += used;
			else if (kind == KIND_PROMO_BUDGET)
				res->promo_budget_taken += used;
			else if (!in->contact_null && key == in->contact_id)
				res->promo_by_contact = used;
			continue;
		}
		for (int i = 0; i < res->nrows; i++)
		{
			EligRow    *e = &res->rows[i];
			const CfgBenefit *b = e->b;

			if (b == NULL || b->id != owner)
				continue;
			if (kind == KIND_BENEFIT_SLOT && b->quota_total >= 0)
			{
				e->slots_found = true;
				e->slots_used += used;
			}
			else if (kind == KIND_BENEFIT_CONTACT && b->quota_per_contact >= 0 &&
					 !in->contact_null && key == in->contact_id)
				e->contact_used = used;
			else if (kind == KIND_BENEFIT_PERFORMANCE && b->quota_per_performance >= 0 && in->nperf > 0)
			{
				bool		asked = false;

				for (int k = 0; k < in->nperf && !asked; k++)
					asked = in->perf_ids[k] == key;
				if (!asked)
					continue;
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
	SPI_freetuptable(SPI_tuptable);
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
 * limit, and of the promo code.  The caller is connected to SPI.
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
	MemoryContext cxt;

	InitMaterializedSRF(fcinfo, 0);
	reason_type = TupleDescAttr(rsinfo->setDesc, 5)->atttypid;
	nentered = benefit_entered_codes(PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3), codes_null, &entered);

	/* entered codes from a throttled contact or client key are not looked at */
	throttled = keyed && nentered > 0 && benefit_throttle_check(!contact_null, contact_id, client_key);

	cxt = CurrentMemoryContext;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	MemoryContextSwitchTo(cxt);
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
	SPI_finish();
	return (Datum) 0;
}
