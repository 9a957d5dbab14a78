/*-------------------------------------------------------------------------
 *
 * benefit.c
 *		Module entry point of the benefit extension: library magic, settings
 *		registration, and the check that the loaded library matches the
 *		installed SQL objects.
 *
 * The pure logic (code format, money arithmetic) lives in files without
 * PostgreSQL headers; this file and the other glue files stay thin.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "generate.h"

#ifndef BENEFIT_EXTVERSION
#error "BENEFIT_EXTVERSION must be defined by the Makefile"
#endif

PG_MODULE_MAGIC;

PGDLLEXPORT void _PG_init(void);

/* Registers the benefit.* settings and reserves the prefix. */
void
_PG_init(void)
{
	DefineCustomIntVariable("benefit.test_code_bits",
							"For tests only: random bits kept in each generated code.",
							"Default and maximum 60.  Fewer bits make generated codes collide, "
							"to test that collisions are drawn again; never lower it in production.",
							&benefit_test_code_bits,
							60, 4, 60,
							PGC_SUSET,
							GUC_NOT_IN_SAMPLE,
							NULL, NULL, NULL);

	/*
	 * Reserve the prefix: a misspelt benefit.* setting is an error instead
	 * of a silently ignored placeholder.
	 */
	MarkGUCPrefixReserved("benefit");
}

PG_FUNCTION_INFO_V1(benefit_library_version);

/* Returns the version the shared library was built for. */
Datum
benefit_library_version(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(BENEFIT_EXTVERSION));
}
