#!/usr/bin/env bash
# test/stress_holds.sh: a short pgbench stress test of the two-phase purchase.
# 32 clients hold 1 to 3 tickets of one hot public benefit (quota 500, at most
# 40 per contact, 20 buyers and anonymous ones) with a promo code limited to
# 200 uses half of the time, then confirm (7 in 10), release (2 in 10) or let
# the hold run out (1 in 10, deadline 1 s); one transaction in twenty runs
# expire_holds().  The clients are a pgbench run as a login granted only
# benefit_sales.  Every call writes what it returned into public.outcome in
# the same statement.  Then the invariants are checked in SQL, as superuser,
# and printed as TAP lines:
#   - pgbench processed transactions and none failed (no deadlock, no error);
#   - held + used never exceed the quota, any slot's cap, the per-contact
#     limit or the promo code's limit;
#   - every counter equals the units of the holds recorded against it (held
#     for open holds, used for confirmed ones): nothing leaked, nothing twice;
#   - every ok confirmation is a confirmed order, no order is both confirmed
#     and released or expired;
#   - every hold was made by the sales login;
#   - after the run, once every open hold has expired, buying one ticket at a
#     time sells exactly the units left: exactly 500 are sold in all.
# Exit status 0 only when every check passed.
#
# Runs against the cluster that PGHOST/PGPORT/PGUSER point at, as a
# superuser, with the extension installed (bin/test runs it inside
# pg_virtualenv); creates and drops its own database benefit_stress_holds and
# the logins stress_holds_sales and stress_holds_admin, which connect with a
# password (PGHOST must accept password or trust authentication, as the TCP
# host pg_virtualenv sets does).  STRESS_SECONDS (default 10)
# is the length of the pgbench run, STRESS_CLIENTS (default 32) the clients;
# STRESS_KEEP_DB=1 keeps the database.  STRESS_MIX=all (test/stress_long.sh)
# adds every other runtime call to the mix: redeem_code on 5,000 single-use
# codes, available and price_basket, and operators (one client in 20, a
# second pgbench run at the same time as a login granted only benefit_admin)
# invalidating codes; and two more checks: no code used twice or both used
# and invalidated, and the code history matches (and names the login that
# made each change).
set -euo pipefail

db=benefit_stress_holds
seconds=${STRESS_SECONDS:-10}
clients=${STRESS_CLIENTS:-32}
mix=${STRESS_MIX:-holds}
quota=500
promo_limit=200
per_contact=40
sales_login=stress_holds_sales
admin_login=stress_holds_admin

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

# 1. a hot public benefit, a promo code, 20 buyers, the outcome table; what the
# shop knows (its product, its buyers' contact ids, the codes handed out) is
# in tables of its own, as the sales login reads no table of the extension
q <<SQL
CREATE EXTENSION benefit;
INSERT INTO benefit.season (code, name, starts_on, ends_on) VALUES ('stress', 'Stress season', '2000-01-01', '2999-12-31');
INSERT INTO benefit.sales_channel (code, name, kind) VALUES ('web', 'Web', 'web');
INSERT INTO benefit.product_family (code, name) VALUES ('tickets', 'Tickets');
INSERT INTO benefit.product (code, name, family_id, season_id)
    SELECT 'show', 'Show', family_id, season_id FROM benefit.product_family, benefit.season;
INSERT INTO benefit.benefit (code, name, season_id, target_type, all_channels, quota_total, quota_per_contact)
    SELECT 'hot', 'Hot benefit', season_id, 'public', true, $quota, $per_contact FROM benefit.season;
INSERT INTO benefit.benefit_tariff (benefit_id, product_id, percent_off)
    SELECT benefit_id, product_id, 20 FROM benefit.benefit, benefit.product;
SELECT benefit.go_live(benefit_id) FROM benefit.benefit \g /dev/null
INSERT INTO benefit.promo_code (code, name, percent_off, all_channels, max_uses_total)
    VALUES ('HALF', 'Half price', 50, true, $promo_limit);
INSERT INTO benefit.contact (kind, name) SELECT 'person', 'Buyer ' || i FROM generate_series(1, 20) i;
CREATE TABLE public.buyer (i int PRIMARY KEY, contact_id bigint NOT NULL);
INSERT INTO public.buyer SELECT i, contact_id FROM benefit.contact, generate_series(1, 20) i WHERE name = 'Buyer ' || i;
CREATE TABLE public.shop (product_id bigint NOT NULL);
INSERT INTO public.shop SELECT product_id FROM benefit.product;
CREATE FUNCTION public.basket(n int) RETURNS benefit.basket_line[] LANGUAGE sql STABLE
    AS \$\$ SELECT ARRAY[ROW(product_id, NULL, NULL, NULL, n, 3000)::benefit.basket_line] FROM public.shop \$\$;
-- op: hold, confirm, release or expire; reason: what the call returned; units: tickets priced with the benefit
CREATE TABLE public.outcome (op text NOT NULL, order_ref text, reason text, units int, promo text,
                             expired int, code text, at timestamptz NOT NULL DEFAULT clock_timestamp());
-- the single-use codes of STRESS_MIX=all
INSERT INTO benefit.point_of_sale (code, name, channel_id) SELECT 'shop', 'Shop', channel_id FROM benefit.sales_channel;
INSERT INTO benefit.benefit (code, name, season_id, target_type, all_channels, quota_total, point_of_sale_id)
    SELECT 'codes', 'Codes', season_id, 'single_use', true, 1000000, (SELECT point_of_sale_id FROM benefit.point_of_sale)
      FROM benefit.season;
INSERT INTO benefit.benefit_tariff (benefit_id, product_id, price_cents)
    SELECT b.benefit_id, p.product_id, 1000 FROM benefit.benefit b, benefit.product p WHERE b.code = 'codes';
SELECT benefit.go_live(benefit_id) FROM benefit.benefit WHERE code = 'codes' \g /dev/null
INSERT INTO benefit.contact (kind, name, email) VALUES ('organisation', 'Org', 'org@example.org');
SELECT benefit.generate_codes(b.benefit_id, c.contact_id, 5000, 'letter', 'fr')
  FROM benefit.benefit b, benefit.contact c WHERE b.code = 'codes' AND c.kind = 'organisation' \g /dev/null
CREATE TABLE public.pool AS SELECT row_number() OVER (ORDER BY code) AS i, code, code::text AS code_text FROM benefit.single_use_code;
ALTER TABLE public.pool ADD PRIMARY KEY (i);
SQL
sales_password=$(login "$sales_login" benefit_sales)
admin_password=$(login "$admin_login" benefit_admin)
q -c "GRANT SELECT ON public.buyer, public.shop, public.pool TO $sales_login, $admin_login" \
  -c "GRANT INSERT ON public.outcome TO $sales_login, $admin_login"

# 2. pgbench: each transaction holds, then (a separate transaction) settles the hold
cat > "$work/buy.sql" <<'SQL'
\set n random(1, 2000000000)
\set units random(1, 3)
\set buyer random(0, 20)
\set promo random(0, 1)
\set fate random(1, 10)
INSERT INTO public.outcome (op, order_ref, reason, units, promo)
SELECT 'hold', 'o-' || :client_id || '-' || :n, h.reason::text,
       (SELECT sum((l).quantity) FROM unnest(h.lines) l WHERE (l).benefit_code = 'hot'), h.promo_code
  FROM benefit.hold('o-' || :client_id || '-' || :n, public.basket(:units),
                    (SELECT contact_id FROM public.buyer WHERE i = :buyer), 'web',
                    now() + CASE WHEN :fate = 10 THEN interval '1 second' ELSE interval '10 minutes' END,
                    NULL, CASE WHEN :promo = 1 THEN 'HALF' END) h;
INSERT INTO public.outcome (op, order_ref, reason)
SELECT CASE WHEN :fate <= 7 THEN 'confirm' ELSE 'release' END, 'o-' || :client_id || '-' || :n,
       CASE WHEN :fate <= 7 THEN benefit.confirm('o-' || :client_id || '-' || :n)
            ELSE benefit.release('o-' || :client_id || '-' || :n) END::text
 WHERE :fate < 10;
SQL
cat > "$work/expire.sql" <<'SQL'
INSERT INTO public.outcome (op, expired) SELECT 'expire', benefit.expire_holds();
SQL

cat > "$work/redeem.sql" <<'SQL'
\set i random(1, 5000)
\set n random(1, 2000000000)
INSERT INTO public.outcome (op, order_ref, reason, code)
SELECT 'redeem', 'r-' || :client_id || '-' || :n, r.reason::text, p.code_text
  FROM public.pool p, benefit.redeem_code(p.code, NULL, 'r-' || :client_id || '-' || :n, 'web', 'shop') r WHERE p.i = :i;
SQL
cat > "$work/invalidate.sql" <<'SQL'
\set i random(1, 5000)
INSERT INTO public.outcome (op, reason, code)
SELECT 'invalidate', benefit.invalidate_code(p.code, 'stress')::text, p.code_text FROM public.pool p WHERE p.i = :i;
SQL
cat > "$work/look.sql" <<'SQL'
\set i random(1, 5000)
\set buyer random(0, 20)
SELECT count(*) FROM benefit.available((SELECT contact_id FROM public.buyer WHERE i = :buyer), 'web', NULL,
                                       ARRAY[(SELECT code_text FROM public.pool WHERE i = :i)], 'shop');
SELECT (benefit.price_basket(public.basket(2), (SELECT contact_id FROM public.buyer WHERE i = :buyer), 'web', 'shop',
                             NULL, ARRAY[(SELECT code_text FROM public.pool WHERE i = :i)], 'HALF')).total_cents;
SQL
# the buyers as the sales login; with STRESS_MIX=all, operators at the same
# time as the admin login (one client in 20, each paced at 40 invalidations
# a second, about what a buyer client runs, so that invalidations stay near
# one call in 20)
scripts=(-f "$work/buy.sql@19" -f "$work/expire.sql@1")
operators=0
if [ "$mix" = all ]; then
    scripts=(-f "$work/buy.sql@10" -f "$work/expire.sql@1" -f "$work/redeem.sql@5" -f "$work/look.sql@3")
    operators=$((clients / 20 > 0 ? clients / 20 : 1))
fi

bench_rc=0
runs=1
PGPASSWORD=$sales_password pgbench -U "$sales_login" -n -c $((clients - operators)) -j 2 -T "$seconds" "${scripts[@]}" "$db" \
    > "$work/pgbench.out" 2>&1 &
buyers_pid=$!
if [ "$operators" -gt 0 ]; then
    runs=2
    PGPASSWORD=$admin_password pgbench -U "$admin_login" -n -c "$operators" -j 1 -T "$seconds" -R $((operators * 40)) -f "$work/invalidate.sql" "$db" \
        > "$work/pgbench_operators.out" 2>&1 || bench_rc=$?
fi
wait "$buyers_pid" || bench_rc=$((bench_rc + $?))
if [ "$operators" -gt 0 ]; then cat "$work/pgbench_operators.out" >> "$work/pgbench.out"; fi
# the totals of the runs (lines starting with "number of": the per-script sections indent theirs)
total() {
    sed -n "s/^number of $1: \([0-9]*\).*/\1/p" "$work/pgbench.out" | awk -v runs=$runs '{ s += $1; n++ } END { if (n == runs) print s }'
}
processed=$(total 'transactions actually processed')
failed=$(total 'failed transactions')

# 3. the invariants

if [ "$mix" = all ]; then echo "1..10"; else echo "1..8"; fi

check "pgbench processed transactions and none failed (exit $bench_rc, ${processed:-?} processed, ${failed:-?} failed)" \
    "$([ "$bench_rc" = 0 ] && [ "${processed:-0}" -gt 0 ] && [ "${failed:-x}" = 0 ] && echo 0 || echo 1)"
if [ "$bench_rc" != 0 ] || [ "${failed:-x}" != 0 ]; then sed 's/^/#   /' "$work/pgbench.out" | tail -n 30; fi

check "held + used within the quota ($quota), every slot's cap, $per_contact per contact and the promo limit ($promo_limit)" \
    "$(q -c "SELECT (SELECT count(*) FROM (SELECT c.owner_id, sum(c.held + c.used) AS taken FROM benefit.counter c
                                              WHERE c.kind = 'benefit_slot' GROUP BY 1) t
                        JOIN benefit.benefit b ON b.benefit_id = t.owner_id WHERE t.taken > b.quota_total)
              + (SELECT count(*) FROM benefit.counter WHERE held < 0 OR used < 0 OR held + used > cap)
              + (SELECT count(*) FROM benefit.counter WHERE kind = 'benefit_contact' AND held + used > $per_contact)
              + (SELECT (sum(held + used) > $promo_limit)::int FROM benefit.counter WHERE kind = 'promo_slot')")" \
    "SELECT kind, owner_id, key, cap, held, used FROM benefit.counter WHERE held + used > 0 ORDER BY 1, 2, 3"

check "every counter equals the units of the holds recorded on it (held: open holds, used: confirmed)" \
    "$(q -c "$COUNTERS_VS_HOLDS")"

check "every ok hold is recorded, with its units; every refused hold wrote nothing" \
    "$(q -c "SELECT (SELECT count(*) FROM outcome o LEFT JOIN benefit.order_hold h USING (order_ref)
                      WHERE o.op = 'hold' AND (o.reason = 'ok') <> (h.order_ref IS NOT NULL))
              + (SELECT count(*) FROM outcome o
                  WHERE o.op = 'hold' AND o.reason = 'ok' AND coalesce(o.units, 0)
                        <> coalesce((SELECT sum(units) FROM benefit.order_hold_counter c
                                      WHERE c.order_ref = o.order_ref AND c.kind = 'benefit_slot'), 0))")"

check "every ok confirmation is a confirmed order, every ok release a released one" \
    "$(q -c "SELECT count(*) FROM outcome o JOIN benefit.order_hold h USING (order_ref)
              WHERE o.reason = 'ok' AND ((o.op = 'confirm' AND h.state <> 'confirmed')
                                      OR (o.op = 'release' AND h.state <> 'released'))")"

check "every hold was made by the sales login ($sales_login)" \
    "$(q -c "SELECT count(*) FROM benefit.order_hold WHERE created_by IS DISTINCT FROM '$sales_login'")" \
    "SELECT created_by, count(*) FROM benefit.order_hold GROUP BY 1 ORDER BY 1"

# 4. sell the rest (as superuser): expire every open hold, then buy one ticket at a time until refused
q -c "UPDATE benefit.order_hold SET held_until = now() - interval '1 second' WHERE state = 'held'" >/dev/null
q -c "SELECT benefit.expire_holds()" >/dev/null
q -c "SELECT benefit.expire_holds()" >/dev/null
left=$(q -c "SELECT \"left\" FROM benefit.benefit_usage WHERE code = 'hot'")
sold=$(q <<'SQL'
DO $$
DECLARE
    r benefit.priced_basket;
    i int := 0;
BEGIN
    LOOP
        i := i + 1;
        r := benefit.hold('final-' || i, public.basket(1), NULL, 'web', now() + interval '1 minute');
        EXIT WHEN r.reason <> 'ok' OR (r.lines[1]).benefit_code IS NULL OR i > 1000;
        PERFORM benefit.confirm('final-' || i);
    END LOOP;
END
$$;
SELECT used FROM benefit.benefit_usage WHERE code = 'hot';
SQL
)
check "after expiring every open hold, one-ticket sales sell exactly what was left ($left): $sold of $quota used" \
    "$([ "$sold" = "$quota" ] && echo 0 || echo 1)"
check "the promo code was used at most $promo_limit times: $(q -c "SELECT used FROM benefit.promo_usage")" \
    "$(q -c "SELECT (used > $promo_limit OR held <> 0)::int FROM benefit.promo_usage")"

if [ "$mix" = all ]; then
    check "no code used twice, none both used and invalidated, every ok redemption's code used by its order" \
        "$(q -c "SELECT (SELECT count(*) FROM (SELECT code FROM outcome WHERE op IN ('redeem', 'invalidate') AND reason = 'ok'
                                                GROUP BY code HAVING count(*) > 1) s)
                  + (SELECT count(*) FROM outcome o JOIN benefit.single_use_code c ON c.code::text = o.code
                      WHERE o.op = 'redeem' AND o.reason = 'ok' AND (c.state <> 'used' OR c.used_order <> o.order_ref))")"
    check "the code history matches the states of the codes, and names the admin login for invalidations, the sales login for the rest" \
        "$(q -c "SELECT (SELECT count(*) FROM benefit.single_use_code c
                          WHERE c.state IS DISTINCT FROM coalesce((SELECT h.to_state FROM benefit.code_history h
                                                                    WHERE h.code OPERATOR(benefit.=) c.code
                                                                    ORDER BY h.history_id DESC LIMIT 1), 'issued'))
                  + (SELECT count(*) FROM benefit.code_history
                      WHERE by_role IS DISTINCT FROM CASE WHEN to_state = 'invalidated' THEN '$admin_login' ELSE '$sales_login' END)")" \
        "SELECT to_state, by_role, count(*) FROM benefit.code_history GROUP BY 1, 2 ORDER BY 1, 2"
fi

holds=$(q -c "SELECT count(*) FROM outcome WHERE op = 'hold'")
by_reason=$(q -c "SELECT string_agg(format('%s %s: %s', op, reason, n), ', ' ORDER BY op, reason)
                    FROM (SELECT op, reason, count(*) AS n FROM outcome WHERE op <> 'expire' GROUP BY 1, 2) s")
expired=$(q -c "SELECT coalesce(sum(expired), 0) FROM outcome WHERE op = 'expire'")
echo "# stress: $((clients - operators)) buyers ($sales_login)$([ "$operators" = 0 ] || echo " and $operators operators ($admin_login)") x $seconds s, ${processed:-?} transactions, $holds holds {$by_reason}, $expired expired by expire_holds, $violations violations"

# 5. the database is dropped by the EXIT trap
[ "$violations" = 0 ]
