/*-------------------------------------------------------------------------
 *
 * read_only.c
 *		The read-only guard: every runtime call that writes refuses, with
 *		one error, to run in a read-only transaction or on a hot standby.
 *		The C entry points call benefit_require_writable, the SQL and
 *		PL/pgSQL ones benefit_internal.require_writable, the same function.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "fmgr.h"
#include "utils/builtins.h"

#include "read_only.h"

/*
 * Refuses, with one error for every runtime call that writes, to run in a
 * read-only transaction or on a hot standby (25006): checked before any
 * work, so that nothing is half done.
 */
void
benefit_require_writable(const char *call)
{
	if (!XactReadOnly)
		return;
	ereport(ERROR,
			errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
			errmsg("%s writes and cannot run in a read-only transaction", call),
			RecoveryInProgress()
			? errdetail("This server is a hot standby.")
			: errdetail("The transaction is read-only (default_transaction_read_only or SET TRANSACTION READ ONLY)."),
			errhint("Call it on the primary server, in a read-write transaction."));
}

PG_FUNCTION_INFO_V1(benefit_require_writable_sql);

/* SQL benefit.require_writable(call): the same check for the SQL and PL/pgSQL functions. */
Datum
benefit_require_writable_sql(PG_FUNCTION_ARGS)
{
	benefit_require_writable(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	PG_RETURN_VOID();
}
