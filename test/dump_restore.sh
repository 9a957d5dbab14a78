#!/usr/bin/env bash
# test/dump_restore.sh: proves that pg_dump/pg_restore of a database using
# benefit keeps every row of every table (and the identity sequences), and
# that the next INSERT after the restore works.  Runs against the cluster
# that PGHOST/PGPORT/PGUSER point at (bin/test runs it inside pg_virtualenv).
#
# The restore runs with session_replication_role = replica, as README
# "Backup and restore" says: the extension's triggers (lifecycle rules,
# history) must not judge rows that are being restored.
set -euo pipefail
cd "$(dirname "$0")/.."

src=benefit_dump_src
dst=benefit_dump_dst
db=$src
. "$(dirname "$0")/lib.sh"

dropdb --if-exists "$src" >/dev/null
dropdb --if-exists "$dst" >/dev/null
createdb "$src"
q -c "CREATE EXTENSION benefit"
for f in examples/0*.sql; do q -f "$f" >/dev/null; done
# run the demo walk-through too: live, suspended and closed benefits, history
q -f examples/walkthrough.sql >/dev/null 2>&1

before=$(fingerprint "$src")
dump=$(mktemp)
trap 'rm -f "$dump"' EXIT
pg_dump -Fc -d "$src" -f "$dump"
createdb "$dst"
PGOPTIONS='-c session_replication_role=replica' pg_restore --exit-on-error -d "$dst" "$dump"
after=$(fingerprint "$dst")

fail=0
if [ "$before" != "$after" ]; then
    echo "not ok 1 - every row of every table survives pg_dump/pg_restore"
    diff <(echo "$before") <(echo "$after") || true
    fail=1
else
    echo "ok 1 - every row of every table survives pg_dump/pg_restore ($(echo "$before" | awk '{s+=$2} END {print s}') rows in $(echo "$before" | wc -l) tables)"
fi
if [ "$(echo "$before" | awk '$2 == 0' | wc -l)" -ne 0 ]; then
    echo "not ok 2 - the source database has rows in every table"; echo "$before" | awk '$2 == 0'; fail=1
else
    echo "ok 2 - the source database has rows in every table"
fi

# the next insert after restore works in every table with an identity key
# (no collision with a restored id) and the lifecycle still runs
if db=$dst q -f test/new_rows.sql >/dev/null
then
    echo "ok 3 - after restore, a new row goes into every table and a benefit goes live"
else
    echo "not ok 3 - after restore, a new row goes into every table and a benefit goes live"; fail=1
fi
# the restored lifecycle rules still hold
if db=$dst q -c "UPDATE benefit.benefit SET status = 'draft' WHERE status = 'live'" >/dev/null 2>&1; then
    echo "not ok 4 - the lifecycle triggers are active after restore"; fail=1
else
    echo "ok 4 - the lifecycle triggers are active after restore"
fi
dropdb "$src"; dropdb "$dst"
exit $fail
