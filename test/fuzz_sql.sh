#!/usr/bin/env bash
# test/fuzz_sql.sh: a targeted SQL fuzz harness for the public functions.
#
# Loads the demo season (examples/0*.sql and its walk-through) into its own
# database, then calls every public function of benefit FUZZ_RUNS times in all
# (default 3000) with arguments drawn at random from pools of hostile values:
# NULLs, empty and huge arrays, unknown and extreme ids, malformed and
# near-valid codes, extreme amounts, quantities and dates, unknown channels,
# broken JSON, baskets with missing fields.  Each call runs in its own
# subtransaction; its outcome is "ok" or the SQLSTATE it raised.  The harness
# fails when a call raised an internal error (class XX: a bug, never a proper
# answer to bad input), or when the backend died (a crash ends the psql
# session).  It prints the run count, the outcome counts by SQLSTATE and
# function, and every internal error with its call.
#
# Runs against the cluster PGHOST/PGPORT/PGUSER point at, with the extension
# installed (bin/test runs a short version inside pg_virtualenv); creates and
# drops its own database benefit_fuzz.  FUZZ_SEED fixes the random sequence.
set -euo pipefail

db=benefit_fuzz
runs=${FUZZ_RUNS:-3000}
seed=${FUZZ_SEED:-0.42}
root=$(cd "$(dirname "$0")/.." && pwd)
. "$(dirname "$0")/lib.sh"

cleanup() { drop_db; }
trap cleanup EXIT
fresh_db
q -c "CREATE EXTENSION benefit"
for f in "$root"/examples/0*.sql; do q -f "$f" > /dev/null; done
q < "$root/examples/walkthrough.sql" > /dev/null 2>&1

out=$(q -At -v runs="$runs" -v seed="$seed" <<'SQL'
SET client_min_messages = warning;
SELECT setseed(:seed);
SELECT set_config('fuzz.runs', :'runs', false);
CREATE TEMP TABLE outcome (fn text, state text, call text);

-- Pools of values, as SQL literals.
CREATE TEMP TABLE pool (kind text, v text);
INSERT INTO pool
SELECT 'int8', v FROM unnest(ARRAY['NULL', '0', '-1', '1', '2', '3', '5', '8', '42', '999999',
    '9223372036854775807', '-9223372036854775808']) v
UNION ALL SELECT 'int8', (SELECT contact_id::text FROM benefit.contact ORDER BY contact_id LIMIT 1 OFFSET g)
  FROM generate_series(0, 10) g
UNION ALL SELECT 'int4', v FROM unnest(ARRAY['NULL', '0', '-1', '1', '2', '20', '1000', '1001', '10000001',
    '2147483647', '-2147483648']) v
UNION ALL SELECT 'text', v FROM unnest(ARRAY['NULL', '''''', ''' ''', '''web''', '''box-office''', '''call-centre''',
    '''shop''', '''mars''', '''BEAURIVAGE26''', '''beaurivage26''', '''BIENVENUE10''', '''NOEL15''', '''fr''', '''xx''',
    'repeat(''x'', 100000)', 'repeat(''é'', 300)', 'E''\\x01\\x02''', '''O0O0-I1L1-ZZZZ-Z''', '''%''',
    '''''''; DROP TABLE benefit.benefit; --''', '''ORDER-1''', '''WEB-2026-0100''', '''BOX-2026-0200''']) v
UNION ALL SELECT 'text', quote_literal(code::text) FROM benefit.single_use_code
UNION ALL (SELECT 'text', quote_literal(overlay(code::text placing 'Z' from 2 for 1)) FROM benefit.single_use_code LIMIT 3)
UNION ALL SELECT 'ts', v FROM unnest(ARRAY['NULL', 'now()', 'now() + interval ''1 minute''', 'now() + interval ''8 days''',
    'now() - interval ''1 day''', '''infinity''::timestamptz', '''-infinity''::timestamptz', '''4713-01-01 BC''::timestamptz',
    '''294276-12-31''::timestamptz', '''2026-12-20 15:00+01''::timestamptz']) v
UNION ALL SELECT 'text[]', v FROM unnest(ARRAY['NULL', '''{}''::text[]', 'ARRAY[NULL]::text[]', 'ARRAY[''BEAURIVAGE26'']',
    'ARRAY[''BEAURIVAGE26'', ''beaurivage26'', '''']', 'array_fill(''x''::text, ARRAY[101])', 'array_fill(''x''::text, ARRAY[100])',
    'ARRAY[repeat(''Z'', 10000)]', '''{{a,b},{c,d}}''::text[]']) v
UNION ALL SELECT 'text[]', 'ARRAY[' || quote_literal(code::text) || ', ''BEAURIVAGE26'']' FROM benefit.single_use_code
UNION ALL SELECT 'int8[]', v FROM unnest(ARRAY['NULL', '''{}''::bigint[]', 'ARRAY[NULL]::bigint[]',
    'ARRAY(SELECT contact_id FROM benefit.contact)', 'array_fill(1::bigint, ARRAY[10001])', 'ARRAY[-1, 0, 9223372036854775807]',
    '''{{1,2},{3,4}}''::bigint[]']) v
UNION ALL SELECT 'code', v FROM unnest(ARRAY['NULL', '''0000-0000-0000-0''::benefit.code']) v
UNION ALL SELECT 'code', quote_literal(code::text) || '::benefit.code' FROM benefit.single_use_code
UNION ALL SELECT 'lines', v FROM unnest(ARRAY['NULL', '''{}''::benefit.basket_line[]', 'ARRAY[NULL]::benefit.basket_line[]',
    'ARRAY[ROW(NULL, NULL, NULL, NULL, 1, 100)]::benefit.basket_line[]',
    'ARRAY[ROW(1, NULL, NULL, NULL, NULL, 100)]::benefit.basket_line[]',
    'ARRAY[ROW(1, NULL, NULL, NULL, 1, NULL)]::benefit.basket_line[]',
    'ARRAY[ROW(1, NULL, 1, 1, 1, NULL)]::benefit.basket_line[]',
    'ARRAY[ROW(3, NULL, 1, 2, 2, NULL), ROW(3, NULL, 1, 1, 2, NULL)]::benefit.basket_line[]',
    'ARRAY[ROW(2, NULL, 1, 1, 2, NULL), ROW(6, NULL, NULL, NULL, 1, NULL)]::benefit.basket_line[]',
    'ARRAY[ROW(2, NULL, 1, 1, 1000, 100000000000)]::benefit.basket_line[]',
    'ARRAY[ROW(2, NULL, 1, 1, 1001, 100)]::benefit.basket_line[]',
    'ARRAY[ROW(2, NULL, 1, 1, 1, -1)]::benefit.basket_line[]',
    'ARRAY[ROW(2, NULL, 1, 1, -5, 100)]::benefit.basket_line[]',
    'ARRAY[ROW(999999, NULL, 1, 1, 1, 100)]::benefit.basket_line[]',
    'ARRAY[ROW(2, 999999, 999999, 999999, 1, 100)]::benefit.basket_line[]',
    'array_fill(ROW(2, NULL, 1, 1, 1, 100)::benefit.basket_line, ARRAY[200])',
    'array_fill(ROW(2, NULL, 1, 1, 1000, 100000000000)::benefit.basket_line, ARRAY[200])',
    'array_fill(ROW(2, NULL, 1, 1, 1, 100)::benefit.basket_line, ARRAY[201])']) v
UNION ALL SELECT 'refund_lines', v FROM unnest(ARRAY['NULL', '''{}''::benefit.refund_line[]', 'ARRAY[NULL]::benefit.refund_line[]',
    'ARRAY[ROW(1, 1)]::benefit.refund_line[]', 'ARRAY[ROW(1, 1), ROW(1, 1)]::benefit.refund_line[]',
    'ARRAY[ROW(NULL, 1)]::benefit.refund_line[]', 'ARRAY[ROW(1, 0)]::benefit.refund_line[]',
    'ARRAY[ROW(2, 1000)]::benefit.refund_line[]', 'ARRAY[ROW(-1, -1)]::benefit.refund_line[]',
    'ARRAY[ROW(2147483647, 2147483647)]::benefit.refund_line[]']) v
UNION ALL SELECT 'interval', v FROM unnest(ARRAY['NULL', '''0''::interval', '''90 days''::interval', '''-1 day''::interval',
    '''1000 years''::interval', '''infinity''::text::interval']) v
UNION ALL SELECT 'bool', v FROM unnest(ARRAY['NULL', 'true', 'false']) v
UNION ALL SELECT 'jsonb', v FROM unnest(ARRAY['NULL', '''{}''::jsonb', '''[]''::jsonb', '''null''::jsonb', '''"x"''::jsonb',
    '''{"lines": 5}''::jsonb', '''{"lines": [{}]}''::jsonb', '''{"lines": [{"product_id": "x"}]}''::jsonb',
    '''{"lines": [{"product_id": 2, "quantity": 1e30}], "channel": "web"}''::jsonb',
    '''{"lines": [{"product_id": 2, "quantity": 1, "seat_category_id": 1, "audience_id": 1}], "channel": "web", "codes": "x"}''::jsonb',
    '''{"lines": [{"product_id": 2, "quantity": 1, "seat_category_id": 1, "audience_id": 1}], "channel": "web", "codes": ["BEAURIVAGE26"], "promo_code": "BIENVENUE10", "contact_id": 3}''::jsonb',
    '''{"lines": [{"product_id": 2, "quantity": 1, "base_price_cents": 100}], "channel": "web", "at": "not a date"}''::jsonb',
    '''{"lines": [{"product_id": 2, "quantity": 1, "base_price_cents": 100}], "channel": "web", "contact_id": -1}''::jsonb']) v;

-- The functions and the kinds of their arguments.
CREATE TEMP TABLE fn (name text, args text[]);
INSERT INTO fn VALUES
    ('benefit.available', ARRAY['int8', 'text', 'ts', 'text[]', 'text']),
    ('benefit.contacts_with_benefits', ARRAY['int8[]', 'text', 'ts']),
    ('benefit.price_basket', ARRAY['lines', 'int8', 'text', 'text', 'ts', 'text[]', 'text']),
    ('benefit.price_basket', ARRAY['jsonb']),
    ('benefit.available', ARRAY['jsonb']),
    ('benefit.enter_code', ARRAY['jsonb']),
    ('benefit.hold', ARRAY['jsonb']),
    ('benefit.confirm', ARRAY['jsonb']),
    ('benefit.release', ARRAY['jsonb']),
    ('benefit.redeem_code', ARRAY['jsonb']),
    ('benefit.hold_code', ARRAY['jsonb']),
    ('benefit.release_code', ARRAY['jsonb']),
    ('benefit.hold', ARRAY['text', 'lines', 'int8', 'text', 'ts', 'text[]', 'text', 'text']),
    ('benefit.confirm', ARRAY['text']),
    ('benefit.release', ARRAY['text']),
    ('benefit.expire_holds', ARRAY[]::text[]),
    ('benefit.refund', ARRAY['text', 'text', 'refund_lines']),
    ('benefit.purge_orders', ARRAY['interval', 'int4', 'bool']),
    ('benefit.purge_code_attempts', ARRAY[]::text[]),
    ('benefit.list_code_attempts', ARRAY[]::text[]),
    ('benefit.forget_code_attempts', ARRAY['int8', 'text']),
    ('benefit.redeem_code', ARRAY['code', 'int8', 'text', 'text', 'text']),
    ('benefit.hold_code', ARRAY['code', 'text', 'ts', 'text', 'text', 'int8', 'text']),
    ('benefit.release_code', ARRAY['code', 'text', 'int8', 'text']),
    ('benefit.expire_code_holds', ARRAY[]::text[]),
    ('benefit.invalidate_code', ARRAY['code', 'text']),
    ('benefit.enter_code', ARRAY['text', 'text', 'text']),
    ('benefit.record_ticket', ARRAY['text', 'text', 'int8', 'code', 'int8', 'text']),
    ('benefit.ticket_scanned', ARRAY['text', 'ts']),
    ('benefit.generate_codes', ARRAY['int8', 'int8', 'int4', 'text', 'text']),
    ('benefit.batch_codes', ARRAY['int8']),
    ('benefit.is_valid_code', ARRAY['text']),
    ('benefit.validate', ARRAY['int8']),
    ('benefit.go_live', ARRAY['int8']),
    ('benefit.suspend', ARRAY['int8']),
    ('benefit.close', ARRAY['int8']),
    ('benefit.list_problems', ARRAY['int8']),
    ('benefit.count_problems', ARRAY['int8']),
    ('benefit.list_promo_problems', ARRAY['int8']),
    ('benefit.code_in', ARRAY['text']);


DO $fuzz$
DECLARE
    f record;
    call text;
    a text;
    st text;
    nfn integer := (SELECT count(*) FROM fn);
BEGIN
    FOR i IN 1 .. current_setting('fuzz.runs')::int LOOP
        SELECT * INTO f FROM fn OFFSET floor(random() * nfn)::int LIMIT 1;
        IF f.name = 'benefit.code_in' THEN
            call := 'SELECT (' || (SELECT v FROM pool WHERE kind = 'text' ORDER BY random() LIMIT 1) || ')::benefit.code';
        ELSE
            call := 'SELECT count(*) FROM (SELECT ' || f.name || '(' || coalesce((
                SELECT string_agg((SELECT p.v FROM pool p WHERE p.kind = k ORDER BY random() LIMIT 1), ', ' ORDER BY o)
                  FROM unnest(f.args) WITH ORDINALITY x(k, o)), '') || ')) s';
        END IF;
        BEGIN
            EXECUTE call;
            st := 'ok';
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE;
        END;
        INSERT INTO outcome VALUES (f.name, st, CASE WHEN st LIKE 'XX%' THEN left(call, 500) END);
    END LOOP;
END
$fuzz$;

SELECT 'runs ' || count(*) FROM outcome;
SELECT 'state ' || state || ' ' || count(*) FROM outcome GROUP BY state ORDER BY count(*) DESC;
SELECT 'calls ' || string_agg(format('%s:%s', replace(fn, 'benefit.', ''), n), ' ' ORDER BY fn)
  FROM (SELECT fn, count(*) AS n FROM outcome GROUP BY fn) s;
SELECT 'internal ' || fn || ' ' || state || ' ' || call FROM outcome WHERE state LIKE 'XX%' LIMIT 20;
SELECT 'alive ' || 1;
SQL
) || { echo "$out"; echo "fuzz_sql.sh: the session died (a crashed backend?)" >&2; exit 1; }

echo "$out" | sed 's/^/# /'
if ! echo "$out" | grep -q '^alive 1$'; then
    echo "not ok - the fuzz session did not finish"
    exit 1
fi
internal=$(echo "$out" | grep -c '^internal ' || true)
echo "1..1"
if [ "$internal" = 0 ]; then
    echo "ok 1 - $(echo "$out" | sed -n 's/^runs //p') calls of the public functions with hostile arguments: no internal error, no crash"
else
    echo "not ok 1 - $internal calls raised an internal error (class XX)"
    exit 1
fi
