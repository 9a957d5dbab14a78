#!/usr/bin/env bash
# test/stress_operators.sh: a short pgbench stress test of operators editing
# limits during a sale.  64 buyers (a pgbench run as a login granted only
# benefit_sales) hold baskets priced by up to three benefits, with a promo
# code half of the time, then confirm (7 in 10), release (2 in 10) or let the
# hold run out (1 in 10, deadline 1 s); others hold code baskets with a
# single-use code and confirm them, or call redeem_code; one transaction in
# twenty runs expire_holds().  At the same time 4 operators (a second pgbench
# run, as a login granted only benefit_admin) edit the limits, in the orders
# that deadlocked buyers before 0.3.0:
#   - one statement raising every quota (UPDATE ... WHERE quota_total IS NOT
#     NULL, in physical order: the rows were made to be out of id order);
#   - one transaction raising the promo code's limit, then a quota;
#   - one transaction raising two quotas, the higher benefit id first;
#   - lowering the promo code's limit.
# An edit that finds the slots it needs in use fails with 55P03 (allowed:
# caught, counted, rolled back); any other error fails the run.  Then, as
# superuser, TAP lines:
#   - both pgbench runs processed transactions and no client failed (no
#     error reached a buyer; no operator error but 55P03);
#   - no deadlock was detected in the database (pg_stat_database) nor
#     reported to a client;
#   - every slotted limit has its 16 slots, the caps add up to the limit
#     (all NULL without one), no slot holds and uses more than its cap;
#   - every limit is its start plus the edits that passed (none lost);
#   - every counter equals the units of the orders recorded on it (held:
#     open orders, used: confirmed ones);
#   - every basket order reserved, on each benefit's slots, the units of
#     its lines priced by that benefit, and one promo use when it has one.
# Exit status 0 only when every check passed.
#
# Runs against the cluster that PGHOST/PGPORT/PGUSER point at, as a
# superuser, with the extension installed (bin/test runs it inside
# pg_virtualenv); creates and drops its own database benefit_stress_operators
# and the logins stress_ops_sales and stress_ops_admin, which connect with a
# password.  STRESS_SECONDS (default 15) is the length of the runs,
# STRESS_CLIENTS (default 64) the buyers; STRESS_KEEP_DB=1 keeps the database.
set -euo pipefail

db=benefit_stress_operators
seconds=${STRESS_SECONDS:-15}
clients=${STRESS_CLIENTS:-64}
operators=4
sales_login=stress_ops_sales
admin_login=stress_ops_admin
pool_size=10000

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

# 1. three public benefits (b1 and b2 with room to spare, b3 small enough to sell out and be
# raised again), a single-use benefit with its codes, a promo code; the shop's own tables
q <<SQL
CREATE EXTENSION benefit;
INSERT INTO benefit.season (code, name, starts_on, ends_on) VALUES ('stress', 'Stress season', '2000-01-01', '2999-12-31');
INSERT INTO benefit.sales_channel (code, name, kind) VALUES ('web', 'Web', 'web');
INSERT INTO benefit.point_of_sale (code, name, channel_id) SELECT 'shop', 'Shop', channel_id FROM benefit.sales_channel;
INSERT INTO benefit.product_family (code, name) VALUES ('tickets', 'Tickets');
INSERT INTO benefit.product (code, name, family_id, season_id)
    SELECT v, v, family_id, season_id FROM benefit.product_family, benefit.season,
           (VALUES ('show1'), ('show2'), ('show3'), ('codes_show')) x(v);
INSERT INTO benefit.benefit (code, name, season_id, target_type, all_channels, quota_total)
    SELECT v.c, v.c, season_id, 'public', true, v.q FROM benefit.season,
           (VALUES ('b1', 1000000), ('b2', 1000000), ('b3', 3000)) v(c, q) ORDER BY v.c;
INSERT INTO benefit.benefit_tariff (benefit_id, product_id, percent_off)
    SELECT b.benefit_id, p.product_id, 20 FROM benefit.benefit b JOIN benefit.product p ON p.code = 'show' || substr(b.code, 2);
INSERT INTO benefit.benefit (code, name, season_id, target_type, all_channels, quota_total, point_of_sale_id)
    SELECT 'codes', 'Codes', season_id, 'single_use', true, 1000000, (SELECT point_of_sale_id FROM benefit.point_of_sale)
      FROM benefit.season;
INSERT INTO benefit.benefit_tariff (benefit_id, product_id, price_cents)
    SELECT b.benefit_id, p.product_id, 1000 FROM benefit.benefit b, benefit.product p
     WHERE b.code = 'codes' AND p.code = 'codes_show';
SELECT benefit.go_live(benefit_id) FROM benefit.benefit ORDER BY benefit_id \g /dev/null
-- b1's row behind the others: an UPDATE of every quota visits b1 after b3, the reverse of the
-- buyers' lock order (later edits keep shuffling the rows)
UPDATE benefit.benefit SET name = 'B1' WHERE code = 'b1';
INSERT INTO benefit.promo_code (code, name, percent_off, all_channels, max_uses_total)
    VALUES ('HALF', 'Half price', 50, true, 2000);
INSERT INTO benefit.contact (kind, name, email) VALUES ('organisation', 'Org', 'org@example.org');
SELECT benefit.generate_codes(b.benefit_id, c.contact_id, $pool_size, 'letter', 'fr')
  FROM benefit.benefit b, benefit.contact c WHERE b.code = 'codes' \g /dev/null
CREATE TABLE public.shop (code text PRIMARY KEY, product_id bigint NOT NULL);
INSERT INTO public.shop SELECT code, product_id FROM benefit.product;
CREATE TABLE public.pool AS SELECT row_number() OVER (ORDER BY code) AS i, code, code::text AS code_text FROM benefit.single_use_code;
ALTER TABLE public.pool ADD PRIMARY KEY (i);
-- x, y, z units of show1, show2, show3 (one show1 when all are 0)
CREATE FUNCTION public.basket(x int, y int, z int) RETURNS benefit.basket_line[] LANGUAGE sql STABLE
    AS \$\$ SELECT array_agg(ROW(s.product_id, NULL, NULL, NULL, v.n, 3000)::benefit.basket_line ORDER BY s.code)
              FROM (VALUES ('show1', CASE WHEN x + y + z = 0 THEN 1 ELSE x END), ('show2', y), ('show3', z)) v(code, n)
              JOIN public.shop s USING (code) WHERE v.n > 0 \$\$;
CREATE FUNCTION public.code_basket() RETURNS benefit.basket_line[] LANGUAGE sql STABLE
    AS \$\$ SELECT ARRAY[ROW(product_id, NULL, NULL, NULL, 1, 3000)::benefit.basket_line] FROM public.shop WHERE code = 'codes_show' \$\$;
CREATE TABLE public.outcome (op text NOT NULL, order_ref text, reason text, code text,
                             expired int, at timestamptz NOT NULL DEFAULT clock_timestamp());
-- the operators' edits: target (a benefit's code, 'all' for every quota, 'promo'), the change,
-- and ok or the SQLSTATE of the failure
CREATE TABLE public.edit (target text NOT NULL, delta int NOT NULL, result text NOT NULL,
                          at timestamptz NOT NULL DEFAULT clock_timestamp());
-- an operator's edit, run as the caller; 55P03 (the slots it needs are in use) is rolled back
-- and recorded, any other error is raised
CREATE FUNCTION public.try_edit(p_target text, p_delta int) RETURNS text LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp AS \$\$
BEGIN
    BEGIN
        IF p_target = 'all' THEN
            UPDATE benefit.benefit SET quota_total = quota_total + p_delta WHERE quota_total IS NOT NULL;
        ELSIF p_target = 'promo' THEN
            -- lowered only while 100 uses are left (never below the uses held or used, 55000)
            UPDATE benefit.promo_code SET max_uses_total = max_uses_total + p_delta
             WHERE code = 'HALF' AND (p_delta > 0 OR (SELECT u."left" FROM benefit.promo_usage u WHERE u.code = 'HALF') > 100);
        ELSE
            UPDATE benefit.benefit SET quota_total = quota_total + p_delta WHERE code = p_target;
        END IF;
        IF NOT FOUND THEN
            INSERT INTO public.edit (target, delta, result) VALUES (p_target, p_delta, 'skipped');
            RETURN 'skipped';
        END IF;
    EXCEPTION WHEN lock_not_available THEN
        INSERT INTO public.edit (target, delta, result) VALUES (p_target, p_delta, '55P03');
        RETURN '55P03';
    END;
    INSERT INTO public.edit (target, delta, result) VALUES (p_target, p_delta, 'ok');
    RETURN 'ok';
END
\$\$;
CREATE TABLE public.start AS
    SELECT code AS target, quota_total AS lim FROM benefit.benefit
    UNION ALL SELECT 'promo', max_uses_total FROM benefit.promo_code;
SQL
sales_password=$(login "$sales_login" benefit_sales)
admin_password=$(login "$admin_login" benefit_admin)
q -c "GRANT SELECT ON public.shop, public.pool TO $sales_login" \
  -c "GRANT INSERT ON public.outcome TO $sales_login" \
  -c "GRANT INSERT ON public.edit TO $admin_login"
deadlocks_before=$(q -c "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")

# 2. the buyers' scripts
cat > "$work/buy.sql" <<'SQL'
\set n random(1, 2000000000)
\set x random(0, 2)
\set y random(0, 2)
\set z random(0, 1)
\set promo random(0, 1)
\set fate random(1, 10)
INSERT INTO public.outcome (op, order_ref, reason)
SELECT 'hold', 'o-' || :client_id || '-' || :n, h.reason::text
  FROM benefit.hold('o-' || :client_id || '-' || :n, public.basket(:x, :y, :z), NULL, 'web',
                    now() + CASE WHEN :fate = 10 THEN interval '1 second' ELSE interval '10 minutes' END,
                    NULL, CASE WHEN :promo = 1 THEN 'HALF' END) h;
INSERT INTO public.outcome (op, order_ref, reason)
SELECT CASE WHEN :fate <= 7 THEN 'confirm' ELSE 'release' END, 'o-' || :client_id || '-' || :n,
       CASE WHEN :fate <= 7 THEN benefit.confirm('o-' || :client_id || '-' || :n)
            ELSE benefit.release('o-' || :client_id || '-' || :n) END::text
 WHERE :fate < 10;
SQL
cat > "$work/code_basket.sql" <<SQL
\set i random(1, $pool_size)
\set n random(1, 2000000000)
\set promo random(0, 1)
INSERT INTO public.outcome (op, order_ref, reason, code)
SELECT 'code_hold', 'c-' || :client_id || '-' || :n, h.reason::text, p.code_text
  FROM public.pool p,
       benefit.hold('c-' || :client_id || '-' || :n, public.code_basket(), NULL, 'web', now() + interval '10 minutes',
                    ARRAY[p.code_text], CASE WHEN :promo = 1 THEN 'HALF' END, 'shop') h
 WHERE p.i = :i;
INSERT INTO public.outcome (op, order_ref, reason)
SELECT 'confirm', 'c-' || :client_id || '-' || :n, benefit.confirm('c-' || :client_id || '-' || :n)::text;
SQL
cat > "$work/redeem.sql" <<SQL
\set i random(1, $pool_size)
\set n random(1, 2000000000)
INSERT INTO public.outcome (op, order_ref, reason, code)
SELECT 'redeem', 'r-' || :client_id || '-' || :n, r.reason::text, p.code_text
  FROM public.pool p, benefit.redeem_code(p.code, NULL, 'r-' || :client_id || '-' || :n, 'web', 'shop') r WHERE p.i = :i;
SQL
cat > "$work/expire.sql" <<'SQL'
INSERT INTO public.outcome (op, expired) SELECT 'expire', benefit.expire_holds();
SQL

# 3. the operators' scripts
cat > "$work/op_all.sql" <<'SQL'
SELECT public.try_edit('all', 1);
SQL
cat > "$work/op_promo_then_quota.sql" <<'SQL'
BEGIN;
SELECT public.try_edit('promo', 1);
SELECT public.try_edit('b2', 1);
COMMIT;
SQL
cat > "$work/op_reverse.sql" <<'SQL'
BEGIN;
SELECT public.try_edit('b3', 1);
SELECT public.try_edit('b1', 1);
COMMIT;
SQL
cat > "$work/op_lower.sql" <<'SQL'
SELECT public.try_edit('promo', -1);
SQL

# 4. both runs at once; the operators paced at 5 edits a second each
PGPASSWORD=$sales_password pgbench -U "$sales_login" -n --verbose-errors -c "$clients" -j 4 -T "$seconds" \
    -f "$work/buy.sql@12" -f "$work/code_basket.sql@3" -f "$work/redeem.sql@4" -f "$work/expire.sql@1" "$db" \
    > "$work/buyers.out" 2>&1 &
buyers_pid=$!
ops_rc=0
PGPASSWORD=$admin_password pgbench -U "$admin_login" -n --verbose-errors -c "$operators" -j 1 -T "$seconds" -R $((operators * 5)) \
    -f "$work/op_all.sql@2" -f "$work/op_promo_then_quota.sql@2" -f "$work/op_reverse.sql@2" -f "$work/op_lower.sql@1" "$db" \
    > "$work/operators.out" 2>&1 || ops_rc=$?
buyers_rc=0
wait "$buyers_pid" || buyers_rc=$?

# the sessions' statistics reach pg_stat_database when they end
for _ in $(seq 50); do
    [ "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE usename IN ('$sales_login', '$admin_login')")" = 0 ] && break
    sleep 0.1
done
sleep 0.5
deadlocks=$(( $(q -c "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()") - deadlocks_before ))

number() { sed -n "s/^number of $2: \([0-9]*\).*/\1/p" "$work/$1.out" | head -n 1; }

# 5. the checks
echo "1..8"

for run in buyers operators; do
    rc=$([ "$run" = buyers ] && echo "$buyers_rc" || echo "$ops_rc")
    processed=$(number "$run" 'transactions actually processed')
    failed=$(number "$run" 'failed transactions')
    errors=$(grep -c -e 'ERROR' -e 'aborted' "$work/$run.out" || true)
    check "$run: pgbench processed transactions, no client failed (exit $rc, ${processed:-?} processed, ${failed:-?} failed, $errors errors)" \
        "$([ "$rc" = 0 ] && [ "${processed:-0}" -gt 0 ] && [ "${failed:-0}" = 0 ] && [ "$errors" = 0 ] && echo 0 || echo 1)"
    if [ "$rc" != 0 ] || [ "$errors" != 0 ]; then grep -e ERROR -e aborted "$work/$run.out" | sort | uniq -c | sort -rn | head -n 10 | sed 's/^/#   /'; fi
done

reported=$(cat "$work/buyers.out" "$work/operators.out" | grep -c -i 'deadlock' || true)
check "no deadlock detected in the database ($deadlocks) or reported to a client ($reported)" \
    "$([ "$deadlocks" = 0 ] && [ "$reported" = 0 ] && echo 0 || echo 1)"

check "every slotted limit: 16 slots whose caps add up to the limit (all NULL without one), none over its cap" \
    "$(q -c "SELECT count(*) FROM (
               SELECT l.lim, count(c.key) AS slots, sum(c.cap) AS caps, count(c.cap) AS capped,
                      count(*) FILTER (WHERE c.held + c.used > c.cap) AS over
                 FROM (SELECT 'benefit_slot'::benefit.counter_kind AS kind, benefit_id AS owner_id, quota_total AS lim FROM benefit.benefit
                       UNION ALL
                       SELECT 'promo_slot', promo_code_id, max_uses_total FROM benefit.promo_code) l
                 LEFT JOIN benefit.counter c USING (kind, owner_id)
                GROUP BY l.kind, l.owner_id, l.lim) s
              WHERE slots <> 16 OR caps IS DISTINCT FROM lim OR capped <> CASE WHEN lim IS NULL THEN 0 ELSE 16 END OR over > 0")" \
    "SELECT kind, owner_id, sum(cap), count(cap), sum(held), sum(used) FROM benefit.counter
      WHERE kind IN ('benefit_slot', 'promo_slot') GROUP BY 1, 2 ORDER BY 1, 2"

check "every limit is its start plus the edits that passed" \
    "$(q -c "SELECT count(*) FROM public.start s
               JOIN (SELECT code AS target, quota_total AS lim FROM benefit.benefit
                     UNION ALL SELECT 'promo', max_uses_total FROM benefit.promo_code) n USING (target)
              WHERE n.lim IS DISTINCT FROM s.lim + coalesce((SELECT sum(e.delta) FROM public.edit e
                                                              WHERE e.result = 'ok'
                                                                AND (e.target = s.target OR (e.target = 'all' AND s.target <> 'promo'
                                                                                             AND s.lim IS NOT NULL))), 0)")" \
    "SELECT s.target, s.lim, (SELECT string_agg(format('%s %s: %s', target, result, n), ', ') FROM
             (SELECT target, result, count(*) AS n FROM public.edit GROUP BY 1, 2) e) FROM public.start s"

check "every counter equals the units of the orders recorded on it (held: open orders, used: confirmed)" \
    "$(q -c "$COUNTERS_VS_HOLDS")"

check "every basket order reserved its lines' units on each benefit's slots, and one promo use when it has one" \
    "$(q -c "SELECT count(*) FROM benefit.order_hold h
              WHERE h.kind = 'basket'
                AND ((SELECT coalesce(array_agg(ARRAY[owner_id, units] ORDER BY owner_id), '{}') FROM
                        (SELECT o.owner_id, sum(o.units) AS units FROM benefit.order_hold_counter o
                          WHERE o.order_ref = h.order_ref AND o.kind = 'benefit_slot' GROUP BY 1) u)
                     IS DISTINCT FROM
                     (SELECT coalesce(array_agg(ARRAY[benefit_id, units] ORDER BY benefit_id), '{}') FROM
                        (SELECT l.benefit_id, sum(l.quantity) AS units FROM benefit.order_line l
                          WHERE l.order_ref = h.order_ref AND l.benefit_id IS NOT NULL GROUP BY 1) u)
                  OR coalesce((SELECT sum(o.units) FROM benefit.order_hold_counter o
                                WHERE o.order_ref = h.order_ref AND o.kind = 'promo_slot'), 0)
                     <> (h.promo_code_id IS NOT NULL)::int)")"

edits=$(q -c "SELECT coalesce(string_agg(format('%s %s: %s', target, result, n), ', ' ORDER BY target, result), 'none')
                FROM (SELECT target, result, count(*) AS n FROM public.edit GROUP BY 1, 2) e")
ok_edits=$(q -c "SELECT count(*) FROM public.edit WHERE result = 'ok'")
check "the operators' edits passed, or failed with 55P03 only ($edits)" \
    "$([ "$ok_edits" -gt 0 ] && [ "$(q -c "SELECT count(*) FROM public.edit WHERE result NOT IN ('ok', '55P03', 'skipped')")" = 0 ] && echo 0 || echo 1)"

by_reason=$(q -c "SELECT string_agg(format('%s %s: %s', op, reason, n), ', ' ORDER BY op, reason)
                    FROM (SELECT op, reason, count(*) AS n FROM outcome WHERE op <> 'expire' GROUP BY 1, 2) s")
echo "# stress: $clients buyers ($sales_login) and $operators operators ($admin_login) x $seconds s: {$by_reason}; edits {$edits}; $violations violations"

# 6. the database is dropped by the EXIT trap
[ "$violations" = 0 ]
