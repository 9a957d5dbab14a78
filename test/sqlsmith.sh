#!/usr/bin/env bash
# test/sqlsmith.sh: a bounded sqlsmith run against a database with the
# extension and the demo season loaded, its own command (not in bin/test):
#     pg_virtualenv -o shared_preload_libraries=benefit -t test/sqlsmith.sh          (SQLSMITH_QUERIES, default 20000)
# sqlsmith generates random queries over every table, view, function and
# operator it finds, the extension's included; errors are expected and
# ignored.  The run fails if the server log shows a backend terminated by a
# signal (a crash) or the server stopped answering.  Installs sqlsmith
# (Debian package) when it is missing.
set -euo pipefail

db=benefit_smith
queries=${SQLSMITH_QUERIES:-20000}
seed=${SQLSMITH_SEED:-42}
root=$(cd "$(dirname "$0")/.." && pwd)
. "$(dirname "$0")/lib.sh"

if ! command -v sqlsmith > /dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sqlsmith > /dev/null 2>&1 \
        || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sqlsmith > /dev/null; }
fi

fresh_db
q -c "CREATE EXTENSION benefit"
for f in "$root"/examples/0*.sql; do q -f "$f" > /dev/null; done
q < "$root/examples/walkthrough.sql" > /dev/null 2>&1
# statements that run away are cut short; the queries run as the superuser, on purpose
q -c "ALTER DATABASE $db SET statement_timeout = '2s'"

log=$(q -At -c "SELECT current_setting('data_directory')")/../../../log
logfile=$(ls -t "$log"/*.log 2> /dev/null | head -n 1 || true)
before=0
[ -z "$logfile" ] || before=$(wc -l < "$logfile")

start=$SECONDS
set +e
timeout 900 sqlsmith --verbose --target="dbname=$db" --seed="$seed" --max-queries="$queries" > /tmp/sqlsmith.$$.out 2>&1
rc=$?
set -e
summary=$(tr '\r' '\n' < /tmp/sqlsmith.$$.out | grep -E 'queries|error' | tail -n 2 | tr '\n' ' ' || true)
rm -f /tmp/sqlsmith.$$.out

crashes=0
if [ -n "$logfile" ]; then
    crashes=$(tail -n +"$((before + 1))" "$logfile" | grep -c -E 'terminated by signal|was terminated by exception' || true)
fi
alive=$(psql -X -At -d "$db" -c "SELECT 1" 2> /dev/null || echo 0)
echo "1..1"
if [ "$crashes" = 0 ] && [ "$alive" = 1 ]; then
    echo "ok 1 - sqlsmith: $queries queries (seed $seed, exit $rc, $((SECONDS - start)) s), no backend terminated by a signal, server alive"
else
    echo "not ok 1 - sqlsmith: $crashes backends terminated by a signal, server alive: $alive"
fi
echo "# $summary"
drop_db
[ "$crashes" = 0 ] && [ "$alive" = 1 ]
