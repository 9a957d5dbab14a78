#!/usr/bin/env bash
# test/crash.sh: the crash test.  32 clients redeem single-use codes (half of
# them) and hold then confirm tickets of a small quota (the other half); each
# client is one psql session that prints every call's answer as the server
# acknowledges it, so its log is the list of acknowledged results; the
# clients connect as a login granted only benefit_sales.  After
# CRASH_AFTER seconds (default 4) the postmaster and every backend get SIGKILL
# in the middle of the run; the cluster is restarted (crash recovery) and SQL
# checks, printed as TAP lines:
#   - every acknowledged ok redemption is there: the code is used, by that order;
#   - every acknowledged ok hold exists, every acknowledged ok confirmation is confirmed;
#   - nothing unacknowledged is half-applied: every used code has its history
#     row, every hold has its lines and counter rows, counters equal the units
#     of the holds recorded on them;
#   - no code is used twice, no quota is oversold (held + used <= quota, every
#     slot within its cap);
#   - every hold and every use of a code was made by the sales login;
#   - after restart the runtime works: a new hold and confirmation by the
#     sales login go through.
#
# Needs a cluster it may kill: run it inside `pg_virtualenv -t` (bin/test does,
# with its own throw-away cluster), as root or the cluster owner, with PGUSER a
# superuser.  Creates the database benefit_crash and the login crash_sales,
# which connects with a password (PGHOST must accept password or trust
# authentication, as the TCP host pg_virtualenv sets does); drops both at the
# end; the cluster is thrown away with pg_virtualenv.
set -euo pipefail

db=benefit_crash
clients=32
after=${CRASH_AFTER:-4}
calls=400
sales_login=crash_sales
. "$(dirname "$0")/lib.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fresh_db
q <<'SQL'
CREATE EXTENSION benefit;
INSERT INTO benefit.season (code, name, starts_on, ends_on) VALUES ('crash', 'Crash season', '2000-01-01', '2999-12-31');
INSERT INTO benefit.sales_channel (code, name, kind) VALUES ('web', 'Web', 'web');
INSERT INTO benefit.product_family (code, name) VALUES ('t', 'Tickets');
INSERT INTO benefit.product (code, name, family_id, season_id)
    SELECT 'show', 'Show', family_id, season_id FROM benefit.product_family, benefit.season;
INSERT INTO benefit.point_of_sale (code, name, channel_id) SELECT 'shop', 'Shop', channel_id FROM benefit.sales_channel;
INSERT INTO benefit.benefit (code, name, season_id, target_type, all_channels, quota_total, point_of_sale_id)
    SELECT v.c, v.c, season_id, v.t::benefit.target_type, true, v.q,
           CASE WHEN v.t = 'single_use' THEN (SELECT point_of_sale_id FROM benefit.point_of_sale) END
      FROM benefit.season, (VALUES ('codes', 'single_use', 100000), ('hot', 'public', 300)) v(c, t, q);
INSERT INTO benefit.benefit_tariff (benefit_id, product_id, percent_off)
    SELECT benefit_id, product_id, 10 FROM benefit.benefit, benefit.product;
SELECT benefit.go_live(benefit_id) FROM benefit.benefit \g /dev/null
INSERT INTO benefit.contact (kind, name, email) VALUES ('organisation', 'Org', 'org@example.org');
SELECT benefit.generate_codes(b.benefit_id, c.contact_id, 20000, 'letter', 'fr')
  FROM benefit.benefit b, benefit.contact c WHERE b.code = 'codes' \g /dev/null
CREATE TABLE public.pool AS SELECT row_number() OVER (ORDER BY code) AS i, code FROM benefit.single_use_code;
SQL
# the buyers' login, granted only benefit_sales, with a new random password; the codes it
# is handed (public.pool) and the product id the shop knows
sales_password=$(login "$sales_login" benefit_sales)
q -c "GRANT SELECT ON public.pool TO $sales_login"
product=$(q -c "SELECT product_id FROM benefit.product")
# sales ARGS...: psql on $db as the sales login
sales() { PGUSER=$sales_login PGPASSWORD=$sales_password psql -X -d "$db" "$@"; }

# One SQL script per client: half redeem codes (each client 400 of its own), half hold and
# confirm one ticket of the quota of 300.
for ((c = 1; c <= clients; c++)); do
    {
        echo '\set ON_ERROR_STOP 1'
        echo '\pset format unaligned'
        echo '\pset tuples_only on'
        for ((k = 1; k <= calls; k++)); do
            if ((c % 2)); then
                i=$(( (c * 600 + k) % 20000 + 1 ))
                echo "SELECT 'redeem', 'c$c-$k', r.code, r.reason FROM public.pool p, benefit.redeem_code(p.code, NULL, 'c$c-$k') r WHERE p.i = $i;"
            else
                echo "SELECT 'hold', 'c$c-$k', NULL, (benefit.hold('c$c-$k', ARRAY[ROW($product, NULL, NULL, NULL, 1, 2000)::benefit.basket_line], NULL, 'web', now() + interval '1 hour')).reason;"
                echo "SELECT 'confirm', 'c$c-$k', NULL, benefit.confirm('c$c-$k');"
            fi
        done
    } > "$work/client$c.sql"
done

datadir=$(q -c "SHOW data_directory")
pid=$(head -n 1 "$datadir/postmaster.pid")
for ((c = 1; c <= clients; c++)); do
    sales -f "$work/client$c.sql" > "$work/client$c.log" 2> "$work/client$c.err" &
done
sleep "$after"
# SIGKILL the postmaster and every process it started
children=$(ps -o pid= --ppid "$pid" || true)
kill -9 "$pid" $children 2> /dev/null || true
wait || true
acked=$(cat "$work"/client*.log | grep -c '|' || true)

# a killed postmaster may stay a zombie when nothing reaps it (a container without an init):
# its lock files then look held, so remove them once every process is dead or a zombie
for p in $pid $children; do
    for _ in $(seq 100); do
        state=$(awk '{ print $3 }' "/proc/$p/stat" 2> /dev/null || echo gone)
        [ "$state" = gone ] || [ "$state" = Z ] && break
        sleep 0.1
    done
done
port=$(sed -n 4p "$datadir/postmaster.pid")
sockdir=$(sed -n 5p "$datadir/postmaster.pid")
rm -f "$datadir/postmaster.pid" "$sockdir/.s.PGSQL.$port.lock"

# restart: crash recovery
cluster=$(pg_lsclusters -h | awk -v d="$datadir" '$6 == d { print $1 " " $2 }')
# shellcheck disable=SC2086
pg_ctlcluster $cluster start > /dev/null 2>&1 || pg_ctlcluster $cluster restart > /dev/null
for _ in $(seq 60); do pg_isready -q && break; sleep 0.5; done

cat "$work"/client*.log | grep '|' | awk -F'|' '{ print $1 "\t" $2 "\t" $3 "\t" $4 }' > "$work/acked.tsv"
q -c "CREATE TABLE public.acked (op text, order_ref text, code text, reason text)"
q -c "\copy public.acked FROM '$work/acked.tsv'"

echo "1..8"
# (an empty log proves nothing: the clients must have been acknowledged some of each)
if [ "$acked" = 0 ]; then head -n 5 "$work/client1.err" | sed 's/^/#   /'; fi
check "every acknowledged ok redemption survived: the code is used by that order" \
    "$(q -c "SELECT count(*) FILTER (WHERE a.op = 'redeem' AND a.reason = 'ok'
                                      AND (c.state IS DISTINCT FROM 'used' OR c.used_order IS DISTINCT FROM a.order_ref))
              + (count(*) FILTER (WHERE a.op = 'redeem' AND a.reason = 'ok') = 0)::int
               FROM acked a LEFT JOIN benefit.single_use_code c ON c.code::text = a.code")"
check "every acknowledged ok hold exists, every acknowledged ok confirmation is confirmed" \
    "$(q -c "SELECT count(*) FILTER (WHERE a.reason = 'ok' AND ((a.op = 'hold' AND h.order_ref IS NULL)
                                                        OR (a.op = 'confirm' AND h.state IS DISTINCT FROM 'confirmed')))
              + (count(*) FILTER (WHERE a.op = 'confirm' AND a.reason = 'ok') = 0)::int
               FROM acked a LEFT JOIN benefit.order_hold h ON h.order_ref = a.order_ref")"
check "no code used twice, every used code has exactly one use in its history" \
    "$(q -c "SELECT count(*) FROM benefit.single_use_code c
              WHERE c.state = 'used'
                AND (SELECT count(*) FROM benefit.code_history h
                      WHERE h.code OPERATOR(benefit.=) c.code AND h.to_state = 'used') <> 1")"
check "every basket has its lines and its recorded units, every codes order its codes and their units" \
    "$(q -c "SELECT count(*) FROM benefit.order_hold h
              WHERE (h.kind = 'basket' AND NOT EXISTS (SELECT FROM benefit.order_line l WHERE l.order_ref = h.order_ref))
                 OR (h.kind = 'codes' AND h.state = 'confirmed'
                     AND NOT (EXISTS (SELECT FROM benefit.order_code o WHERE o.order_ref = h.order_ref)
                              AND EXISTS (SELECT FROM benefit.order_hold_counter o WHERE o.order_ref = h.order_ref)))
                 OR (EXISTS (SELECT FROM benefit.order_line l WHERE l.order_ref = h.order_ref AND l.benefit_id IS NOT NULL)
                     AND NOT EXISTS (SELECT FROM benefit.order_hold_counter o WHERE o.order_ref = h.order_ref))")"
check "every counter equals the units of the holds recorded on it" \
    "$(q -c "$COUNTERS_VS_HOLDS")"
check "no quota oversold: held + used within 300 and every slot's cap" \
    "$(q -c "SELECT (SELECT (coalesce(sum(held + used), 0) > 300)::int FROM benefit.counter c
                       JOIN benefit.benefit b ON b.benefit_id = c.owner_id AND b.code = 'hot' WHERE c.kind = 'benefit_slot')
              + (SELECT count(*) FROM benefit.counter WHERE held < 0 OR used < 0 OR held + used > cap)")"
check "every hold and every use of a code was made by the sales login ($sales_login)" \
    "$(q -c "SELECT (SELECT count(*) FROM benefit.order_hold WHERE created_by IS DISTINCT FROM '$sales_login')
              + (SELECT count(*) FROM benefit.code_history WHERE by_role IS DISTINCT FROM '$sales_login')")"
after_hold=$(sales -q -v ON_ERROR_STOP=1 -At -c "SELECT (benefit.hold('after-crash', ARRAY[ROW($product, NULL, NULL, NULL, 1, 2000)::benefit.basket_line], NULL, 'web', now() + interval '1 hour')).reason")
after_confirm=$(sales -q -v ON_ERROR_STOP=1 -At -c "SELECT benefit.confirm('after-crash')")
check "after recovery the runtime works (hold: $after_hold, confirm: $after_confirm)" \
    "$([ "$after_hold" = ok ] && [ "$after_confirm" = ok ] && echo 0 || echo 1)"

echo "# crash: $clients clients, SIGKILL after ${after} s, $acked acknowledged answers ($(q -c "SELECT count(*) FILTER (WHERE op = 'redeem' AND reason = 'ok') || ' redemptions, ' || count(*) FILTER (WHERE op = 'confirm' AND reason = 'ok') || ' confirmations' FROM acked") ok), $(q -c "SELECT count(*) FROM benefit.single_use_code WHERE state = 'used'") codes used and $(q -c "SELECT count(*) FROM benefit.order_hold WHERE state = 'confirmed'") orders confirmed after recovery, $violations violations"
drop_db
psql -X -q -d postgres -c "DROP ROLE IF EXISTS $sales_login"
[ "$violations" = 0 ]
