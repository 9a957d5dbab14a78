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
q() { psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }

dropdb --if-exists "$src" >/dev/null
dropdb --if-exists "$dst" >/dev/null
createdb "$src"
q -d "$src" -c "CREATE EXTENSION benefit"
for f in examples/0*.sql; do q -d "$src" -f "$f" >/dev/null; done
# run the demo walk-through too: live, suspended and closed benefits, history
q -d "$src" -f examples/walkthrough.sql >/dev/null 2>&1

# one line per table: name, row count, md5 of all rows in key order
fingerprint() {
    q -d "$1" <<'SQL'
SELECT string_agg(format('%s %s %s', t, n, h), E'\n' ORDER BY t)
  FROM (SELECT c.relname AS t,
               (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM benefit.%I', c.relname), false, true, '')))[1]::text AS n,
               (xpath('/row/h/text()', query_to_xml(format('SELECT md5(string_agg(x::text, %L ORDER BY x::text)) AS h FROM benefit.%I x', '|', c.relname), false, true, '')))[1]::text AS h
          FROM pg_class c
         WHERE c.relnamespace = 'benefit'::regnamespace AND c.relkind = 'r') s;
SQL
}

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
if q -d "$dst" >/dev/null <<'SQL'
BEGIN;
INSERT INTO benefit.season (code, name, starts_on, ends_on) VALUES ('after-restore', 'After restore', '2027-09-01', '2028-06-30');
INSERT INTO benefit.sales_channel (code, name, kind) VALUES ('after-restore', 'Kiosk', 'other');
INSERT INTO benefit.point_of_sale (code, name, channel_id) SELECT 'after-restore', 'Shop 2', channel_id FROM benefit.sales_channel WHERE kind = 'web' LIMIT 1;
INSERT INTO benefit.product_family (code, name) VALUES ('after-restore', 'Family');
INSERT INTO benefit.product (code, name, family_id, season_id) SELECT 'after-restore', 'Product', f.family_id, s.season_id FROM benefit.product_family f, benefit.season s WHERE f.code = 'after-restore' AND s.code = 'after-restore';
INSERT INTO benefit.performance (code, product_id, starts_at) SELECT 'after-restore', product_id, '2027-10-01 20:00+02' FROM benefit.product WHERE code = 'after-restore';
INSERT INTO benefit.seat_category (code, name) VALUES ('after-restore', 'Seats');
INSERT INTO benefit.audience (code, name) VALUES ('after-restore', 'Audience');
INSERT INTO benefit.base_price (product_id, price_cents) SELECT product_id, 1000 FROM benefit.product WHERE code = 'after-restore';
INSERT INTO benefit.contact (kind, name) VALUES ('person', 'After Restore');
INSERT INTO benefit.indicator (code, name) VALUES ('after-restore', 'Indicator');
INSERT INTO benefit.indicator_level (indicator_id, code, name) SELECT indicator_id, 'one', 'One' FROM benefit.indicator WHERE code = 'after-restore';
INSERT INTO benefit.campaign (code, name) VALUES ('after-restore', 'Campaign');
INSERT INTO benefit.promo_code (code, name, percent_off) VALUES ('AFTER-RESTORE', 'Promo', 5);
INSERT INTO benefit.benefit (code, name, season_id, target_type, all_channels) SELECT 'after-restore', 'Benefit', season_id, 'public', true FROM benefit.season WHERE code = 'after-restore';
INSERT INTO benefit.benefit_tariff (benefit_id, product_id, percent_off) SELECT b.benefit_id, p.product_id, 10 FROM benefit.benefit b, benefit.product p WHERE b.code = 'after-restore' AND p.code = 'after-restore';
SELECT benefit.go_live(benefit_id) FROM benefit.benefit WHERE code = 'after-restore';
COMMIT;
SQL
then
    echo "ok 3 - after restore, a new row goes into every table and a benefit goes live"
else
    echo "not ok 3 - after restore, a new row goes into every table and a benefit goes live"; fail=1
fi
# the restored lifecycle rules still hold
if q -d "$dst" -c "UPDATE benefit.benefit SET status = 'draft' WHERE status = 'live'" >/dev/null 2>&1; then
    echo "not ok 4 - the lifecycle triggers are active after restore"; fail=1
else
    echo "ok 4 - the lifecycle triggers are active after restore"
fi
dropdb "$src"; dropdb "$dst"
exit $fail
