#!/usr/bin/env bash
# test/stress_redeem.sh: a short pgbench stress test of single-use code
# redemption.  14 buyers redeem codes of a pool of 2,000 for random orders
# while 2 operators invalidate codes, so redemptions race each other and race
# invalidations (a third of the calls aim at the lowest code still issued, so
# that the races really happen).  The buyers are a pgbench run as a login
# granted only benefit_sales, the operators a second one, at the same time, as
# a login granted only benefit_admin.  Each transaction is one statement that
# calls benefit.redeem_code (or benefit.invalidate_code) and writes what it
# returned into public.outcome, so the outcome row commits with the
# redemption or not at all.  Then the invariants are checked in SQL, as
# superuser, and printed as TAP lines:
#   - no code is used twice, and every 'ok' is a code in state used;
#   - every 'ok' outcome's order is the used_order of its code;
#   - no code is both used and invalidated;
#   - benefit.code_history matches the states of the codes;
#   - pgbench processed transactions and none failed;
#   - the code history says the buyers' login used the codes and the
#     operators' login invalidated them.
# Exit status 0 only when every check passed.
#
# Runs against the cluster that PGHOST/PGPORT/PGUSER point at, as a
# superuser, with the extension installed (bin/test runs it inside
# pg_virtualenv); creates and drops its own database benefit_stress and the
# logins stress_redeem_sales and stress_redeem_admin, which connect with a
# password (PGHOST must accept password or trust authentication, as the TCP
# host pg_virtualenv sets does).  STRESS_SECONDS (default 10) is
# the length of the pgbench run; STRESS_KEEP_DB=1 keeps the database for
# inspection.
set -euo pipefail

db=benefit_stress
seconds=${STRESS_SECONDS:-10}
clients=16
operators=2
pool_size=2000
sales_login=stress_redeem_sales
admin_login=stress_redeem_admin

work=$(mktemp -d)
. "$(dirname "$0")/lib.sh"
cleanup() {
    rm -rf "$work"
    if [ -z "${STRESS_KEEP_DB:-}" ]; then
        drop_db
        psql -X -q -d postgres -c "DROP ROLE IF EXISTS $sales_login, $admin_login" || true
    fi
}
trap cleanup EXIT


fresh_db
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "ALTER DATABASE $db SET search_path = public, benefit"

# 1. a live single-use benefit, an organisation with 2,000 codes, a buyer
contact=$(q <<SQL
CREATE EXTENSION benefit;
INSERT INTO benefit.season (code, name, starts_on, ends_on) VALUES ('stress', 'Stress season', '2000-01-01', '2999-12-31');
INSERT INTO benefit.product_family (code, name) VALUES ('tickets', 'Tickets');
INSERT INTO benefit.product (code, name, family_id, season_id)
    SELECT 'show', 'Show', family_id, season_id FROM benefit.product_family, benefit.season;
INSERT INTO benefit.benefit (code, name, season_id, target_type, all_channels, quota_total)
    SELECT 'stress', 'Stress codes', season_id, 'single_use', true, 100000 FROM benefit.season;
INSERT INTO benefit.benefit_tariff (benefit_id, product_id, percent_off)
    SELECT benefit_id, product_id, 10 FROM benefit.benefit, benefit.product;
SELECT benefit.go_live(benefit_id) FROM benefit.benefit WHERE code = 'stress' \g /dev/null
INSERT INTO benefit.contact (kind, name, email) VALUES
    ('organisation', 'Acme works council', 'ce@acme.example'),
    ('person', 'Ada Buyer', 'ada@example.org');
SELECT benefit.generate_codes(b.benefit_id, c.contact_id, $pool_size, 'letter', 'fr')
  FROM benefit.benefit b, benefit.contact c WHERE b.code = 'stress' AND c.kind = 'organisation' \g /dev/null
CREATE TABLE public.pool (i int PRIMARY KEY, code benefit.code NOT NULL);
INSERT INTO public.pool (i, code)
    SELECT row_number() OVER (ORDER BY code), code FROM benefit.single_use_code;
-- op: redeem or invalidate; reason: what the call returned
-- started: start of the transaction that made the call; done: just before its commit
CREATE TABLE public.outcome (op text NOT NULL, reason text NOT NULL, code benefit.code NOT NULL, order_ref text,
                             started timestamptz NOT NULL DEFAULT now(),
                             done timestamptz NOT NULL DEFAULT clock_timestamp());
-- the code most buyers type at once: the lowest one still issued (the logins cannot list codes)
CREATE FUNCTION public.lowest_issued_code() RETURNS benefit.code LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS \$\$ SELECT c.code FROM benefit.single_use_code c WHERE c.state = 'issued' ORDER BY c.code LIMIT 1 \$\$;
ANALYZE public.pool;
SELECT contact_id FROM benefit.contact WHERE kind = 'person';
SQL
)
sales_password=$(login "$sales_login" benefit_sales)
admin_password=$(login "$admin_login" benefit_admin)
q <<SQL
REVOKE ALL ON FUNCTION public.lowest_issued_code() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.lowest_issued_code() TO $sales_login, $admin_login;
GRANT SELECT ON public.pool TO $sales_login, $admin_login;
GRANT INSERT ON public.outcome TO $sales_login, $admin_login;
SQL
if [ "$(q -c "SELECT count(*) FROM public.pool")" != "$pool_size" ]; then
    echo "stress_redeem.sh: the pool does not hold $pool_size codes" >&2
    exit 1
fi

# 2. pgbench: buyers redeem (half of them anonymous) and operators invalidate
# a random code of the pool.  Drawn at random, two calls rarely meet on a
# code before its first use, so one call in three instead aims at the lowest
# code still issued, where all clients that do so at the same time collide
# (and falls back to a random code once none is left).  The order is
# computed once (OFFSET 0 keeps random() from being inlined twice), passed to
# redeem_code and stored with its result.
target="coalesce(CASE WHEN :hot = 0 THEN public.lowest_issued_code() END, (SELECT p.code FROM public.pool p WHERE p.i = :i))"
cat > "$work/redeem.sql" <<SQL
\set i random(1, $pool_size)
\set hot random(0, 2)
\set buyer random(0, 1) * :contact
INSERT INTO public.outcome (op, reason, code, order_ref)
SELECT 'redeem', r.reason::text, r.code, o.ref
  FROM (SELECT 'order-' || :client_id::text || '-' || :i::text || '-' || random()::text AS ref OFFSET 0) o,
       benefit.redeem_code($target, NULLIF(:buyer::bigint, 0), o.ref) r;
SQL
cat > "$work/invalidate.sql" <<SQL
\set i random(1, $pool_size)
\set hot random(0, 2)
INSERT INTO public.outcome (op, reason, code)
SELECT 'invalidate', benefit.invalidate_code(t.code, 'stress')::text, t.code
  FROM (SELECT $target AS code OFFSET 0) t;
SQL

PGPASSWORD=$sales_password pgbench -U "$sales_login" -M prepared -n -c $((clients - operators)) -j 2 -T "$seconds" \
    -D contact="$contact" -f "$work/redeem.sql" "$db" > "$work/pgbench.out" 2>&1 &
buyers_pid=$!
PGPASSWORD=$admin_password pgbench -U "$admin_login" -M prepared -n -c "$operators" -j 1 -T "$seconds" \
    -f "$work/invalidate.sql" "$db" > "$work/pgbench_operators.out" 2>&1 &
operators_pid=$!
bench_rc=0
wait "$buyers_pid" || bench_rc=$?
wait "$operators_pid" || bench_rc=$((bench_rc + $?))
cat "$work/pgbench_operators.out" >> "$work/pgbench.out"

# the totals of the two runs
total() {
    sed -n "s/^number of $1: \([0-9]*\).*/\1/p" "$work/pgbench.out" | awk '{ s += $1; n++ } END { if (n == 2) print s }'
}
processed=$(total 'transactions actually processed')
failed=$(total 'failed transactions')

# 3. the invariants

echo "1..8"

check "pgbench processed transactions and none failed (exit $bench_rc, ${processed:-?} processed, ${failed:-?} failed)" \
    "$([ "$bench_rc" = 0 ] && [ "${processed:-0}" -gt 0 ] && [ "${failed:-x}" = 0 ] && echo 0 || echo 1)"
if [ "$bench_rc" != 0 ] || [ "${failed:-x}" != 0 ]; then sed 's/^/#   /' "$work/pgbench.out"; fi

check "the buyers' login used the codes, the operators' login invalidated them (code_history.by_role)" \
    "$(q -c "SELECT count(*) FROM benefit.code_history
              WHERE by_role IS DISTINCT FROM CASE to_state WHEN 'used' THEN '$sales_login' WHEN 'invalidated' THEN '$admin_login' END")" \
    "SELECT to_state, by_role, count(*) FROM benefit.code_history GROUP BY 1, 2 ORDER BY 1, 2"

# no code used twice; as many ok redemptions as codes in state used
check "no code is used twice: $(q -c "SELECT count(*) FROM outcome WHERE op = 'redeem' AND reason = 'ok'") ok redemptions, $(q -c "SELECT count(*) FROM benefit.single_use_code WHERE state = 'used'") used codes" \
    "$(q -c "SELECT (SELECT coalesce(max(n), 0) > 1 FROM (SELECT count(*) AS n FROM outcome WHERE op = 'redeem' AND reason = 'ok' GROUP BY code) s)::int
              + ((SELECT count(*) FROM outcome WHERE op = 'redeem' AND reason = 'ok')
                 <> (SELECT count(*) FROM benefit.single_use_code WHERE state = 'used'))::int")" \
    "SELECT 'ok outcomes', code::text, count(*) FROM outcome WHERE op = 'redeem' AND reason = 'ok' GROUP BY code HAVING count(*) > 1
     UNION ALL SELECT 'used without ok', c.code::text, 0 FROM benefit.single_use_code c
      WHERE c.state = 'used' AND NOT EXISTS (SELECT FROM outcome o WHERE o.op = 'redeem' AND o.reason = 'ok' AND o.code = c.code)
     LIMIT 20"

check "every ok redemption's order is the used_order of its code" \
    "$(q -c "SELECT count(*) FROM outcome o LEFT JOIN benefit.single_use_code c ON c.code = o.code
              WHERE o.op = 'redeem' AND o.reason = 'ok' AND (c.state IS DISTINCT FROM 'used' OR c.used_order IS DISTINCT FROM o.order_ref)")" \
    "SELECT o.code::text, o.order_ref, c.state, c.used_order FROM outcome o LEFT JOIN benefit.single_use_code c ON c.code = o.code
      WHERE o.op = 'redeem' AND o.reason = 'ok' AND (c.state IS DISTINCT FROM 'used' OR c.used_order IS DISTINCT FROM o.order_ref) LIMIT 20"

# no code both used and invalidated: neither in the outcomes nor in the history;
# every ok invalidation is a code in state invalidated, once
check "no code is both used and invalidated" \
    "$(q -c "SELECT (SELECT count(*) FROM (SELECT code FROM outcome WHERE reason = 'ok' GROUP BY code HAVING count(DISTINCT op) > 1) s)
              + (SELECT count(*) FROM (SELECT code FROM benefit.code_history WHERE to_state IN ('used', 'invalidated') GROUP BY code HAVING count(*) > 1) s)
              + (SELECT count(*) FROM outcome o LEFT JOIN benefit.single_use_code c ON c.code = o.code
                  WHERE o.op = 'invalidate' AND o.reason = 'ok' AND c.state IS DISTINCT FROM 'invalidated')
              + (SELECT count(*) FROM (SELECT code FROM outcome WHERE op = 'invalidate' AND reason = 'ok' GROUP BY code HAVING count(*) > 1) s)
              + abs((SELECT count(*) FROM outcome WHERE op = 'invalidate' AND reason = 'ok')
                    - (SELECT count(*) FROM benefit.single_use_code WHERE state = 'invalidated'))")" \
    "SELECT o.op, o.reason, o.code::text, o.order_ref, c.state FROM outcome o JOIN benefit.single_use_code c ON c.code = o.code
      WHERE o.reason = 'ok' AND o.code IN (SELECT code FROM outcome WHERE reason = 'ok' GROUP BY code HAVING count(DISTINCT op) > 1)
     UNION ALL SELECT 'history', to_state::text, code::text, order_ref, NULL FROM benefit.code_history
      WHERE code IN (SELECT code FROM benefit.code_history WHERE to_state IN ('used', 'invalidated') GROUP BY code HAVING count(*) > 1)
     LIMIT 20"

check "the history matches the states of the codes" \
    "$(q -c "SELECT (SELECT count(*) FROM benefit.single_use_code c
                       WHERE c.state <> 'issued'
                         AND c.state IS DISTINCT FROM (SELECT h.to_state FROM benefit.code_history h WHERE h.code = c.code ORDER BY h.history_id DESC LIMIT 1))
              + (SELECT count(*) FROM benefit.single_use_code c
                  WHERE c.state = 'issued' AND EXISTS (SELECT FROM benefit.code_history h WHERE h.code = c.code))
              + abs((SELECT count(*) FROM benefit.code_history WHERE to_state = 'used')
                    - (SELECT count(*) FROM benefit.single_use_code WHERE state = 'used'))
              + abs((SELECT count(*) FROM benefit.code_history WHERE to_state = 'invalidated')
                    - (SELECT count(*) FROM benefit.single_use_code WHERE state = 'invalidated'))
              + (SELECT count(*) FROM benefit.single_use_code c JOIN benefit.code_history h ON h.code = c.code AND h.to_state = 'used'
                  WHERE h.order_ref IS DISTINCT FROM c.used_order)")" \
    "SELECT c.code::text, c.state, c.used_order, h.history_id, h.from_state, h.to_state, h.order_ref
       FROM benefit.single_use_code c JOIN benefit.code_history h ON h.code = c.code
      WHERE c.code IN (SELECT c.code FROM benefit.single_use_code c
                        WHERE c.state IS DISTINCT FROM coalesce((SELECT h.to_state FROM benefit.code_history h WHERE h.code = c.code ORDER BY h.history_id DESC LIMIT 1), 'issued')
                           OR EXISTS (SELECT FROM benefit.code_history h WHERE h.code = c.code AND h.to_state = 'used' AND h.order_ref IS DISTINCT FROM c.used_order))
      ORDER BY h.history_id LIMIT 20"

# the ledger: every used code is in a confirmed codes order with its unit on
# the benefit's slots, so benefit_usage (units) and code_dashboard (codes) agree
check "benefit_usage, code_dashboard and the ledger agree: units used = codes used = codes of confirmed orders" \
    "$(q -c "SELECT count(*) FROM benefit.benefit_usage u
               JOIN (SELECT d.benefit_id, sum(d.codes_used) AS codes_used FROM benefit.code_dashboard d GROUP BY 1) d
                 ON d.benefit_id = u.benefit_id
              WHERE u.used <> d.codes_used
                 OR d.codes_used <> (SELECT count(*) FROM benefit.order_code oc
                                       JOIN benefit.order_hold h ON h.order_ref = oc.order_ref AND h.state = 'confirmed'
                                       JOIN benefit.single_use_code c ON c.code OPERATOR(benefit.=) oc.code
                                      WHERE c.benefit_id = u.benefit_id)")" \
    "SELECT u.code, u.used, (SELECT sum(codes_used) FROM benefit.code_dashboard d WHERE d.benefit_id = u.benefit_id) FROM benefit.benefit_usage u"

# each committed pgbench transaction wrote exactly one outcome row; a client
# cut off by the end of -T may have committed one more that pgbench did not count
outcomes=$(q -c "SELECT count(*) FROM outcome")
check "one outcome row per transaction ($outcomes rows, ${processed:-?} transactions)" \
    "$([ -n "$processed" ] && [ "$outcomes" -ge "$processed" ] && [ "$outcomes" -le $((processed + clients)) ] && echo 0 || echo 1)"

used=$(q -c "SELECT count(*) FROM benefit.single_use_code WHERE state = 'used'")
invalidated=$(q -c "SELECT count(*) FROM benefit.single_use_code WHERE state = 'invalidated'")
refusals=$(q -c "SELECT count(*) FROM outcome WHERE op = 'redeem' AND reason <> 'ok'")
by_reason=$(q -c "SELECT coalesce(string_agg(format('%s: %s', reason, n), ', ' ORDER BY reason), '') FROM (SELECT reason, count(*) AS n FROM outcome WHERE op = 'redeem' AND reason <> 'ok' GROUP BY reason) s")
settled=$(q -c "SELECT coalesce(round(extract(epoch FROM max(at) - min(at))::numeric, 2), 0) FROM benefit.code_history")
echo "# stress: $((clients - operators)) buyers ($sales_login) and $operators operators ($admin_login) x $seconds s, ${processed:-?} transactions, $used codes used, $invalidated invalidated, $refusals refusals by reason {$by_reason}, $violations violations"
# a refusal whose transaction started before the one that used or
# invalidated the code was done overlapped it: the race this test is about
raced=$(q -F ' ' -c "SELECT count(*) FILTER (WHERE o.op = w.op), count(*) FILTER (WHERE o.op <> w.op)
                       FROM outcome o JOIN outcome w ON w.code = o.code AND w.reason = 'ok'
                      WHERE o.reason IN ('already_used', 'invalidated') AND o.started < w.done")
read -r raced_same raced_cross <<<"$raced"
echo "# races: $raced_same refusals overlapped the use or invalidation of their code by a call of the same kind, $raced_cross by a call of the other kind; the $((used + invalidated)) changes of state spanned the first $settled s of the run; $((pool_size - used - invalidated)) codes are still issued"

# 4. the database is dropped by the EXIT trap
[ "$violations" = 0 ]
