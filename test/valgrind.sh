#!/usr/bin/env bash
# test/valgrind.sh: the regression suite with every backend under valgrind
# memcheck, its own command (not in bin/test; several minutes), run as root:
#     test/valgrind.sh
# Builds nothing: it uses the installed extension (bin/setup installs it).  It
# creates a throw-away cluster in a temporary directory, starts the postmaster
# under valgrind (--trace-children=yes, one log per process), runs the pg_regress
# files of the Makefile against it, stops it, and reads the logs.  PostgreSQL
# from Debian is not built for valgrind, so its own code reports noise, which
# test/valgrind.supp suppresses (padding written to WAL and to the relcache
# init file, the regex cache's overlapping memcpy).  Every error left counts;
# those with a frame in our library (benefit.so: functions benefit_*, bcode_*,
# bm_* and any file of src/) are printed.  Exit status 0 when the suite
# passed and memcheck reported no error.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=/usr/lib/postgresql/15/bin
command -v valgrind > /dev/null 2>&1 || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind > /dev/null; }

tmp=$(mktemp -d)
chown postgres: "$tmp"
chmod 755 "$tmp"
port=$((30000 + RANDOM % 20000))
stop() {
    su postgres -c "$bin/pg_ctl -D $tmp/data -m immediate stop" > /dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap stop EXIT

su postgres -c "$bin/initdb -D $tmp/data -A trust -U postgres" > /dev/null
mkdir "$tmp/vg"
chown postgres: "$tmp/vg"
# the postmaster and every backend it forks under memcheck (pg_ctl -p runs this wrapper)
cat > "$tmp/postgres" <<WRAP
#!/bin/sh
exec valgrind --quiet --trace-children=yes --track-origins=yes --num-callers=30 \\
    --suppressions=$root/test/valgrind.supp \\
    --log-file=$tmp/vg/%p.log $bin/postgres "\$@"
WRAP
chmod 755 "$tmp/postgres"
su postgres -c "$bin/pg_ctl -D $tmp/data -w -t 600 -l $tmp/server.log -p $tmp/postgres \
    -o '-p $port -k $tmp -c shared_buffers=32MB -c max_connections=20 -c autovacuum=off -c shared_preload_libraries=benefit' start" > /dev/null

export PGHOST=$tmp PGPORT=$port PGUSER=postgres
start=$SECONDS
set +e
make -C "$root" -s installcheck ISOLATION= > "$tmp/installcheck.out" 2>&1
suite=$?
set -e
grep -E '^(test |ok |not ok )|tests (passed|failed)' "$tmp/installcheck.out" || true
su postgres -c "$bin/pg_ctl -D $tmp/data -m fast -w -t 300 stop" > /dev/null 2>&1 || true

# error blocks (from "==pid== Xxx" to the blank line) that mention our code:
# the library, our function prefixes, or a frame in one of the files of src/
srcfiles=$(cd "$root/src" && ls *.c *.h | sed 's/\./\\./g' | paste -sd '|')
ours=$(cat "$tmp"/vg/*.log | awk -v mine="(benefit\\.so|benefit_|bcode_|bm_|[( ](${srcfiles}):)" '
    /^==[0-9]+== [A-Z]/ { if (blk != "" && blk ~ mine) print blk "\n"; blk = $0; next }
    /^==[0-9]+==    / { blk = blk "\n" $0; next }
    { if (blk != "" && blk ~ mine) print blk "\n"; blk = "" }
    END { if (blk != "" && blk ~ mine) print blk }')
errors_all=$(cat "$tmp"/vg/*.log | grep -c -E '^==[0-9]+== (Invalid|Conditional|Use of uninitialised|Syscall param|Mismatched|Source and destination)' || true)
processes=$(ls "$tmp"/vg | wc -l)
n_ours=$(printf '%s' "$ours" | grep -c -E '^==[0-9]+== [A-Z]' || true)

echo "1..3"
if [ "$suite" = 0 ]; then echo "ok 1 - the regression suite passes under valgrind ($((SECONDS - start)) s)"; else echo "not ok 1 - the regression suite failed under valgrind"; cat "$root/regression.diffs" 2> /dev/null | head -40; fi
if [ "$n_ours" = 0 ]; then
    echo "ok 2 - no memcheck error in our library ($processes processes)"
else
    echo "not ok 2 - $n_ours memcheck errors touch our library"
    printf '%s\n' "$ours" | head -80
fi
if [ "$errors_all" = 0 ]; then
    echo "ok 3 - no memcheck error left once PostgreSQL's own noise is suppressed (test/valgrind.supp)"
else
    echo "not ok 3 - $errors_all memcheck errors left after test/valgrind.supp"
    cat "$tmp"/vg/*.log | grep -A12 -E '^==[0-9]+== (Invalid|Conditional|Use of uninitialised|Syscall param|Mismatched|Source and destination)' | head -60
fi
[ "$suite" = 0 ] && [ "$n_ours" = 0 ] && [ "$errors_all" = 0 ]
