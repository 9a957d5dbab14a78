#!/usr/bin/env bash
# test/scaleout.sh: the scale-out deployment (scaleout/README.md) on this machine.
# Starts its own deployment with scaleout/cluster (three institution clusters
# and a router cluster, five institutions: inst1 and inst4 on c1, inst2 and
# inst5 on c2, inst3 on c3, a demo season in each) and removes it at the end.
# The router's logins: shop (benefit_router_sales) and platform
# (benefit_router_report); direct calls run as the institution's logins
# instK_sales and instK_report.  Checks, as TAP lines:
#   1. every routed function (runtime calls, both forms; reporting calls; the
#      views as set-returning functions) gives the same result as the same call
#      made directly on the institution's database, and every routed function
#      was called (pg_stat_user_functions of the router); an unknown
#      institution is refused with P0002;
#   2. a web-shop mix through the router on every institution at once (pgbench
#      as shop: hold then confirm or release, redeem_code of single-use codes,
#      price_basket, expire_holds), then per institution: quota, caps and
#      per-order limits kept, counters equal to the ledger, every acknowledged
#      hold, confirmation and redemption there, no code used twice;
#   3. cluster c3 killed with SIGKILL while every institution sells: the others
#      sell on without a failed transaction, a call for inst3 fails at once with
#      an error naming its database, a call for a hung cluster (SIGSTOP) gives up
#      at the router login's statement_timeout (3 s, 57014); after the restart
#      inst3 answers again and every acknowledged answer is in its ledger;
#   4. inst4 moved from c1 to c2 while the others sell and inst4's own shop buys
#      (scaleout/cluster move, BENEFIT_SCALEOUT_VERIFY=1): every row of every table
#      arrives, its open holds confirm on the new cluster, its purchases during the
#      move fail with 55000 and every one acknowledged is in its ledger, the pause
#      is printed, and the other institutions sold during it without a failed
#      transaction;
#   5. the platform report (RUN ON ALL over the institutions) equals the figures
#      read on each institution's database, summed.
# Needs root (the servers run as postgres), the extension installed (bin/setup;
# or BENEFIT_DESTDIR, see scaleout/cluster) and PL/Proxy (installed when
# missing).  SCALEOUT_SECONDS (default 6) is the length of each pgbench run.
# Exit status 0 only when every check passed.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${SCALEOUT_SECONDS:-6}
work=$(mktemp -d)
chmod 755 "$work"
export BENEFIT_SCALEOUT_DIR=$work/deployment
cleanup() {
    # a cluster left stopped by a failed check must not block the stop
    for f in "$BENEFIT_SCALEOUT_DIR"/*/postmaster.pid; do
        [ -f "$f" ] && kill -CONT $(head -n 1 "$f") $(ps -o pid= --ppid "$(head -n 1 "$f")" || true) 2>/dev/null || true
    done
    scaleout/cluster stop || true
    rm -rf "$work"
}
trap cleanup EXIT
export PGTZ=UTC PGHOST=127.0.0.1 PGPASSFILE=$BENEFIT_SCALEOUT_DIR/pgpass
unset PGPASSWORD PGDATABASE PGSERVICE PGUSER PGPORT PGOPTIONS

n=0
violations=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); violations=$((violations + 1)); echo "not ok $n - $1"; [ -z "${2:-}" ] || echo "$2" | sed 's/^/#   /'; }
check() { if [ "$2" = 0 ]; then ok "$1"; else not_ok "$1 ($2)" "${3:-}"; fi; }

scaleout/cluster start 5 | sed 's/^/# /'
eval "$(scaleout/cluster env)"
port_of() { scaleout/cluster status | sed -n "s/^institution $1: port=\([0-9]*\) .*/\1/p"; }
# the router as shop, platform and the DBA; an institution's database as its logins and the DBA
R() { psql -X -q -v ON_ERROR_STOP=1 -At -p "$ROUTER_PORT" -U shop -d benefit_router "$@"; }
RP() { psql -X -q -v ON_ERROR_STOP=1 -At -p "$ROUTER_PORT" -U platform -d benefit_router "$@"; }
RDBA() { psql -X -q -v ON_ERROR_STOP=1 -At -h "$SCALEOUT_DIR" -p "$ROUTER_PORT" -U postgres -d benefit_router "$@"; }
DS() { local i=$1; shift; psql -X -q -v ON_ERROR_STOP=1 -At -p "$(port_of "$i")" -U "${i}_sales" -d "benefit_$i" "$@"; }
DR() { local i=$1; shift; psql -X -q -v ON_ERROR_STOP=1 -At -p "$(port_of "$i")" -U "${i}_report" -d "benefit_$i" "$@"; }
DBA() { local i=$1; shift; psql -X -q -v ON_ERROR_STOP=1 -At -h "$SCALEOUT_DIR" -p "$(port_of "$i")" -U postgres -d "benefit_$i" "$@"; }
institutions=(inst1 inst2 inst3 inst4 inst5)

# codes for every institution: 300 single-use codes of the demo's ce-alpina benefit
for i in "${institutions[@]}"; do
    DBA "$i" -c "SELECT benefit.generate_codes(b.benefit_id, c.contact_id, 300, 'letter', 'fr')
                   FROM benefit.benefit b, benefit.contact c WHERE b.code = 'ce-alpina' AND c.name = 'CE Alpina SA'" >/dev/null
done

# 1. every routed call against the same call made directly ----------------------------------

at=$(date -u +'%Y-%m-%d %H:%M:00+00')
until=$(date -u -d '+1 day' +'%Y-%m-%d %H:%M:00+00')
mapfile -t codes < <(DBA inst1 -c "SELECT code FROM benefit.single_use_code WHERE state = 'issued' ORDER BY code LIMIT 8")
line="ROW(3, 8, NULL, 2, 2, 3800)::benefit.basket_line"
jline='{"product_id": 3, "performance_id": 8, "audience_id": 2, "quantity": 2, "base_price_cents": 3800}'
# kind|call: S runs as the sales logins, P as the report logins; V marks a view;
# {r} is the order reference prefix (R- routed, D- direct), {c1}..{c4} four codes
# and {p} a buyer (the routed call has its own, the direct call others); E: only
# the SQLSTATE of the error both give is compared
cat > "$work/cases" <<EOF
S|available(1, 'web', '$at', ARRAY['BEAURIVAGE26', '{c1}', 'NOPE'], 'shop', NULL)
S|available('{"contact_id": 1, "channel": "web", "at": "$at", "codes": ["BEAURIVAGE26", "{c1}"]}'::jsonb)
S|contacts_with_benefits(ARRAY[1, 2, 3, 4, 5, 6, 7, 8, 9]::bigint[], 'web', '$at')
S|enter_code('BEAURIVAGE26', 'web', 'shop', 1, NULL)
S|enter_code('{"code": "{c1}", "channel": "web", "point_of_sale": "shop"}'::jsonb)
S|is_valid_code('{c1}')
S|price_basket(ARRAY[$line], 7, 'web', 'shop', '$at', ARRAY['{c1}'], 'BIENVENUE10', NULL)
S|price_basket('{"lines": [$jline], "contact_id": 7, "channel": "web", "at": "$at", "promo_code": "BIENVENUE10"}'::jsonb)
S|hold('{r}h1', ARRAY[$line], NULL, 'web', '$until', NULL, NULL, NULL, NULL)
S|hold('{"order_ref": "{r}h2", "lines": [$jline], "channel": "web", "held_until": "$until"}'::jsonb)
S|hold('{r}h3', ARRAY[$line], {p}, 'web', '$until', NULL, 'BIENVENUE10', 'shop', NULL)
S|hold('{r}h4', ARRAY[$line], NULL, 'web', '$until')
S|confirm('{r}h1')
S|confirm('{"order_ref": "{r}h3"}'::jsonb)
S|release('{"order_ref": "{r}h2"}'::jsonb)
S|release('{r}h4')
S|refund('{r}h1', '{r}f1', ARRAY[ROW(1, 1)::benefit.refund_line])
S|refund('{"order_ref": "{r}h3", "refund_ref": "{r}f3"}'::jsonb)
S|hold_code('{c1}', '{r}k1', '$until', 'web', 'shop', NULL, NULL)
S|release_code('{c1}', '{r}k1', NULL, NULL)
S|hold_code('{"code": "{c2}", "order_ref": "{r}k2", "hold_until": "$until", "channel": "web", "point_of_sale": "shop"}'::jsonb)
S|release_code('{"code": "{c2}", "order_ref": "{r}k2"}'::jsonb)
S|redeem_code('{c3}', NULL, '{r}d3', 'web', 'shop', NULL)
S|redeem_code('{"code": "{c4}", "order_ref": "{r}d4", "channel": "web", "point_of_sale": "shop"}'::jsonb)
S|record_ticket('{r}t3', '{r}d3', 5, '{c3}', NULL, NULL)
S|ticket_scanned('{r}t3', '$at')
S|expire_holds()
S|expire_code_holds()
S|purge_code_attempts()
S|money_unit_price(5000, NULL, 500, NULL)
S|money_basket_discount(10000, 1500, NULL)
S|money_allocate(5, ARRAY[10, 20, 30]::bigint[])
E|hold('{"order_ref": "{r}x", "bogus": 1}'::jsonb)
E|money_unit_price(5000, NULL, 500, 1000)
E|redeem_code('{c1}', NULL, NULL, 'web')
E|enter_code('{"code": 5}'::jsonb)
P|count_problems(6)
P|count_promo_problems(3)
P|season_day_start('2026-12-20')
SV|catalogue_audience
SV|catalogue_channel
SV|catalogue_performance
SV|catalogue_price
SV|catalogue_product
SV|catalogue_seat_category
PV|benefit_overview
PV|benefit_usage
PV|code_dashboard
PV|code_tracking
PV|promo_usage
EOF
# the direct call's codes are the next four
normalise() { sed -E -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]+/TIME/g' -e "s/(${codes[0]}|${codes[4]})/C1/g" -e "s/(${codes[1]}|${codes[5]})/C2/g" \
                  -e "s/(${codes[2]}|${codes[6]})/C3/g" -e "s/(${codes[3]}|${codes[7]})/C4/g" -e 's/[RD]-/X-/g' | sort; }
fill() {  # call prefix first-code-index
    local s=$1
    s=${s//\{r\}/$2}
    s=${s//\{p\}/$((7 - $3 / 2))}
    for k in 1 2 3 4; do s=${s//\{c$k\}/${codes[$((k - 1 + $3))]}}; done
    echo "$s"
}
differ=()
while IFS='|' read -r kind call; do
    name=${call%%(*}
    args=${call#*(}
    [ "$args" = ")" ] && args=")" || args=", $args"
    case $kind in
        S) routed=$(R -c "SELECT * FROM benefit_router.$name('inst1'$(fill "$args" R- 0)" 2>&1 | normalise) || true
           direct=$(DS inst1 -c "SELECT * FROM benefit.$(fill "$call" D- 4)" 2>&1 | normalise) || true ;;
        E) routed=$(R -v VERBOSITY=sqlstate -c "SELECT * FROM benefit_router.$name('inst1'$(fill "$args" R- 0)" 2>&1) || true
           direct=$(DS inst1 -v VERBOSITY=sqlstate -c "SELECT * FROM benefit.$(fill "$call" D- 4)" 2>&1) || true
           echo "$routed" | grep -q '^ERROR:  [0-9A-Z]\{5\}$' || routed="not an error: $routed" ;;
        P) routed=$(RP -c "SELECT * FROM benefit_router.$name('inst1'$(fill "$args" R- 0)" 2>&1 | normalise) || true
           direct=$(DR inst1 -c "SELECT * FROM benefit.$call" 2>&1 | normalise) || true ;;
        SV) routed=$(R -c "SELECT * FROM benefit_router.$call('inst1')" 2>&1 | normalise) || true
            direct=$(DS inst1 -c "SELECT * FROM benefit.$call" 2>&1 | normalise) || true ;;
        PV) routed=$(RP -c "SELECT * FROM benefit_router.$call('inst1')" 2>&1 | normalise) || true
            direct=$(DR inst1 -c "SELECT * FROM benefit.$call" 2>&1 | normalise) || true ;;
    esac
    if [ "$routed" != "$direct" ] || [ -z "$routed" ] || { [ "$kind" != E ] && echo "$routed" | grep -q 'ERROR'; }; then
        differ+=("$call: routed {$(echo "$routed" | head -n 3 | tr '\n' ' ')} direct {$(echo "$direct" | head -n 3 | tr '\n' ' ')}")
    fi
done < "$work/cases"
check "each of the $(wc -l < "$work/cases") routed calls (runtime, reporting, views, errors) gives the result of the direct call (errors: the same SQLSTATE)" \
    "${#differ[@]}" "$(printf '%s\n' "${differ[@]}")"
# the holds, codes and tickets of those calls: the direct ones and the routed ones left the same rows
check "the routed calls left the same orders, codes and tickets as the direct ones" \
    "$(DBA inst1 -c "SELECT count(*) FROM (
          (SELECT replace(order_ref, 'R-', 'X-'), state, kind, total_cents FROM benefit.order_hold WHERE order_ref LIKE 'R-%'
           EXCEPT SELECT replace(order_ref, 'D-', 'X-'), state, kind, total_cents FROM benefit.order_hold WHERE order_ref LIKE 'D-%')
          UNION ALL
          (SELECT replace(order_ref, 'D-', 'X-'), state, kind, total_cents FROM benefit.order_hold WHERE order_ref LIKE 'D-%'
           EXCEPT SELECT replace(order_ref, 'R-', 'X-'), state, kind, total_cents FROM benefit.order_hold WHERE order_ref LIKE 'R-%')) d")"
check "the routed calls ran on inst1 as its sales login inst1_sales (created_by of their orders)" \
    "$(DBA inst1 -c "SELECT count(*) FROM benefit.order_hold WHERE order_ref LIKE 'R-%' AND created_by <> 'inst1_sales'")"
# the router's backends report their function calls as they end: wait for the last ones
for _ in $(seq 50); do
    missed=$(RDBA -c "SELECT string_agg(p.oid::regprocedure::text, ', ') FROM pg_proc p
                       LEFT JOIN pg_stat_user_functions s ON s.funcid = p.oid
                      WHERE p.pronamespace = 'benefit_router'::regnamespace
                        AND obj_description(p.oid, 'pg_proc') LIKE 'routed:%' AND coalesce(s.calls, 0) = 0")
    [ -n "$missed" ] || break
    sleep 0.2
done
check "every routed function of the router was called ($(RDBA -c "SELECT count(*) FROM pg_proc WHERE pronamespace = 'benefit_router'::regnamespace AND obj_description(oid, 'pg_proc') LIKE 'routed:%'") functions)" \
    "$([ -z "$missed" ] && echo 0 || echo 1)" "$missed"
out=$(R -v VERBOSITY=verbose -c "SELECT benefit_router.confirm('nowhere', 'X-1')" 2>&1 || true)
echo "$out" | grep -q 'P0002: unknown institution "nowhere"' && ok "an unknown institution is refused with P0002" \
    || not_ok "an unknown institution is refused with P0002" "$out"

# 2. a web-shop mix on every institution at once ---------------------------------------------

# the shop's own tables in the router database: the answers it got (written in the
# statement of the call, so a row is an acknowledged answer) and its codes to redeem
RDBA >/dev/null <<'SQL'
CREATE TABLE public.outcome (run text NOT NULL, inst text NOT NULL, op text NOT NULL, order_ref text, reason text,
                             units int, code text, at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE TABLE public.pool (inst text, i int, code text, PRIMARY KEY (inst, i));
GRANT SELECT ON public.pool TO shop;
GRANT INSERT ON public.outcome TO shop;
SQL
for i in "${institutions[@]}"; do
    DBA "$i" -c "COPY (SELECT '$i', row_number() OVER (ORDER BY code), code FROM benefit.single_use_code WHERE state = 'issued') TO STDOUT" \
        | RDBA -c "COPY public.pool FROM STDIN"
done
# one purchase: hold 1 to 3 children's tickets of one of three performances (the public
# benefit: 300 in all, 120 a performance, 6 an order) with the promo code half of the
# time, then confirm (7 in 10) or release; or redeem a single-use code; or price a basket
cat > "$work/shop.sql" <<'SQL'
\set n random(1, 2000000000)
\set units random(1, 3)
\set perf random(7, 9)
\set fate random(1, 10)
\set promo random(0, 1)
\set buyer random(1, 7)
\set c random(1, 280)
INSERT INTO public.outcome (run, inst, op, order_ref, reason, units)
SELECT :run::text, :inst::text, 'hold', 'o-' || :client_id::text || '-' || :n::text, h.reason::text,
       (SELECT sum((l).quantity) FROM unnest(h.lines) l WHERE (l).benefit_code = 'famille-casse-noisette')
  FROM benefit_router.hold(:inst::text, 'o-' || :client_id::text || '-' || :n::text,
                           ARRAY[ROW(3, :perf::bigint, NULL, 2, :units::int, 3800)::benefit.basket_line],
                           CASE WHEN :promo::int = 1 THEN :buyer::bigint END, 'web', now() + interval '10 minutes',
                           NULL, CASE WHEN :promo::int = 1 THEN 'BIENVENUE10' END) h;
INSERT INTO public.outcome (run, inst, op, order_ref, reason)
SELECT :run::text, :inst::text, CASE WHEN :fate::int <= 7 THEN 'confirm' ELSE 'release' END, 'o-' || :client_id::text || '-' || :n::text,
       CASE WHEN :fate::int <= 7 THEN benefit_router.confirm(:inst::text, 'o-' || :client_id::text || '-' || :n::text)
            ELSE benefit_router.release(:inst::text, 'o-' || :client_id::text || '-' || :n::text) END::text;
INSERT INTO public.outcome (run, inst, op, order_ref, reason, code)
SELECT :run::text, :inst::text, 'redeem', 'r-' || :client_id::text || '-' || :n::text, r.reason::text, p.code
  FROM public.pool p, benefit_router.redeem_code(:inst::text, p.code::benefit.code, NULL, 'r-' || :client_id::text || '-' || :n::text, 'web', 'shop') r
 WHERE p.inst = :inst::text AND p.i = :c::int;
SELECT (benefit_router.price_basket(:inst::text, ARRAY[ROW(3, :perf::bigint, NULL, 2, 2, 3800)::benefit.basket_line],
                                    :buyer::bigint, 'web', 'shop', NULL, NULL, 'BIENVENUE10')).total_cents;
SQL
cat > "$work/expire.sql" <<'SQL'
SELECT benefit_router.expire_holds(:inst::text);
SQL
# one pgbench per institution (the shop's clients of that institution), all at once
shop() {  # run seconds clients institutions...
    local run=$1 secs=$2 clients=$3 i; shift 3
    for i in "$@"; do
        pgbench -n -M extended -h 127.0.0.1 -p "$ROUTER_PORT" -U shop -c "$clients" -j 1 -T "$secs" -D run="$run" -D inst="$i" \
            -f "$work/shop.sql@19" -f "$work/expire.sql@1" benefit_router > "$work/$run.$i.out" 2>&1 &
        echo $! > "$work/$run.$i.pid"
    done
}
shop_wait() {  # run institutions...: sets $failed to the institutions whose run failed
    local run=$1 i rc; shift
    failed=
    for i in "$@"; do
        rc=0; wait "$(cat "$work/$run.$i.pid")" || rc=$?
        if [ "$rc" != 0 ] || ! grep -q '^number of failed transactions: 0 ' "$work/$run.$i.out"; then
            failed+="$i (exit $rc): $(grep -e 'abort' -e ERROR -e 'failed trans' "$work/$run.$i.out" | head -n 3 | tr '\n' ' ')"$'\n'
        fi
    done
}
processed() { sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$work/$1.$2.out"; }

shop mix "$seconds" 2 "${institutions[@]}"
shop_wait mix "${institutions[@]}"
total=0; for i in "${institutions[@]}"; do total=$((total + $(processed mix "$i"))); done
check "the web-shop mix ran through the router on five institutions at once, no failed transaction ($total purchases)" \
    "$([ -z "$failed" ] && [ "$total" -gt 0 ] && echo 0 || echo 1)" "$failed"

# the invariants of one institution, as its DBA, against the answers the shop got for it
# violated() prints the total, or the total and each check's count when one failed
violated() { awk '{ s = 0; for (k = 1; k <= NF; k++) s += $k; if (s) print s " (" $0 ")"; else print 0 }'; }
invariants() {  # inst runs-regexp: prints the violations of each check
    local i=$1
    DBA "$i" -c "SET client_min_messages = warning" -c "CREATE TABLE IF NOT EXISTS public.acked (op text, order_ref text, reason text, units int, code text)" -c "TRUNCATE public.acked"
    RDBA -c "COPY (SELECT op, order_ref, reason, units, code FROM public.outcome WHERE inst = '$i' AND run ~ '$2') TO STDOUT" \
        | DBA "$i" -c "COPY public.acked FROM STDIN"
    DBA "$i" -F ' ' <<'SQL'
SELECT
    -- quota, slot caps, per performance and per order
      (SELECT count(*) FROM (SELECT c.owner_id, sum(c.held + c.used) AS taken FROM benefit.counter c
                              WHERE c.kind = 'benefit_slot' GROUP BY 1) t
         JOIN benefit.benefit b ON b.benefit_id = t.owner_id WHERE t.taken > b.quota_total)
    , (SELECT count(*) FROM benefit.counter WHERE held < 0 OR used < 0 OR held + used > cap)
    , (SELECT count(*) FROM (SELECT order_ref, sum(quantity) q FROM benefit.order_line
                              WHERE benefit_id = 1 GROUP BY 1) o WHERE o.q > 6)
    -- counters = ledger: held by open orders, used by confirmed (or refunded) ones less what refunds gave back
    , (SELECT count(*) FROM benefit.counter c
         FULL JOIN (SELECT o.kind, o.owner_id, o.key,
                           sum(o.units) FILTER (WHERE h.state = 'held') AS held,
                           sum(o.units - coalesce((SELECT sum(f.units) FROM benefit.order_refund_counter f
                                                    WHERE (f.order_ref, f.kind, f.owner_id, f.key) = (o.order_ref, o.kind, o.owner_id, o.key)), 0))
                               FILTER (WHERE h.state IN ('confirmed', 'refunded')) AS used
                      FROM benefit.order_hold_counter o JOIN benefit.order_hold h USING (order_ref)
                     GROUP BY 1, 2, 3) r USING (kind, owner_id, key)
        WHERE coalesce(c.held, 0) <> coalesce(r.held, 0) OR coalesce(c.used, 0) <> coalesce(r.used, 0))
    -- every acknowledged answer is in the ledger
    , (SELECT count(*) FROM public.acked a LEFT JOIN benefit.order_hold h USING (order_ref)
        WHERE a.op = 'hold' AND (a.reason = 'ok') <> (h.order_ref IS NOT NULL))
    , (SELECT count(*) FROM public.acked a JOIN benefit.order_hold h USING (order_ref)
        WHERE a.reason = 'ok' AND ((a.op = 'confirm' AND h.state <> 'confirmed') OR (a.op = 'release' AND h.state <> 'released')))
    , (SELECT count(*) FROM public.acked a LEFT JOIN benefit.single_use_code c ON c.code::text = a.code
        WHERE a.op = 'redeem' AND a.reason = 'ok' AND (c.state IS DISTINCT FROM 'used' OR c.used_order <> a.order_ref))
    -- codes used once
    , (SELECT count(*) FROM (SELECT code FROM public.acked WHERE op = 'redeem' AND reason = 'ok' GROUP BY code HAVING count(*) > 1) s)
    , (SELECT count(*) FROM (SELECT used_order FROM benefit.single_use_code WHERE state = 'used' GROUP BY 1 HAVING count(*) > 1) s);
SQL
}
bad=()
for i in "${institutions[@]}"; do v=$(invariants "$i" mix | violated); [ "$v" = 0 ] || bad+=("$i: $v"); done
check "per institution: quota, caps and order limits kept, counters = ledger, every acknowledged answer in the ledger, codes used once" \
    "${#bad[@]}" "$(printf '%s\n' "${bad[@]}")"
sold=$(for i in "${institutions[@]}"; do DBA "$i" -c "SELECT '$i ' || used || '/' || quota_total FROM benefit.benefit_usage WHERE benefit_id = 1"; done | tr '\n' ' ')
echo "# mix: $total purchases in ${seconds} s; public benefit sold: $sold"

# 3. a cluster killed mid-run -----------------------------------------------------------------

shop kill "$seconds" 2 "${institutions[@]}"
sleep $((seconds / 3))
scaleout/cluster kill c3
t0=$(date +%s%N)
out=$(R -v VERBOSITY=verbose -c "SELECT benefit_router.confirm('inst3', 'X-1')" 2>&1 || true)
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
if echo "$out" | grep -q 'benefit_inst3\].*connection to server.*failed' && [ "$ms" -lt 2500 ]; then
    ok "with c3 killed, a call for inst3 fails at once ($ms ms) with an error naming its database"
else
    not_ok "with c3 killed, a call for inst3 fails at once ($ms ms) with an error naming its database" "$out"
fi
echo "# $(echo "$out" | head -n 1)"
alive=$(R -c "SELECT benefit_router.confirm('inst1', 'X-1') || ' ' || benefit_router.confirm('inst2', 'X-1') || ' ' || benefit_router.confirm('inst5', 'X-1')" 2>&1 || true)
check "with c3 killed, calls for inst1, inst2 and inst5 answer ($alive)" "$([ "$alive" = 'unknown_order unknown_order unknown_order' ] && echo 0 || echo 1)"
shop_wait kill inst1 inst2 inst4 inst5
check "the shop's runs for the institutions of c1 and c2 went on without a failed transaction" \
    "$([ -z "$failed" ] && echo 0 || echo 1)" "$failed"
shop_wait kill inst3
scaleout/cluster restart c3
answer=$(R -c "SELECT benefit_router.confirm('inst3', 'X-1')" 2>&1 || true)
check "after the restart of c3, inst3 answers through the router ($answer)" "$([ "$answer" = unknown_order ] && echo 0 || echo 1)"
acked=$(RDBA -c "SELECT count(*) FROM public.outcome WHERE run = 'kill' AND inst = 'inst3' AND reason = 'ok'")
v=$(invariants inst3 'mix|kill' | violated)
check "after the restart, every answer acknowledged for inst3 is in its ledger ($acked ok answers) and its invariants hold" "$v"

# a hung cluster: every process of c3 stopped; a call gives up at the shop login's statement_timeout (3 s)
pids=$(head -n 1 "$SCALEOUT_DIR/c3/postmaster.pid"); pids="$pids $(ps -o pid= --ppid "$pids" | tr '\n' ' ')"
kill -STOP $pids
t0=$(date +%s%N)
out=$(R -v VERBOSITY=verbose -c "SELECT benefit_router.confirm('inst3', 'X-1')" 2>&1 || true)
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
kill -CONT $pids
if echo "$out" | grep -q '57014: canceling statement due to statement timeout' && [ "$ms" -lt 6000 ]; then
    ok "with c3 hung (SIGSTOP), a call for inst3 gives up in $ms ms with 57014 (the shop login's statement_timeout, 3 s)"
else
    not_ok "with c3 hung (SIGSTOP), a call for inst3 gives up in $ms ms with 57014 (the shop login's statement_timeout, 3 s)" "$out"
fi
echo "# $(echo "$out" | head -n 1)"

# 4. moving inst4 from c1 to c2 while the others sell -----------------------------------------

# three open holds of inst4 travel with it
for k in 1 2 3; do R -c "SELECT reason FROM benefit_router.hold('inst4', 'move-$k', ARRAY[$line], NULL, 'web', now() + interval '10 minutes')" >/dev/null; done
before=$(DBA inst4 -c "SELECT count(*) FROM benefit.order_hold WHERE state = 'held'")
shop move $((seconds + 6)) 2 inst1 inst2 inst3 inst5
# inst4's own shop: a purchase (hold, then confirm), noting each answer in public.outcome, every
# 50 ms until a second after the move
(
    k=0
    while [ ! -e "$work/moved" ] || [ "$(( $(date +%s) - $(stat -c %Y "$work/moved") ))" -lt 1 ]; do
        k=$((k + 1))
        if r=$(R -v VERBOSITY=sqlstate <<SQL 2>&1
INSERT INTO public.outcome (run, inst, op, order_ref, reason)
SELECT 'move4', 'inst4', 'hold', 'm4-$k', h.reason::text
  FROM benefit_router.hold('inst4', 'm4-$k', ARRAY[$line], NULL, 'web', now() + interval '10 minutes') h;
INSERT INTO public.outcome (run, inst, op, order_ref, reason)
SELECT 'move4', 'inst4', 'confirm', 'm4-$k', benefit_router.confirm('inst4', 'm4-$k')::text;
SQL
        ); then
            echo "$(date +%s%N) ok"
        else
            echo "$(date +%s%N) $(echo "$r" | head -n 1)"
        fi
        sleep 0.05
    done
) > "$work/inst4.log" &
inst4_pid=$!
sleep 2
t_start=$(date +%s%N)
BENEFIT_SCALEOUT_VERIFY=1 scaleout/cluster move inst4 c2 > "$work/move.out" 2>&1 || cat "$work/move.out"
t_end=$(date +%s%N)
touch "$work/moved"
wait "$inst4_pid" || true
pause=$(sed -n 's/^pause //p' "$work/move.out")
shop_wait move inst1 inst2 inst3 inst5
during=$(RDBA -c "SELECT count(*) FROM public.outcome WHERE run = 'move'
                   AND at BETWEEN to_timestamp($t_start / 1e9) AND to_timestamp($t_end / 1e9)")
check "scaleout/cluster move inst4 c2: inst4 now on c2 ($(scaleout/cluster status | grep '^institution inst4'))" \
    "$([ "$(port_of inst4)" = "$C2_PORT" ] && echo 0 || echo 1)"
verified=$(sed -n 's/^verified //p' "$work/move.out")
check "the move found every row of every table of inst4 on c2 before the remap ($verified)" "$([ -n "$verified" ] && echo 0 || echo 1)" \
    "$(cat "$work/move.out")"
confirmed=$(for k in 1 2 3; do R -c "SELECT benefit_router.confirm('inst4', 'move-$k')"; done | tr '\n' ' ')
check "the 3 open holds made before the move ($before open in all) confirm on c2 after it ($confirmed)" \
    "$([ "$confirmed" = 'ok ok ok ' ] && echo 0 || echo 1)"
refused=$(grep -c '55000' "$work/inst4.log" || true)
others=$({ grep -v -e ' ok$' -e '55000' "$work/inst4.log" || true; } | sed 's/^[0-9]* //' | sort | uniq -c | tr '\n' ' ')
gap=$(awk '$2 == "ok" { if (last && $1 - last > max) max = $1 - last; last = $1 } END { printf "%d", max / 1e6 }' "$work/inst4.log")
check "during the move inst4's purchases failed with 55000 ($refused refused$([ -z "$others" ] || echo ", others: $others")), and go through after it" \
    "$([ "$refused" -gt 0 ] && [ "$(tail -n 1 "$work/inst4.log" | awk '{ print $2 }')" = ok ] && echo 0 || echo 1)"
acked=$(RDBA -c "SELECT count(*) FROM public.outcome WHERE run = 'move4' AND reason = 'ok'")
v=$(invariants inst4 'move4' | violated)
check "every purchase of inst4 acknowledged before, during or after the move is in its ledger on c2 ($acked ok answers)" "$v"
check "the other institutions sold during the move ($during answers in its ${pause:-?} ms), no failed transaction" \
    "$([ -z "$failed" ] && [ "$during" -gt 0 ] && echo 0 || echo 1)" "$failed"
echo "# move: pause ${pause:-?} ms (scaleout/cluster move, with the check of every row), longest gap between two purchases for inst4 $gap ms"
bad=()
for i in "${institutions[@]}"; do v=$(invariants "$i" '.' | violated); [ "$v" = 0 ] || bad+=("$i: $v"); done
check "after the kill and the move, the invariants of every institution hold" "${#bad[@]}" "$(printf '%s\n' "${bad[@]}")"

# 5. the platform report ----------------------------------------------------------------------

figures="SELECT (SELECT coalesce(sum(codes_generated), 0) FROM benefit.code_dashboard) || ' ' ||
                (SELECT coalesce(sum(codes_used), 0) FROM benefit.code_dashboard) || ' ' ||
                (SELECT coalesce(sum(units_sold), 0) FROM benefit.benefit_usage) || ' ' ||
                (SELECT coalesce(sum(discount_cents), 0) FROM benefit.benefit_usage) || ' ' ||
                (SELECT coalesce(sum(discount_cents), 0) FROM benefit.promo_usage)"
direct=$(for i in "${institutions[@]}"; do echo "$i $(DR "$i" -c "$figures")"; done)
routed=$(RP -F ' ' -c "SELECT * FROM benefit_router.platform_by_institution()")
check "the platform report (RUN ON ALL, 5 institutions on 8 partitions) gives each institution's own figures" \
    "$([ "$direct" = "$routed" ] && echo 0 || echo 1)" "$(diff <(echo "$direct") <(echo "$routed") || true)"
sum=$(echo "$direct" | awk '{ n++; for (k = 2; k <= 6; k++) s[k] += $k } END { printf "%d %d %d %d %d %d", n, s[2], s[3], s[4], s[5], s[6] }')
totals=$(RP -F ' ' -c "SELECT * FROM benefit_router.platform_totals()")
check "the platform totals are the sums of the institutions' figures ($totals)" "$([ "$sum" = "$totals" ] && echo 0 || echo 1)" \
    "summed: $sum"

echo "1..$n"
exit $(( violations > 0 ))
