/*-------------------------------------------------------------------------
 *
 * throttle.c
 *		Throttling of wrong code entries, counted in shared memory.
 *
 * Every call that takes a code counts the unknown or malformed codes a
 * contact or an application's client key enters (per database: each
 * institution has its own contacts), and answers "throttled"
 * once benefit.throttle_failures were entered within benefit.throttle_window
 * (the rule is src/throttle_rule.c).  The counts live in a fixed-size hash
 * table in the server's shared memory, not in a table:
 *   - they are counted on a hot standby and in read-only transactions too,
 *     where a table cannot be written;
 *   - counting is not a write: no WAL, no row lock, no dead tuple;
 *   - each server counts its own (a primary and each standby); a restart
 *     forgets every count (a throttled caller starts afresh).
 * This needs the library in shared_preload_libraries; without it, a call
 * that has to consult or count (one given a contact or a client key) fails
 * with 55000 and says so.
 *
 * The table holds benefit.throttle_entries counts.  When it is full, a new
 * caller's count takes the place of an ended window, else of the oldest one:
 * an attacker flooding it with client keys can make the server forget the
 * oldest counts, never refuse a call.  One LWLock guards the table (shared to
 * look, exclusive to count); both are a hash probe or two.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/md5.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/timestamp.h"

#include "throttle.h"
#include "throttle_rule.h"

/* the settings (benefit.c defines them) */
int			benefit_throttle_failures = 10;
int			benefit_throttle_window = 900;
int			benefit_throttle_entries = 100000;

/* Who is counted: a contact id, or the MD5 of a client key (the key itself is not kept). */
#define KEY_CONTACT 'c'
#define KEY_CLIENT	'k'

typedef struct ThrottleKey
{
	Oid			dbid;			/* the database: each institution has its own */
	char		kind;			/* KEY_CONTACT or KEY_CLIENT */
	char		pad[3];			/* zeroed: keys are compared as bytes */
	uint8		id[16];			/* the contact id (8 bytes), or the MD5 */
} ThrottleKey;

typedef struct ThrottleEntry
{
	ThrottleKey key;			/* hash key, first */
	ThrottleCount count;
} ThrottleEntry;

typedef struct ThrottleShared
{
	LWLock	   *lock;
	pg_atomic_uint32 entries;	/* counts in the table, set under the lock */
} ThrottleShared;

static ThrottleShared *shared = NULL;
static HTAB *counts = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* Size of the shared state. */
static Size
throttle_shmem_size(void)
{
	return add_size(MAXALIGN(sizeof(ThrottleShared)),
					hash_estimate_size(benefit_throttle_entries, sizeof(ThrottleEntry)));
}

/* Asks the postmaster for the shared memory and the lock. */
static void
throttle_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(throttle_shmem_size());
	RequestNamedLWLockTranche("benefit_throttle", 1);
}

/* Creates (postmaster) or attaches to the shared table. */
static void
throttle_shmem_startup(void)
{
	bool		found;
	HASHCTL		info;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("benefit throttle", sizeof(ThrottleShared), &found);
	if (!found)
	{
		shared->lock = &(GetNamedLWLockTranche("benefit_throttle"))->lock;
		pg_atomic_init_u32(&shared->entries, 0);
	}
	info.keysize = sizeof(ThrottleKey);
	info.entrysize = sizeof(ThrottleEntry);
	counts = ShmemInitHash("benefit throttle counts", benefit_throttle_entries, benefit_throttle_entries,
						   &info, HASH_ELEM | HASH_BLOBS | HASH_FIXED_SIZE);
	LWLockRelease(AddinShmemInitLock);
}

/* Installs the shared-memory hooks; called by _PG_init while preloading. */
void
benefit_throttle_init(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = throttle_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = throttle_shmem_startup;
}

/* Raises 55000 when the library was not preloaded (no shared table). */
static void
require_shared_table(void)
{
	if (counts == NULL)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("benefit must be loaded via shared_preload_libraries to throttle wrong code entries"),
				errdetail("Wrong code entries are counted per contact and client key in shared memory."),
				errhint("Add benefit to shared_preload_libraries in postgresql.conf and restart the server."));
}

/*
 * Publishes how many counts the table holds, for the checks that skip the
 * lock when there are none (the common case); lock held exclusively.
 */
static void
publish_entries(void)
{
	pg_atomic_write_u32(&shared->entries, (uint32) hash_get_num_entries(counts));
}

/* Fills the keys of a caller; returns how many (0 to 2). */
static int
caller_keys(bool has_contact, int64 contact_id, text *client_key, ThrottleKey *keys)
{
	int			n = 0;

	memset(keys, 0, 2 * sizeof(ThrottleKey));
	keys[0].dbid = keys[1].dbid = MyDatabaseId;
	if (has_contact)
	{
		keys[n].kind = KEY_CONTACT;
		memcpy(keys[n].id, &contact_id, sizeof(contact_id));
		n++;
	}
	if (client_key != NULL)
	{
		const char *errstr = NULL;

		keys[n].kind = KEY_CLIENT;
		if (!pg_md5_binary(VARDATA_ANY(client_key), VARSIZE_ANY_EXHDR(client_key), keys[n].id, &errstr))
			elog(ERROR, "could not hash the client key: %s", errstr ? errstr : "out of memory");
		n++;
	}
	return n;
}

/* The window in microseconds. */
static int64
window_usecs(void)
{
	return (int64) benefit_throttle_window * USECS_PER_SEC;
}

/*
 * True when the contact (has_contact) or the client key (not NULL) entered
 * too many wrong codes lately.  A caller with neither is never throttled.
 */
bool
benefit_throttle_check(bool has_contact, int64 contact_id, text *client_key)
{
	ThrottleKey keys[2];
	int			n = caller_keys(has_contact, contact_id, client_key, keys);
	TimestampTz now = GetCurrentTimestamp();
	bool		blocked = false;
	int			i;

	if (n == 0)
		return false;
	require_shared_table();
	/* nobody entered a wrong code lately: nobody is throttled, no lock taken */
	if (pg_atomic_read_u32(&shared->entries) == 0)
		return false;
	LWLockAcquire(shared->lock, LW_SHARED);
	for (i = 0; i < n && !blocked; i++)
	{
		ThrottleEntry *e = hash_search(counts, &keys[i], HASH_FIND, NULL);

		blocked = e != NULL && throttle_is_blocked(&e->count, now, window_usecs(), benefit_throttle_failures);
	}
	LWLockRelease(shared->lock);
	return blocked;
}

/* Frees one place in the full table: an ended window, else the oldest. Lock held exclusively. */
static void
evict_one(TimestampTz now)
{
	HASH_SEQ_STATUS scan;
	ThrottleEntry *e;
	ThrottleEntry *victim = NULL;

	hash_seq_init(&scan, counts);
	while ((e = hash_seq_search(&scan)) != NULL)
	{
		if (victim == NULL || throttle_evict_before(&e->count, &victim->count, now, window_usecs()))
			victim = e;
	}
	if (victim != NULL)
		hash_search(counts, &victim->key, HASH_REMOVE, NULL);
}

/* Finds or makes the count of key (*is_new when made); lock held exclusively. */
static ThrottleEntry *
enter_count(const ThrottleKey *key, bool *is_new, TimestampTz now)
{
	bool		found;
	ThrottleEntry *e = hash_search(counts, key, HASH_ENTER_NULL, &found);

	if (e == NULL)
	{
		evict_one(now);
		e = hash_search(counts, key, HASH_ENTER_NULL, &found);
		if (e == NULL)
			elog(ERROR, "the table of wrong code entries has no room");
	}
	*is_new = !found;
	return e;
}

/* Counts n wrong code entries against the contact and the client key given. */
void
benefit_throttle_count(bool has_contact, int64 contact_id, text *client_key, int32 n)
{
	ThrottleKey keys[2];
	int			nkeys = caller_keys(has_contact, contact_id, client_key, keys);
	TimestampTz now = GetCurrentTimestamp();
	int			i;

	if (nkeys == 0 || n <= 0)
		return;
	require_shared_table();
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	for (i = 0; i < nkeys; i++)
	{
		bool		is_new;
		ThrottleEntry *e = enter_count(&keys[i], &is_new, now);

		throttle_add(&e->count, is_new, now, window_usecs(), n);
	}
	publish_entries();
	LWLockRelease(shared->lock);
}

PG_FUNCTION_INFO_V1(benefit_is_throttled);

/* SQL benefit.is_throttled(contact_id, client_key). */
Datum
benefit_is_throttled(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(benefit_throttle_check(!PG_ARGISNULL(0), PG_ARGISNULL(0) ? 0 : PG_GETARG_INT64(0),
										  PG_ARGISNULL(1) ? NULL : PG_GETARG_TEXT_PP(1)));
}

PG_FUNCTION_INFO_V1(benefit_record_code_failures);

/* SQL benefit.record_code_failures(contact_id, client_key, n). */
Datum
benefit_record_code_failures(PG_FUNCTION_ARGS)
{
	if (!PG_ARGISNULL(2))
		benefit_throttle_count(!PG_ARGISNULL(0), PG_ARGISNULL(0) ? 0 : PG_GETARG_INT64(0),
							   PG_ARGISNULL(1) ? NULL : PG_GETARG_TEXT_PP(1), PG_GETARG_INT32(2));
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(benefit_forget_code_attempts);

/*
 * SQL benefit.forget_code_attempts(contact_id, client_key): forgets the
 * counts of that contact and that client key (both NULL: every count of
 * this database), so that a throttled buyer is heard again; returns how many.
 */
Datum
benefit_forget_code_attempts(PG_FUNCTION_ARGS)
{
	ThrottleKey keys[2];
	int			nkeys = caller_keys(!PG_ARGISNULL(0), PG_ARGISNULL(0) ? 0 : PG_GETARG_INT64(0),
									PG_ARGISNULL(1) ? NULL : PG_GETARG_TEXT_PP(1), keys);
	int32		forgotten = 0;
	int			i;

	require_shared_table();
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	if (nkeys == 0)
	{
		HASH_SEQ_STATUS scan;
		ThrottleEntry *e;

		hash_seq_init(&scan, counts);
		while ((e = hash_seq_search(&scan)) != NULL)
		{
			if (e->key.dbid == MyDatabaseId)
			{
				hash_search(counts, &e->key, HASH_REMOVE, NULL);
				forgotten++;
			}
		}
	}
	for (i = 0; i < nkeys; i++)
	{
		if (hash_search(counts, &keys[i], HASH_REMOVE, NULL) != NULL)
			forgotten++;
	}
	publish_entries();
	LWLockRelease(shared->lock);
	PG_RETURN_INT32(forgotten);
}

PG_FUNCTION_INFO_V1(benefit_purge_code_attempts);

/* SQL benefit.purge_code_attempts(): forgets this database's counts whose window has ended; returns how many. */
Datum
benefit_purge_code_attempts(PG_FUNCTION_ARGS)
{
	HASH_SEQ_STATUS scan;
	ThrottleEntry *e;
	TimestampTz now = GetCurrentTimestamp();
	int32		purged = 0;

	require_shared_table();
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	hash_seq_init(&scan, counts);
	/* dynahash allows removing the entry just returned by a sequential scan */
	while ((e = hash_seq_search(&scan)) != NULL)
	{
		if (e->key.dbid == MyDatabaseId && throttle_window_ended(&e->count, now, window_usecs()))
		{
			hash_search(counts, &e->key, HASH_REMOVE, NULL);
			purged++;
		}
	}
	publish_entries();
	LWLockRelease(shared->lock);
	PG_RETURN_INT32(purged);
}

/* The text form of a key: contact:<id> or client:<md5 hex>. */
static char *
key_text(const ThrottleKey *key)
{
	if (key->kind == KEY_CONTACT)
	{
		int64		id;

		memcpy(&id, key->id, sizeof(id));
		return psprintf("contact:" INT64_FORMAT, id);
	}
	else
	{
		static const char hex[] = "0123456789abcdef";
		char	   *s = palloc(7 + 32 + 1);
		int			i;

		memcpy(s, "client:", 7);
		for (i = 0; i < 16; i++)
		{
			s[7 + 2 * i] = hex[key->id[i] >> 4];
			s[7 + 2 * i + 1] = hex[key->id[i] & 0xf];
		}
		s[7 + 32] = '\0';
		return s;
	}
}

PG_FUNCTION_INFO_V1(benefit_list_code_attempts);

/* SQL benefit.list_code_attempts(): every count this server holds. */
Datum
benefit_list_code_attempts(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	HASH_SEQ_STATUS scan;
	ThrottleEntry *e;
	TimestampTz now = GetCurrentTimestamp();
	ThrottleEntry *copy;
	long		n = 0;
	long		i;

	InitMaterializedSRF(fcinfo, 0);
	require_shared_table();

	/* copy under the lock, build the rows after it */
	LWLockAcquire(shared->lock, LW_SHARED);
	copy = palloc(sizeof(ThrottleEntry) * Max(hash_get_num_entries(counts), 1));
	hash_seq_init(&scan, counts);
	while ((e = hash_seq_search(&scan)) != NULL)
	{
		if (e->key.dbid == MyDatabaseId)
			copy[n++] = *e;
	}
	LWLockRelease(shared->lock);

	for (i = 0; i < n; i++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		values[0] = CStringGetTextDatum(key_text(&copy[i].key));
		values[1] = TimestampTzGetDatum(copy[i].count.window_start);
		values[2] = Int32GetDatum(copy[i].count.failures);
		values[3] = BoolGetDatum(throttle_is_blocked(&copy[i].count, now, window_usecs(),
													 benefit_throttle_failures));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(benefit_restore_code_attempt);

/*
 * SQL benefit.restore_code_attempt(key, window_start, failures): puts back a
 * count in its text form (the upgrade from 0.1.0 moves the rows of its table
 * here).  Returns false, keeping nothing, when the library was not preloaded.
 */
Datum
benefit_restore_code_attempt(PG_FUNCTION_ARGS)
{
	char	   *key = text_to_cstring(PG_GETARG_TEXT_PP(0));
	ThrottleKey k;
	ThrottleEntry *e;
	bool		is_new;
	int			i;

	if (counts == NULL)
		PG_RETURN_BOOL(false);
	memset(&k, 0, sizeof(k));
	k.dbid = MyDatabaseId;
	if (strncmp(key, "contact:", 8) == 0)
	{
		int64		id = pg_strtoint64(key + 8);

		k.kind = KEY_CONTACT;
		memcpy(k.id, &id, sizeof(id));
	}
	else if (strncmp(key, "client:", 7) == 0 && strlen(key) == 7 + 32 &&
			 strspn(key + 7, "0123456789abcdef") == 32)
	{
		k.kind = KEY_CLIENT;
		for (i = 0; i < 16; i++)
		{
			char		byte[3] = {key[7 + 2 * i], key[7 + 2 * i + 1], '\0'};

			k.id[i] = (uint8) strtol(byte, NULL, 16);
		}
	}
	else
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("invalid wrong-code count key \"%s\"", key));
	if (PG_GETARG_INT32(2) <= 0)
		PG_RETURN_BOOL(false);

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	e = enter_count(&k, &is_new, GetCurrentTimestamp());
	e->count.window_start = PG_GETARG_TIMESTAMPTZ(1);
	e->count.failures = PG_GETARG_INT32(2);
	publish_entries();
	LWLockRelease(shared->lock);
	PG_RETURN_BOOL(true);
}
