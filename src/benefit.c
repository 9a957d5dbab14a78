/*-------------------------------------------------------------------------
 *
 * benefit.c
 *		Module entry point of the benefit extension: library magic, settings
 *		registration, and the check that the loaded library matches the
 *		installed SQL objects.
 *
 * The pure rules (code format, money arithmetic, tariff choice, promo code
 * conditions, throttling) live in files without PostgreSQL headers; this
 * file and the other fmgr/SPI files stay thin around them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "generate.h"
#include "throttle.h"

#ifndef BENEFIT_EXTVERSION
#error "BENEFIT_EXTVERSION must be defined by the Makefile"
#endif

PG_MODULE_MAGIC;

PGDLLEXPORT void _PG_init(void);

/*
 * Registers the benefit.* settings and reserves the prefix; when preloaded
 * (shared_preload_libraries), asks for the shared memory of the throttle.
 */
void
_PG_init(void)
{
	DefineCustomIntVariable("benefit.throttle_entries",
							"Contacts and client keys whose wrong code entries are counted at once.",
							"The size of the table of counts in shared memory (about 100 bytes each); "
							"when it is full, ended windows and then the oldest counts are forgotten.",
							&benefit_throttle_entries,
							100000, 1000, 10000000,
							PGC_POSTMASTER,
							0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("benefit.throttle_failures",
							"Wrong code entries that throttle a contact or client key.",
							"After this many unknown or malformed codes from one contact or one client key within "
							"benefit.throttle_window, further code entries answer throttled until the window ends.",
							&benefit_throttle_failures,
							10, 1, 1000000,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("benefit.throttle_window",
							"Window in which wrong code entries are counted.",
							"It starts at the first wrong entry; a valid code does not reset the count.",
							&benefit_throttle_window,
							900, 1, 7 * 24 * 3600,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);
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

	if (process_shared_preload_libraries_in_progress)
		benefit_throttle_init();
}

PG_FUNCTION_INFO_V1(benefit_library_version);

/* Returns the version the shared library was built for. */
Datum
benefit_library_version(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(BENEFIT_EXTVERSION));
}

