/*-------------------------------------------------------------------------
 *
 * generate.c
 *		benefit.generate_codes: bulk generation of single-use codes.
 *
 * Codes come from pg_strong_random(); 64 random bits are masked to 60
 * (bcode_from_random), so there is no modulo bias.  They are inserted in
 * chunks of GEN_CHUNK through one kept SPI plan, so backend memory stays
 * bounded whatever the count.  A chunk is first inserted plainly inside a
 * subtransaction; on the (rare: 2^60 values) unique violation it is
 * inserted again with ON CONFLICT DO NOTHING and the codes lost to
 * collisions are generated anew, so a collision is never the caller's
 * error.  The batch row, the mail outbox row and the NOTIFY are written in
 * the caller's transaction: all or nothing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "code_format.h"
#include "generate.h"
#include "read_only.h"
#include "spi_util.h"

/* Codes inserted per statement: 80 kB of values, one array. */
#define GEN_CHUNK 10000

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

	if (!pg_strong_random(random, sizeof(uint64) * n))
		ereport(ERROR,
				errcode(ERRCODE_INTERNAL_ERROR),
				errmsg("could not generate random codes"),
				errdetail("pg_strong_random() failed."));
	for (int i = 0; i < n; i++)
	{
		uint64		value = bcode_from_random(random[i]);

		/* benefit.test_code_bits narrows the code space for tests only */
		if (benefit_test_code_bits < 60)
			value &= (UINT64CONST(1) << benefit_test_code_bits) - 1;
		elems[i] = Int64GetDatum((int64) value);
	}

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
 * Generates and inserts count codes of the batch, chunk by chunk, in a
 * context reset after each chunk.
 */
static void
insert_codes(Oid code_type, int32 count, int64 batch_id, int64 benefit_id)
{
	MemoryContext chunkcxt = AllocSetContextCreate(CurrentMemoryContext, "benefit code chunk",
												   ALLOCSET_DEFAULT_SIZES);
	int64		remaining = count;
	int			fruitless = 0;

	while (remaining > 0)
	{
		int			n = (int) Min(remaining, GEN_CHUNK);
		uint64		added;
		MemoryContext oldcxt = MemoryContextSwitchTo(chunkcxt);

		added = insert_chunk(code_type, n, batch_id, benefit_id);
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
