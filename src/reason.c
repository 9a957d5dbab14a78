/*-------------------------------------------------------------------------
 *
 * reason.c
 *		The one place that turns a reason label ("ok", "not_best", ...)
 *		into a value of the enum benefit.reason, the result of every
 *		runtime call that accepts or refuses something.
 *
 * enum_in probes pg_enum; the labels a backend has turned are kept, with
 * their values, for one enum type OID until benefit_catalog_epoch() says
 * pg_type, pg_namespace or pg_enum changed (as after DROP EXTENSION /
 * CREATE EXTENSION in the same backend).  The enum has a few dozen labels;
 * a label the cache has no room for is looked up every time.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include "reason.h"
#include "spi_util.h"

#define REASON_CACHE_SIZE 64

typedef struct ReasonValue
{
	char		label[NAMEDATALEN];
	Oid			value;
} ReasonValue;

static ReasonValue cache[REASON_CACHE_SIZE];
static int	ncached = 0;
static Oid	cache_type = InvalidOid;
static uint64 cache_epoch = 0;

/* Returns label as a value of the enum reason_type (benefit.reason); 22P02 for an unknown label. */
Datum
benefit_reason_datum(Oid reason_type, const char *label)
{
	uint64		epoch = benefit_catalog_epoch();
	Datum		value;

	if (cache_type != reason_type || cache_epoch != epoch)
	{
		ncached = 0;
		cache_type = reason_type;
		cache_epoch = epoch;
	}
	for (int i = 0; i < ncached; i++)
		if (strcmp(cache[i].label, label) == 0)
			return ObjectIdGetDatum(cache[i].value);
	value = DirectFunctionCall2(enum_in, CStringGetDatum(label), ObjectIdGetDatum(reason_type));
	if (ncached < REASON_CACHE_SIZE && strlen(label) < NAMEDATALEN)
	{
		strlcpy(cache[ncached].label, label, NAMEDATALEN);
		cache[ncached].value = DatumGetObjectId(value);
		ncached++;
	}
	return value;
}
