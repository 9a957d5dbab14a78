/*-------------------------------------------------------------------------
 *
 * generate.c
 *		benefit.generate_codes: bulk generation of single-use codes.
 *
 * Codes come from pg_strong_random(); 64 random bits are masked to 60
 * (bcode_from_random), so there is no modulo bias.
 *
 * They are drawn GEN_DRAW at a time and sorted, then written as COPY writes
 * rows: through the table access method's multi-insert
 * (table_multi_insert) in batches of GEN_BATCH rows, each row's
 * check constraints tested first (ExecConstraints) and its index entries
 * made after the batch is in the heap (ExecInsertIndexTuples), with the
 * executor state of one INSERT into benefit.single_use_code (privileges
 * checked as for an INSERT).  A batch's memory is reset after it is
 * written, so backend memory stays bounded whatever the count.  A drawn
 * code is kept only if it is new: a code drawn twice in a round is kept
 * once; a code already in the table (or being written
 * by another transaction) is reported, not raised, by the primary key's
 * uniqueness check as the entry goes in, and that row is deleted again
 * (see writer_flush).  The codes lost to collisions (rare: 2^60 values)
 * are drawn again in the next round, so a collision is never the caller's
 * error.
 *
 * Should the table ever carry what this path cannot honour (insert
 * triggers, row security, a volatile default, a deferred unique index, a
 * stored generated column), the codes go through a kept SPI INSERT in
 * chunks of GEN_CHUNK instead: a chunk is inserted plainly inside a
 * subtransaction, and on a unique violation again with ON CONFLICT DO
 * NOTHING.  The batch row, the mail outbox row and the NOTIFY are written
 * in the caller's transaction: all or nothing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/sysattr.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "rewrite/rewriteHandler.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "code_format.h"
#include "generate.h"
#include "read_only.h"
#include "spi_util.h"

/* Codes inserted per statement on the SPI path: 80 kB of values, one array. */
#define GEN_CHUNK 10000

/* Codes drawn (and sorted) per round of the multi-insert path: 512 kB of values. */
#define GEN_DRAW 65536

/* Rows written by one table_multi_insert, as COPY does. */
#define GEN_BATCH 1000

static BenefitPlans plans;
static SPIPlanPtr plan_benefit;
static SPIPlanPtr plan_contact;
static SPIPlanPtr plan_batch;
static SPIPlanPtr plan_insert_fast;
static SPIPlanPtr plan_insert_safe;
static SPIPlanPtr plan_outbox;
static SPIPlanPtr plan_notify;

int			benefit_test_code_bits = 60;

/* Prepares the statements of this file for type code_type (the plan rule of spi_util.h). */
static void
make_plans(BenefitPlans *set, Oid code_type)
{
	Oid			arr_type;
	Oid			t_int8[1] = {INT8OID};
	Oid			t_batch[8] = {INT8OID, INT8OID, INT8OID, INT4OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Oid			t_insert[3];
	Oid			t_outbox[4] = {INT8OID, TEXTOID, TEXTOID, TEXTOID};

	arr_type = get_array_type(code_type);
	t_insert[0] = arr_type;
	t_insert[1] = INT8OID;
	t_insert[2] = INT8OID;

	plan_benefit = benefit_plans_keep(set,
		"SELECT b.target_type::text, b.status::text, b.season_id, b.code "
		"FROM benefit.benefit b WHERE b.benefit_id = $1 FOR SHARE",
		1, t_int8);
	plan_contact = benefit_plans_keep(set,
		"SELECT c.kind::text, c.email, c.name FROM benefit.contact c WHERE c.contact_id = $1",
		1, t_int8);
	plan_batch = benefit_plans_keep(set,
		"INSERT INTO benefit.code_batch "
		"(benefit_id, season_id, contact_id, code_count, email, document, language, created_by) "
		"VALUES ($1, $2, $3, $4, $5, $6, $7, $8::pg_catalog.name) RETURNING batch_id",
		8, t_batch);
	plan_insert_fast = benefit_plans_keep(set,
		"INSERT INTO benefit.single_use_code (code, batch_id, benefit_id) "
		"SELECT u.c, $2, $3 FROM pg_catalog.unnest($1) AS u(c)",
		3, t_insert);
	plan_insert_safe = benefit_plans_keep(set,
		"INSERT INTO benefit.single_use_code (code, batch_id, benefit_id) "
		"SELECT u.c, $2, $3 FROM pg_catalog.unnest($1) AS u(c) "
		"ON CONFLICT (code) DO NOTHING",
		3, t_insert);
	plan_outbox = benefit_plans_keep(set,
		"INSERT INTO benefit.mail_outbox (batch_id, email, document, language) "
		"VALUES ($1, $2, $3, $4)",
		4, t_outbox);
	plan_notify = benefit_plans_keep(set,
		"SELECT pg_catalog.pg_notify('" BENEFIT_BATCH_CHANNEL "', $1::pg_catalog.text)",
		1, t_int8);
}

/* Draws n codes into values. */
static void
draw_codes(uint64 *values, int n)
{
	if (!pg_strong_random(values, sizeof(uint64) * n))
		ereport(ERROR,
				errcode(ERRCODE_INTERNAL_ERROR),
				errmsg("could not generate random codes"),
				errdetail("pg_strong_random() failed."));
	for (int i = 0; i < n; i++)
	{
		uint64		value = bcode_from_random(values[i]);

		/* benefit.test_code_bits narrows the code space for tests only */
		if (benefit_test_code_bits < 60)
			value &= (UINT64CONST(1) << benefit_test_code_bits) - 1;
		values[i] = value;
	}
}

/* A chunk of codes to insert (the statement's arguments) and how many went in. */
typedef struct InsertChunk
{
	Datum	   *args;
	uint64		inserted;
} InsertChunk;

/* The fast insert of a chunk: the codes as they are (a unique violation rolls it back). */
static bool
insert_fast(void *arg)
{
	InsertChunk *chunk = arg;
	int			ret = SPI_execute_plan(plan_insert_fast, chunk->args, NULL, false, 0);

	if (ret != SPI_OK_INSERT)
		elog(ERROR, "inserting codes failed: %s", SPI_result_code_string(ret));
	chunk->inserted = SPI_processed;
	return true;
}

/* Generates and inserts n codes; returns how many went in (fewer only on collisions). */
static uint64
insert_chunk(Oid code_type, int n, int64 batch_id, int64 benefit_id)
{
	uint64	   *random = palloc(sizeof(uint64) * n);
	Datum	   *elems = palloc(sizeof(Datum) * n);
	Datum		args[3];
	InsertChunk chunk;
	int			ret;

	draw_codes(random, n);
	for (int i = 0; i < n; i++)
		elems[i] = Int64GetDatum((int64) random[i]);

	args[0] = PointerGetDatum(construct_array(elems, n, code_type, sizeof(int64), true, TYPALIGN_DOUBLE));
	args[1] = Int64GetDatum(batch_id);
	args[2] = Int64GetDatum(benefit_id);

	chunk.args = args;
	if (benefit_in_subxact(insert_fast, &chunk, ERRCODE_UNIQUE_VIOLATION))
		return chunk.inserted;

	/* A collision: keep the codes that are new, the caller draws again. */
	ret = SPI_execute_plan(plan_insert_safe, args, NULL, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "inserting codes failed: %s", SPI_result_code_string(ret));
	return SPI_processed;
}

/* Runs a kept SELECT plan expected to return at most one row. */
static bool
select_one(SPIPlanPtr plan, Datum *args)
{
	int			ret = SPI_execute_plan(plan, args, NULL, false, 1);

	if (ret != SPI_OK_SELECT)
		elog(ERROR, "lookup failed: %s", SPI_result_code_string(ret));
	return SPI_processed == 1;
}

/*
 * Checks that the benefit exists, is single-use and is not closed, and
 * locks it against closing; returns its season.
 */
static Datum
lock_benefit(int64 benefit_id)
{
	Datum		args[1];
	bool		isnull;
	char	   *target;
	char	   *status;
	char	   *bcode;

	args[0] = Int64GetDatum(benefit_id);
	if (!select_one(plan_benefit, args))
		ereport(ERROR,
				errcode(ERRCODE_NO_DATA_FOUND),
				errmsg("benefit " INT64_FORMAT " does not exist", benefit_id));
	target = col_text(0, 1, NULL);
	status = col_text(0, 2, NULL);
	bcode = col_text(0, 4, NULL);
	if (strcmp(target, "single_use") != 0)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("benefit \"%s\" is not a single-use benefit", bcode),
				errdetail("Its target type is %s; codes are generated for single_use benefits only.", target));
	if (strcmp(status, "closed") == 0)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("benefit \"%s\" is closed", bcode),
				errdetail("Codes cannot be generated for a closed benefit."));
	return col_datum(0, 3, &isnull);
}

/* Checks that the contact exists and is an organisation with an e-mail; returns the e-mail. */
static Datum
contact_email(int64 contact_id)
{
	Datum		args[1];
	bool		isnull;
	Datum		email;

	args[0] = Int64GetDatum(contact_id);
	if (!select_one(plan_contact, args))
		ereport(ERROR,
				errcode(ERRCODE_NO_DATA_FOUND),
				errmsg("contact " INT64_FORMAT " does not exist", contact_id));
	if (strcmp(col_text(0, 1, NULL), "organisation") != 0)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("contact \"%s\" is not an organisation", col_text(0, 3, NULL)),
				errdetail("Batches of single-use codes go to organisation contacts."));
	email = col_datum(0, 2, &isnull);
	if (isnull)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("organisation \"%s\" has no e-mail address", col_text(0, 3, NULL)),
				errhint("Set benefit.contact.email: the codes are mailed to it."));
	return datumCopy(email, false, -1);
}

/*
 * The multi-insert writer of one call: the executor state of an INSERT
 * into benefit.single_use_code and GEN_BATCH slots.
 */
typedef struct CodeWriter
{
	Relation	rel;
	EState	   *estate;
	ResultRelInfo *rri;
	TupleTableSlot **slots;
	List	   *arbiters;		/* the primary key, whose conflicts are reported, not raised */
	BulkInsertState bistate;
	MemoryContext flushcxt;		/* reset after each GEN_BATCH rows */
	CommandId	cid;
	int			natts;
	AttrNumber	att_code;
	AttrNumber	att_batch;
	AttrNumber	att_benefit;
	Datum	   *values;			/* a row's values, all but the code fixed */
	bool	   *isnull;
} CodeWriter;

/* Does the relation carry something the multi-insert path cannot honour? */
static bool
needs_spi_path(Relation rel)
{
	TriggerDesc *trig = rel->trigdesc;
	TupleConstr *constr = RelationGetDescr(rel)->constr;

	if (rel->rd_rel->relkind != RELKIND_RELATION || rel->rd_rel->relrowsecurity)
		return true;
	/* any insert trigger (foreign keys included), row or statement */
	if (trig != NULL &&
		(trig->trig_insert_before_row || trig->trig_insert_after_row ||
		 trig->trig_insert_instead_row || trig->trig_insert_before_statement ||
		 trig->trig_insert_after_statement || trig->trig_insert_new_table))
		return true;
	if (constr != NULL && constr->has_generated_stored)
		return true;
	return false;
}

/*
 * Opens the writer, with the privileges of an INSERT of the three columns
 * checked (as the function's owner); returns false, having opened nothing,
 * when the codes must go through SPI instead.
 */
static bool
writer_open(CodeWriter *w, int64 batch_id, int64 benefit_id)
{
	Oid			nsp = get_namespace_oid("benefit", false);
	Oid			relid = get_relname_relid("single_use_code", nsp);
	RangeTblEntry *rte;
	TupleDesc	desc;
	Oid			pk_oid;
	Relation	pk = NULL;
	MemoryContext oldcxt;

	if (!OidIsValid(relid))
		elog(ERROR, "table benefit.single_use_code does not exist");
	memset(w, 0, sizeof(*w));
	w->rel = table_open(relid, RowExclusiveLock);
	desc = RelationGetDescr(w->rel);
	w->natts = desc->natts;
	w->att_code = get_attnum(relid, "code");
	w->att_batch = get_attnum(relid, "batch_id");
	w->att_benefit = get_attnum(relid, "benefit_id");
	if (w->att_code == InvalidAttrNumber || w->att_batch == InvalidAttrNumber ||
		w->att_benefit == InvalidAttrNumber)
		elog(ERROR, "benefit.single_use_code lacks a column generate_codes writes");

	if (needs_spi_path(w->rel))
	{
		table_close(w->rel, NoLock);
		return false;
	}

	/* the executor state of an INSERT (code, batch_id, benefit_id) */
	w->estate = CreateExecutorState();
	oldcxt = MemoryContextSwitchTo(w->estate->es_query_cxt);
	rte = makeNode(RangeTblEntry);
	rte->rtekind = RTE_RELATION;
	rte->relid = relid;
	rte->relkind = w->rel->rd_rel->relkind;
	rte->rellockmode = RowExclusiveLock;
	rte->requiredPerms = ACL_INSERT;
	rte->insertedCols = bms_make_singleton(w->att_code - FirstLowInvalidHeapAttributeNumber);
	rte->insertedCols = bms_add_member(rte->insertedCols, w->att_batch - FirstLowInvalidHeapAttributeNumber);
	rte->insertedCols = bms_add_member(rte->insertedCols, w->att_benefit - FirstLowInvalidHeapAttributeNumber);
	ExecCheckRTPerms(list_make1(rte), true);
	ExecInitRangeTable(w->estate, list_make1(rte));
	w->rri = makeNode(ResultRelInfo);
	ExecInitResultRelation(w->estate, w->rri, 1);
	ExecOpenIndices(w->rri, false);
	w->cid = GetCurrentCommandId(true);
	w->estate->es_output_cid = w->cid;

	/* the fixed values of a row: the batch, the benefit and the columns' defaults */
	w->values = palloc0(sizeof(Datum) * w->natts);
	w->isnull = palloc(sizeof(bool) * w->natts);
	for (int i = 0; i < w->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		AttrNumber	attnum = i + 1;
		Node	   *defexpr;

		w->isnull[i] = true;
		if (att->attisdropped || attnum == w->att_code)
			continue;
		if (attnum == w->att_batch || attnum == w->att_benefit)
		{
			w->values[i] = Int64GetDatum(attnum == w->att_batch ? batch_id : benefit_id);
			w->isnull[i] = false;
			continue;
		}
		defexpr = build_column_default(w->rel, attnum);
		if (defexpr == NULL)
			continue;
		if (contain_volatile_functions(defexpr))
		{
			/* a default to evaluate row by row: not this path's job */
			MemoryContextSwitchTo(oldcxt);
			ExecCloseResultRelations(w->estate);
			ExecCloseRangeTableRelations(w->estate);
			FreeExecutorState(w->estate);
			table_close(w->rel, NoLock);
			return false;
		}
		w->values[i] = ExecEvalExprSwitchContext(ExecPrepareExpr((Expr *) defexpr, w->estate),
												 GetPerTupleExprContext(w->estate), &w->isnull[i]);
		if (!w->isnull[i])
			w->values[i] = datumCopy(w->values[i], att->attbyval, att->attlen);
	}
	ResetPerTupleExprContext(w->estate);

	/* a deferred unique index would need the after-trigger queue */
	for (int i = 0; i < w->rri->ri_NumIndices; i++)
	{
		Relation	index = w->rri->ri_IndexRelationDescs[i];

		if (index->rd_index->indisunique && !index->rd_index->indimmediate)
		{
			MemoryContextSwitchTo(oldcxt);
			ExecCloseResultRelations(w->estate);
			ExecCloseRangeTableRelations(w->estate);
			FreeExecutorState(w->estate);
			table_close(w->rel, NoLock);
			return false;
		}
	}

	/* the primary key, on the code: a code already there is a conflict it reports */
	pk_oid = RelationGetPrimaryKeyIndex(w->rel);
	for (int i = 0; i < w->rri->ri_NumIndices; i++)
		if (RelationGetRelid(w->rri->ri_IndexRelationDescs[i]) == pk_oid)
			pk = w->rri->ri_IndexRelationDescs[i];
	if (pk == NULL || pk->rd_index->indnkeyatts != 1 || pk->rd_index->indkey.values[0] != w->att_code)
		elog(ERROR, "benefit.single_use_code has no primary key on its code");
	w->arbiters = list_make1_oid(pk_oid);

	w->slots = palloc(sizeof(TupleTableSlot *) * GEN_BATCH);
	for (int i = 0; i < GEN_BATCH; i++)
		w->slots[i] = table_slot_create(w->rel, NULL);
	w->bistate = GetBulkInsertState();
	w->flushcxt = AllocSetContextCreate(w->estate->es_query_cxt, "benefit code flush",
										ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(oldcxt);
	return true;
}

static int
cmp_uint64(const void *a, const void *b)
{
	uint64		x = *(const uint64 *) a;
	uint64		y = *(const uint64 *) b;

	return x < y ? -1 : x > y ? 1 : 0;
}

/*
 * Writes the nslots filled slots: one table_multi_insert, then each row's
 * index entries; returns how many rows stay.  A code already in the table
 * (or being written by another transaction) is found by the primary key's
 * own uniqueness check as its entry goes in, asked to report the conflict
 * instead of raising it (UNIQUE_CHECK_PARTIAL, as for ON CONFLICT or a
 * deferred key): that row is then deleted again, in a next command.  So the
 * check costs no second descent of the index and leaves no window between
 * a look-up and the insert.
 */
static int
writer_flush(CodeWriter *w, int nslots)
{
	ItemPointerData taken[GEN_BATCH];
	int			ntaken = 0;
	MemoryContext oldcxt = MemoryContextSwitchTo(w->flushcxt);

	table_multi_insert(w->rel, w->slots, nslots, w->cid, 0, w->bistate);
	for (int i = 0; i < nslots; i++)
	{
		if (ExecInsertIndexTuples(w->rri, w->slots[i], w->estate, false, true, NULL, w->arbiters) != NIL)
			taken[ntaken++] = w->slots[i]->tts_tid;
		ExecClearTuple(w->slots[i]);
	}
	ResetPerTupleExprContext(w->estate);

	/* codes already there (2^60 values: practically never): delete ours, drawn again next round */
	if (ntaken > 0)
	{
		CommandCounterIncrement();
		for (int i = 0; i < ntaken; i++)
			simple_table_tuple_delete(w->rel, &taken[i], GetActiveSnapshot());
		w->cid = GetCurrentCommandId(true);
		w->estate->es_output_cid = w->cid;
	}
	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(w->flushcxt);
	return nslots - ntaken;
}

/*
 * Draws n (at most GEN_DRAW) codes and writes those that are new, in code
 * order, GEN_BATCH rows at a time; returns how many it wrote.  A code drawn
 * twice in the round is kept once.  Sorting a large draw makes the primary
 * key's inserts sweep the index in key order, each near the one before,
 * instead of jumping to a random leaf each time.  Allocates in the current
 * context, which the caller resets.
 */
static int
writer_round(CodeWriter *w, int n)
{
	uint64	   *codes = palloc(sizeof(uint64) * n);
	int			nslots = 0;
	int			added = 0;

	Assert(n <= GEN_DRAW);
	draw_codes(codes, n);
	qsort(codes, n, sizeof(uint64), cmp_uint64);
	for (int i = 0; i < n; i++)
	{
		TupleTableSlot *slot;

		/* drawn twice in this round: drawn again next round */
		if (i > 0 && codes[i] == codes[i - 1])
			continue;
		slot = w->slots[nslots++];
		ExecClearTuple(slot);
		memcpy(slot->tts_values, w->values, sizeof(Datum) * w->natts);
		memcpy(slot->tts_isnull, w->isnull, sizeof(bool) * w->natts);
		slot->tts_values[w->att_code - 1] = Int64GetDatum((int64) codes[i]);
		slot->tts_isnull[w->att_code - 1] = false;
		ExecStoreVirtualTuple(slot);
		if (w->rel->rd_att->constr)
			ExecConstraints(w->rri, slot, w->estate);
		if (nslots == GEN_BATCH)
		{
			added += writer_flush(w, nslots);
			nslots = 0;
		}
	}
	if (nslots > 0)
		added += writer_flush(w, nslots);
	return added;
}

static void
writer_close(CodeWriter *w)
{
	for (int i = 0; i < GEN_BATCH; i++)
		ExecDropSingleTupleTableSlot(w->slots[i]);
	FreeBulkInsertState(w->bistate);
	ExecCloseResultRelations(w->estate);
	ExecCloseRangeTableRelations(w->estate);
	FreeExecutorState(w->estate);
	table_close(w->rel, NoLock);
}

/*
 * Generates and inserts count codes of the batch, round by round, in a
 * context reset after each round.
 */
static void
insert_codes(Oid code_type, int32 count, int64 batch_id, int64 benefit_id)
{
	MemoryContext chunkcxt = AllocSetContextCreate(CurrentMemoryContext, "benefit code chunk",
												   ALLOCSET_DEFAULT_SIZES);
	CodeWriter	writer;
	bool		multi = writer_open(&writer, batch_id, benefit_id);
	int64		remaining = count;
	int			fruitless = 0;

	while (remaining > 0)
	{
		uint64		added;
		MemoryContext oldcxt = MemoryContextSwitchTo(chunkcxt);

		if (multi)
			added = writer_round(&writer, (int) Min(remaining, GEN_DRAW));
		else
			added = insert_chunk(code_type, (int) Min(remaining, GEN_CHUNK), batch_id, benefit_id);
		MemoryContextSwitchTo(oldcxt);
		MemoryContextReset(chunkcxt);
		remaining -= (int64) added;

		/*
		 * With 60 random bits a round that adds nothing never happens; it
		 * means the code space is (nearly) full, which only a narrowed
		 * benefit.test_code_bits can cause.  Give up rather than spin.
		 */
		fruitless = added > 0 ? 0 : fruitless + 1;
		if (fruitless >= BENEFIT_MAX_FRUITLESS_ROUNDS)
			ereport(ERROR,
					errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					errmsg("no free code left to generate"),
					errdetail("%d draws in a row gave only codes that already exist; " INT64_FORMAT " of %d codes were still missing.",
							  BENEFIT_MAX_FRUITLESS_ROUNDS, remaining, count),
					benefit_test_code_bits < 60 ?
					errhint("benefit.test_code_bits is %d; it is meant for tests only.", benefit_test_code_bits) : 0);
		CHECK_FOR_INTERRUPTS();
	}
	if (multi)
		writer_close(&writer);
	MemoryContextDelete(chunkcxt);
}

PG_FUNCTION_INFO_V1(benefit_generate_codes);

/* Generates a batch of single-use codes for an organisation contact; returns the batch id. */
Datum
benefit_generate_codes(PG_FUNCTION_ARGS)
{
	int64		benefit_id = PG_GETARG_INT64(0);
	int64		contact_id = PG_GETARG_INT64(1);
	int32		count = PG_GETARG_INT32(2);
	Datum		document = PG_GETARG_DATUM(3);
	Datum		language = PG_GETARG_DATUM(4);
	Oid			code_type;
	Datum		args[8];
	bool		isnull;
	Datum		season_id;
	Datum		email;
	int64		batch_id;

	benefit_require_writable("benefit.generate_codes()");
	if (count <= 0 || count > BENEFIT_MAX_CODES_PER_BATCH)
		ereport(ERROR,
				errcode(count <= 0 ? ERRCODE_INVALID_PARAMETER_VALUE : ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				errmsg("count must be between 1 and %d", BENEFIT_MAX_CODES_PER_BATCH),
				errdetail("The count given was %d.", count),
				count > 0 ? errhint("Generate several batches.") : 0);

	code_type = benefit_code_type_oid();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	benefit_plans_get(&plans, code_type, make_plans);

	season_id = lock_benefit(benefit_id);
	email = contact_email(contact_id);

	/* the batch */
	args[0] = Int64GetDatum(benefit_id);
	args[1] = season_id;
	args[2] = Int64GetDatum(contact_id);
	args[3] = Int32GetDatum(count);
	args[4] = email;
	args[5] = document;
	args[6] = language;
	/* the calling role, not the owner this SECURITY DEFINER function runs as */
	args[7] = CStringGetTextDatum(GetUserNameFromId(GetOuterUserId(), false));
	if (SPI_execute_plan(plan_batch, args, NULL, false, 1) != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
		elog(ERROR, "inserting the batch failed");
	batch_id = col_int8(0, 1, &isnull);
	SPI_freetuptable(SPI_tuptable);

	insert_codes(code_type, count, batch_id, benefit_id);

	/* the mail: an outbox row and a notification, both sent at commit */
	args[0] = Int64GetDatum(batch_id);
	args[1] = email;
	args[2] = document;
	args[3] = language;
	if (SPI_execute_plan(plan_outbox, args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "queuing the mail failed");
	if (SPI_execute_plan(plan_notify, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "NOTIFY failed");

	SPI_finish();
	PG_RETURN_INT64(batch_id);
}
