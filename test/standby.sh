#!/usr/bin/env bash
# test/standby.sh: the read-only calls on a real streaming hot standby, and
# in read-only transactions on the primary.  Starts its own two clusters as
# the postgres user (initdb, pg_ctl) on free loopback ports, benefit in
# shared_preload_libraries: a primary loaded with the demo season and its
# walk-through, and a standby made with pg_basebackup -R.  Then, as a login
# granted only benefit_sales (and one granted only benefit_report):
#   - every read-only call (available, contacts_with_benefits, price_basket in
#     both forms, enter_code, is_valid_code) answers on the standby with a
#     valid, a used, an unknown and a malformed code, anonymous and keyed, and
#     every reporting view reads, column for column;
#   - wrong entries are throttled on the standby (counted in its memory, not
#     the primary's);
#   - every runtime call that writes fails there with 25006 and its message;
#   - the same read-only calls work on the primary with
#     default_transaction_read_only = on, and writing calls fail the same way;
#   - the settings: known in a fresh session, a misspelt one refused by
#     ALTER SYSTEM and ALTER ROLE, the table of counts bounded by
#     benefit.throttle_entries, the counts forgotten by a restart.
# Needs the extension installed (bin/setup) and root (it runs the servers as
# postgres).  Prints TAP lines; exit status 1 when a check failed.  Removes
# its clusters at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
work=$(mktemp -d)
chown postgres: "$work"
as_pg() { runuser -u postgres -- "$@"; }
free_port() {
    local p
    for _ in $(seq 100); do
        p=$((20000 + RANDOM % 20000))
        [ -e "/var/run/postgresql/.s.PGSQL.$p.lock" ] || [ -e "$work/.s.PGSQL.$p.lock" ] && continue
        (exec 3<> "/dev/tcp/127.0.0.1/$p") 2> /dev/null && continue
        echo "$p"; return
    done
    echo "no free port" >&2; exit 1
}
cleanup() {
    for d in standby primary; do
        [ -f "$work/$d/postmaster.pid" ] && as_pg "$PG_BIN/pg_ctl" -D "$work/$d" -m immediate stop >/dev/null 2>&1 || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
# Starts the cluster in $work/$1 on the port held by the variable named $2; when it does not
# start (the port taken meanwhile by another server of the machine), shows the end of its log
# and tries again on another free port.
start_cluster() {
    local dir=$1 var=$2
    for _ in 1 2 3; do
        if as_pg "$PG_BIN/pg_ctl" -D "$work/$dir" -l "$work/$dir.log" -w start >/dev/null; then
            return 0
        fi
        tail -5 "$work/$dir.log" | sed 's/^/# /'
        printf -v "$var" '%s' "$(free_port)"
        echo "port = ${!var}" >> "$work/$dir/postgresql.conf"
    done
    echo "Bail out! the $dir cluster did not start"
    exit 1
}

primary_port=$(free_port)
standby_port=$(free_port)
export PGHOST=127.0.0.1 PGUSER=postgres
unset PGPASSWORD PGDATABASE PGSERVICE
db=benefit_standby
n=0
violations=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); violations=$((violations + 1)); echo "not ok $n - $1"; [ -z "${2:-}" ] || echo "$2" | sed 's/^/#   /'; }

as_pg "$PG_BIN/initdb" -D "$work/primary" -A trust -U postgres --no-sync >/dev/null
cat >> "$work/primary/postgresql.conf" <<EOF
port = $primary_port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$work'
shared_preload_libraries = 'benefit'
benefit.throttle_entries = 1000
wal_level = replica
max_wal_senders = 4
hot_standby = on
fsync = off
EOF
start_cluster primary primary_port

P() { psql -X -q -v ON_ERROR_STOP=1 -At -p "$primary_port" -d "$db" "$@"; }
S() { psql -X -q -v ON_ERROR_STOP=1 -At -p "$standby_port" -d "$db" "$@"; }

psql -X -q -p "$primary_port" -d postgres -c "CREATE DATABASE $db"
P -c "CREATE EXTENSION benefit"
for f in examples/0*.sql; do P -f "$f" >/dev/null; done
P -f examples/walkthrough.sql >/dev/null 2>&1
P >/dev/null <<'SQL'
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'standby_sales') THEN
        CREATE ROLE standby_sales LOGIN IN ROLE benefit_sales;
        CREATE ROLE standby_report LOGIN IN ROLE benefit_report;
        CREATE ROLE standby_admin LOGIN IN ROLE benefit_admin;
    END IF;
END $$;
-- five fresh codes of the single-use benefit of the demo
SELECT benefit.generate_codes(b.benefit_id, c.contact_id, 5, 'letter', 'fr')
  FROM benefit.benefit b, benefit.contact c WHERE b.code = 'ce-alpina' AND c.name = 'CE Alpina SA';
SQL
valid=$(P -c "SELECT code FROM benefit.single_use_code WHERE state = 'issued' ORDER BY code LIMIT 1")
used=$(P -c "SELECT code FROM benefit.single_use_code WHERE state = 'used' ORDER BY code LIMIT 1")
unknown=$(P -c "SELECT '0000-0000-0001-' || c FROM regexp_split_to_table('0123456789ABCDEFGHJKMNPQRSTVWXYZ', '') c
                 WHERE benefit.is_valid_code('0000-0000-0001-' || c) LIMIT 1")
malformed='O0O0-XXXX'
partner=$(P -c "SELECT access_code FROM benefit.benefit WHERE target_type = 'partner' ORDER BY benefit_id LIMIT 1")
contact=$(P -c "SELECT contact_id FROM benefit.contact WHERE name = 'Camille Martin'")
line=$(P -c "SELECT product_id FROM benefit.product ORDER BY product_id LIMIT 1")
if [ -z "$valid" ] || [ -z "$used" ] || [ -z "$unknown" ] || [ -z "$partner" ] || [ -z "$contact" ]; then
    echo "Bail out! the demo did not leave a valid, a used and a partner code"
    exit 1
fi

as_pg "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres -D "$work/standby" -R -X stream --checkpoint=fast --no-sync
cat >> "$work/standby/postgresql.conf" <<EOF
port = $standby_port
benefit.throttle_failures = 3
EOF
start_cluster standby standby_port
# wait until the standby has replayed everything the primary wrote
target=$(P -c "SELECT pg_current_wal_lsn()")
for _ in $(seq 100); do
    [ "$(S -c "SELECT pg_last_wal_replay_lsn() >= '$target'::pg_lsn")" = t ] && break
    sleep 0.1
done
[ "$(S -c "SELECT pg_is_in_recovery()")" = t ] && ok "the standby streams from the primary and is in recovery" \
    || not_ok "the standby streams from the primary and is in recovery"

# runs SQL as a login on a server; ok when it succeeds
runs() {  # description port role sql
    local out
    if out=$(PGOPTIONS=${opts:-} psql -X -q -v ON_ERROR_STOP=1 -At -p "$2" -U "$3" -d "$db" -c "$4" 2>&1); then
        ok "$1"
    else
        not_ok "$1" "$out"
    fi
}
# runs SQL as a login on a server; ok when it fails with 25006 and the read-only message
refuses() {  # description port role sql
    local out
    out=$(PGOPTIONS=${opts:-} psql -X -q -v ON_ERROR_STOP=1 -v VERBOSITY=sqlstate -At -p "$2" -U "$3" -d "$db" \
          -c '\set VERBOSITY verbose' -c "$4" 2>&1 || true)
    if echo "$out" | grep -q 'ERROR:  25006: .* writes and cannot run in a read-only transaction'; then
        ok "$1"
    else
        not_ok "$1" "$out"
    fi
}

read_only_calls() {  # where port
    local where=$1 port=$2
    runs "$where: available with a valid, a used, an unknown and a malformed code, keyed" "$port" standby_sales \
        "SELECT count(*) FROM benefit.available($contact, 'web', NULL, ARRAY['$valid', '$used', '$unknown', '$malformed', '$partner'], 'shop', 'shop-client-1')"
    runs "$where: available anonymous, without a key" "$port" standby_sales \
        "SELECT count(*) FROM benefit.available(NULL, 'web', NULL, ARRAY['$unknown', '$malformed'], 'shop')"
    runs "$where: contacts_with_benefits" "$port" standby_sales \
        "SELECT count(*) FROM benefit.contacts_with_benefits(ARRAY[$contact, 1, 2, 3], 'box-office')"
    runs "$where: price_basket (typed) with every kind of code, keyed" "$port" standby_sales \
        "SELECT (benefit.price_basket(ARRAY[ROW($line, NULL, NULL, NULL, 2, 5000)::benefit.basket_line], $contact, 'web', 'shop',
                 NULL, ARRAY['$valid', '$used', '$unknown', '$malformed', '$partner'], 'BIENVENUE10', 'shop-client-1')).total_cents"
    runs "$where: price_basket (jsonb) with every kind of code, keyed" "$port" standby_sales \
        "SELECT benefit.price_basket('{\"lines\": [{\"product_id\": $line, \"quantity\": 1, \"base_price_cents\": 5000}],
                 \"contact_id\": $contact, \"channel\": \"web\", \"point_of_sale\": \"shop\", \"client_key\": \"shop-client-2\",
                 \"codes\": [\"$valid\", \"$used\", \"$unknown\", \"$malformed\"], \"promo_code\": \"BIENVENUE10\"}'::jsonb) ->> 'total_cents'"
    runs "$where: enter_code with a valid, a used, an unknown and a malformed code, anonymous and keyed" "$port" standby_sales \
        "SELECT count(*) FROM (SELECT benefit.enter_code(c, 'web', 'shop', k.contact, k.client_key)
                                 FROM unnest(ARRAY['$valid', '$used', '$unknown', '$malformed', '$partner']) c,
                                      (VALUES (NULL::bigint, NULL::text), ($contact, NULL), (NULL, 'shop-client-3')) k(contact, client_key)) s"
    runs "$where: is_valid_code and the code type from text" "$port" standby_sales \
        "SELECT benefit.is_valid_code('$valid'), '$valid'::benefit.code::text"
    runs "$where: every reporting view, every column" "$port" standby_report \
        "SELECT (SELECT count(*) FROM benefit.benefit_overview) + (SELECT count(*) FROM benefit.code_dashboard)
              + (SELECT count(*) FROM benefit.code_tracking WHERE code OPERATOR(benefit.=) '$used')
              + (SELECT count(*) FROM benefit.benefit_usage) + (SELECT count(*) FROM benefit.promo_usage)"
    refuses "$where: hold refuses with 25006" "$port" standby_sales \
        "SELECT benefit.hold('RO-1', ARRAY[ROW($line, NULL, NULL, NULL, 1, 5000)::benefit.basket_line], NULL, 'web', now() + interval '1 hour')"
    refuses "$where: confirm refuses with 25006" "$port" standby_sales "SELECT benefit.confirm('WEB-2026-0001')"
    refuses "$where: release refuses with 25006" "$port" standby_sales "SELECT benefit.release('WEB-2026-0001')"
    refuses "$where: expire_holds refuses with 25006" "$port" standby_sales "SELECT benefit.expire_holds()"
    refuses "$where: redeem_code refuses with 25006" "$port" standby_sales "SELECT benefit.redeem_code('$valid', NULL, 'RO-2')"
    for call in "benefit.hold_code('$valid', 'RO-3', now() + interval '1 hour')" "benefit.release_code('$valid', 'RO-3')" \
                "benefit.expire_code_holds()" "benefit.record_ticket('T-RO', 'RO-3', 1)" "benefit.ticket_scanned('T-RO')"; do
        refuses "$where: ${call%%(*} refuses with 25006" "$port" standby_sales "SELECT $call"
    done
    refuses "$where: an operator's invalidate_code refuses with 25006" "$port" standby_admin \
        "SELECT benefit.invalidate_code('$valid', 'lost')"
    refuses "$where: an operator's generate_codes refuses with 25006" "$port" standby_admin \
        "SELECT benefit.generate_codes(1, 1, 1, 'letter', 'fr')"
}

read_only_calls standby "$standby_port"

# throttling on the standby: three wrong codes from one client key, then even a right one is throttled
out=$(psql -X -q -At -p "$standby_port" -U standby_sales -d "$db" <<SQL 2>&1
SELECT reason FROM benefit.enter_code('$unknown', 'web', 'shop', NULL, 'guesser');
SELECT reason FROM benefit.enter_code('NOPE-1', 'web', 'shop', NULL, 'guesser');
SELECT reason FROM benefit.enter_code('$malformed', 'web', 'shop', NULL, 'guesser');
SELECT reason FROM benefit.enter_code('$partner', 'web', 'shop', NULL, 'guesser');
SELECT reason FROM benefit.available(NULL, 'web', NULL, ARRAY['$partner'], 'shop', 'guesser') WHERE entered_code IS NOT NULL;
SQL
)
[ "$(echo "$out" | tr '\n' ' ')" = "unknown_code unknown_code unknown_code throttled throttled " ] \
    && ok "standby: three wrong codes throttle a client key there (enter_code, available)" \
    || not_ok "standby: three wrong codes throttle a client key there (enter_code, available)" "$out"
[ "$(S -c "SELECT count(*) FROM benefit.list_code_attempts() WHERE throttled")" -ge 1 ] \
    && [ "$(P -c "SELECT count(*) FROM benefit.list_code_attempts() WHERE throttled")" = 0 ] \
    && ok "the standby counts in its own memory; the primary does not see its counts" \
    || not_ok "the standby counts in its own memory; the primary does not see its counts"

# the same on the primary in read-only transactions
opts='-c default_transaction_read_only=on' read_only_calls "primary, read-only transactions" "$primary_port"

# settings: known in a fresh session, misspellings refused, the table bounded, a restart forgets
[ "$(psql -X -At -p "$primary_port" -d "$db" -c "SHOW benefit.throttle_window")" = 15min ] \
    && [ "$(psql -X -At -p "$primary_port" -d "$db" -c '\dconfig benefit.*' | grep -c '^benefit\.')" -ge 4 ] \
    && ok "the benefit.* settings are known in a fresh session (SHOW, \\dconfig)" \
    || not_ok "the benefit.* settings are known in a fresh session (SHOW, \\dconfig)"
out=$(psql -X -q -At -p "$primary_port" -d "$db" -c "ALTER SYSTEM SET benefit.throttle_windo = '1min'" 2>&1 || true)
echo "$out" | grep -q 'ERROR' && ok "ALTER SYSTEM refuses a misspelt benefit setting" \
    || not_ok "ALTER SYSTEM refuses a misspelt benefit setting" "$out"
out=$(psql -X -q -At -p "$primary_port" -d "$db" -c "ALTER ROLE standby_sales SET benefit.throttle_windo = '1min'" 2>&1 || true)
echo "$out" | grep -q 'ERROR' && ok "ALTER ROLE refuses a misspelt benefit setting" \
    || not_ok "ALTER ROLE refuses a misspelt benefit setting" "$out"
psql -X -q -At -p "$primary_port" -d "$db" -c "ALTER SYSTEM SET benefit.throttle_window = '20min'" \
    && psql -X -q -At -p "$primary_port" -d "$db" -c "SELECT pg_reload_conf()" >/dev/null \
    && sleep 0.5 && [ "$(P -c "SHOW benefit.throttle_window")" = 20min ] \
    && ok "ALTER SYSTEM sets a benefit setting" || not_ok "ALTER SYSTEM sets a benefit setting"
P -c "SELECT count(*) FROM (SELECT benefit_internal.record_code_failures(NULL, 'flood-' || i, 1) FROM generate_series(1, 1500) i) s" >/dev/null
[ "$(P -c "SELECT count(*) <= 1000 AND bool_or(key = 'client:' || md5('flood-1500')) FROM benefit.list_code_attempts()")" = t ] \
    && ok "a flood of client keys keeps the table within benefit.throttle_entries, the newest count kept" \
    || not_ok "a flood of client keys keeps the table within benefit.throttle_entries, the newest count kept"
as_pg "$PG_BIN/pg_ctl" -D "$work/primary" -w restart -m fast >/dev/null
[ "$(P -c "SELECT count(*) FROM benefit.list_code_attempts()")" = 0 ] \
    && ok "a restart forgets the counts" || not_ok "a restart forgets the counts"

echo "1..$n"
exit $(( violations > 0 ))
