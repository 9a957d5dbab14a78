-- tap_refunds: benefit.refund after payment, whole or in part (by line and
-- quantity).  It gives back the quota units of the refunded units on the very
-- counter rows the order used (total-quota slots, per performance, per
-- contact), never more than the order used however many refunds; the promo
-- use only when nothing is left to refund (the order then becomes refunded);
-- a single-use code back to issued once its units are refunded (its holder
-- may use it again); the tickets of the refunded units, which ticket_scanned
-- then refuses.  Idempotent per refund reference; every refusal writes
-- nothing.  An order over several slots gives its units back slot by slot
-- (lowest key first); a refund of lines may complete the order; several
-- codes come back highest first (in a basket) or all at once (a codes
-- order).  The usage views show refunds.  The fixture
-- (test/fixtures/offers.sql) is built by the DBA (superuser), who also reads
-- the counters (no role may); the calls run as a login granted only
-- benefit_sales, the views as one granted only benefit_report, the refund
-- history as one granted only benefit_admin.
\set ECHO none
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
\set ON_ERROR_STOP true
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION benefit;
SELECT plan(122);
\i test/fixtures/logins.sql
\i test/fixtures/offers.sql

-- a refund line
CREATE FUNCTION pg_temp.rl(line_no integer, quantity integer) RETURNS benefit.refund_line LANGUAGE sql IMMUTABLE AS $$
    SELECT ROW(line_no, quantity)::benefit.refund_line $$;
-- units used and held on the counter rows of a benefit or promo code, of one kind (and key), as 'used/held'
CREATE FUNCTION pg_temp.counted(k text, owner text, key_id bigint DEFAULT NULL) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT coalesce(sum(c.used), 0) || '/' || coalesce(sum(c.held), 0) FROM benefit.counter c
     WHERE c.kind = k::benefit.counter_kind
       AND c.owner_id = CASE WHEN k LIKE 'promo%' THEN (SELECT promo_code_id FROM benefit.promo_code WHERE code = owner)
                             ELSE pg_temp.id('benefit', owner) END
       AND (key_id IS NULL OR c.key = key_id) $$;
-- everything the counters, codes, tickets, orders and refunds hold, to prove a refused call wrote nothing
CREATE FUNCTION pg_temp.state() RETURNS text LANGUAGE sql STABLE AS $$
    SELECT (SELECT string_agg(concat_ws(':', kind, owner_id, key, held, used), ',' ORDER BY kind, owner_id, key) FROM benefit.counter)
           || (SELECT string_agg(concat_ws(':', code, state, used_order), ',' ORDER BY code) FROM benefit.single_use_code)
           || coalesce((SELECT string_agg(concat_ws(':', ticket_ref, refunded_at, refund_ref), ',' ORDER BY ticket_ref) FROM benefit.ticket), '')
           || (SELECT string_agg(concat_ws(':', order_ref, state), ',' ORDER BY order_ref) FROM benefit.order_hold)
           || (SELECT count(*) FROM benefit.order_refund) || (SELECT count(*) FROM benefit.order_refund_line)
           || (SELECT count(*) FROM benefit.order_refund_counter) || (SELECT count(*) FROM benefit.code_history) $$;

--------------------------------------------------------------------------
-- a basket order refunded in three steps
--------------------------------------------------------------------------
SET ROLE tap_sales;
-- Carol, with PROMO10: line 1 two seats of cyrano-1 and line 2 one of cyrano-2 (pub: 10 % off, 5 in all,
-- 3 per performance), line 3 a tote bag (no benefit)
SELECT is((benefit.hold('r1', ARRAY[pg_temp.line('cyrano', 'cyrano-1', 2), pg_temp.line('cyrano', 'cyrano-2', 1),
                                    pg_temp.line('tote', NULL, 1)],
                        pg_temp.id('Carol'), 'box-office', now() + interval '10 minutes', NULL, 'PROMO10')).reason::text, 'ok',
          'r1: a hold of three seats of pub and a tote bag, with PROMO10');
SELECT is(benefit.refund('r1', 'too-early'), 'not_confirmed', 'a held order cannot be refunded');
SELECT is(benefit.confirm('r1')::text, 'ok', 'r1 is paid');
RESET ROLE;
SELECT is(pg_temp.counted('benefit_slot', 'pub') || ' ' || pg_temp.counted('benefit_performance', 'pub', pg_temp.id('performance', 'cyrano-1'))
          || ' ' || pg_temp.counted('benefit_performance', 'pub', pg_temp.id('performance', 'cyrano-2'))
          || ' ' || pg_temp.counted('promo_slot', 'PROMO10') || ' ' || pg_temp.counted('promo_contact', 'PROMO10'),
          '3/0 2/0 1/0 1/0 1/0', 'r1 used 3 units of pub (2 on cyrano-1, 1 on cyrano-2) and one use of PROMO10');
SET ROLE tap_report;
SELECT results_eq($$SELECT used, "left", units_sold, discount_cents, units_refunded, discount_refunded_cents
                      FROM benefit.benefit_usage WHERE code = 'pub'$$,
                  $$VALUES (3, 2, 3::bigint, 600::bigint, 0::bigint, 0::bigint)$$, 'benefit_usage: 3 sold, 6.00 of discount, nothing refunded');

-- one seat of line 1
SET ROLE tap_sales;
SELECT is(benefit.refund('r1', 'rf-1', ARRAY[pg_temp.rl(1, 1)]), 'ok', 'refund one of the two seats of line 1');
RESET ROLE;
SELECT is(pg_temp.counted('benefit_slot', 'pub') || ' ' || pg_temp.counted('benefit_performance', 'pub', pg_temp.id('performance', 'cyrano-1'))
          || ' ' || pg_temp.counted('benefit_performance', 'pub', pg_temp.id('performance', 'cyrano-2'))
          || ' ' || pg_temp.counted('promo_slot', 'PROMO10') || ' ' || pg_temp.counted('promo_contact', 'PROMO10'),
          '2/0 1/0 1/0 1/0 1/0', 'its unit is back on the total quota and on cyrano-1; the promo use is kept (the order is not wholly refunded)');
SELECT is((SELECT state::text FROM benefit.order_hold WHERE order_ref = 'r1'), 'confirmed', 'a partly refunded order stays confirmed');
SET ROLE tap_report;
SELECT results_eq($$SELECT used, "left", units_sold, discount_cents, units_refunded, discount_refunded_cents
                      FROM benefit.benefit_usage WHERE code = 'pub'$$,
                  $$VALUES (2, 3, 2::bigint, 400::bigint, 1::bigint, 200::bigint)$$,
                  'benefit_usage: 2 sold, 4.00 of discount; 1 refunded, 2.00 of discount given back');
SELECT results_eq($$SELECT used, "left" FROM benefit.promo_usage WHERE code = 'PROMO10'$$, $$VALUES (1, 1)$$,
                  'promo_usage: the use is kept');

-- the same refund again, and the same reference for something else
RESET ROLE;
SELECT pg_temp.state() AS before \gset
SET ROLE tap_sales;
SELECT is(benefit.refund('r1', 'rf-1', ARRAY[pg_temp.rl(1, 1)]), 'ok', 'the same refund again answers ok');
SELECT throws_ok(q, '22023', msg, what)
  FROM (VALUES
    (1, $q$SELECT benefit.refund('r1', 'rf-1', ARRAY[pg_temp.rl(1, 2)])$q$, 'refund "rf-1" was made with other lines',
        'the same reference with another quantity'),
    (2, $q$SELECT benefit.refund('r1', 'rf-1', ARRAY[pg_temp.rl(2, 1)])$q$, 'refund "rf-1" was made with other lines',
        'the same reference with another line'),
    (3, $q$SELECT benefit.refund('r1', 'rf-1', ARRAY[pg_temp.rl(1, 1), pg_temp.rl(3, 1)])$q$, 'refund "rf-1" was made with other lines',
        'the same reference with one more line'),
    (4, $q$SELECT benefit.refund('r1', 'rf-1')$q$, 'refund "rf-1" was made with other lines',
        'the same reference for the whole order'),
    (6, $q$SELECT benefit.refund('r1', 'rf-2', ARRAY[pg_temp.rl(1, 2)])$q$, 'line 1 has 1 units left to refund',
        'more units than the line has left'),
    (7, $q$SELECT benefit.refund('r1', 'rf-2', ARRAY[pg_temp.rl(9, 1)])$q$, 'line 9 is not a line of order "r1"', 'an unknown line'),
    (8, $q$SELECT benefit.refund('r1', 'rf-2', ARRAY[pg_temp.rl(2, 0)])$q$, 'quantity of line 2 must be positive', 'a quantity of 0'),
    (9, $q$SELECT benefit.refund('r1', 'rf-2', ARRAY[pg_temp.rl(2, -1)])$q$, 'quantity of line 2 must be positive', 'a negative quantity'),
    (10, $q$SELECT benefit.refund('r1', 'rf-2', ARRAY[pg_temp.rl(2, 1), pg_temp.rl(2, 1)])$q$, 'line 2 is given twice', 'a line given twice'),
    (11, $q$SELECT benefit.refund('r1', 'rf-2', '{}')$q$, 'lines must not be empty', 'no lines at all (NULL refunds the whole order)'),
    (12, $q$SELECT benefit.refund('r1', ' ', NULL)$q$, 'refund_ref must be 1 to 200 characters, not blank', 'a blank refund reference'),
    (13, $q$SELECT benefit.refund('r1', repeat('x', 201), NULL)$q$, 'refund_ref must be 1 to 200 characters, not blank',
         'a refund reference over 200 characters'),
    (14, $q$SELECT benefit.refund(' ', 'rf-2', NULL)$q$, 'order_ref must be 1 to 200 characters, not blank', 'a blank order reference'),
    (15, $q$SELECT benefit.refund('r1', 'rf-2', ARRAY[pg_temp.rl(2, 1), pg_temp.rl(1, 2)])$q$, 'line 1 has 1 units left to refund',
         'one line of two asking too much: nothing is refunded')
  ) v(n, q, msg, what)
 ORDER BY n;
SELECT throws_ok(q, '22004', msg, what)
  FROM (VALUES
    (1, $q$SELECT benefit.refund(NULL, 'rf-2')$q$, 'order_ref and refund_ref must not be NULL', 'no order reference'),
    (2, $q$SELECT benefit.refund('r1', NULL)$q$, 'order_ref and refund_ref must not be NULL', 'no refund reference'),
    (3, $q$SELECT benefit.refund('r1', 'rf-2', ARRAY[pg_temp.rl(2, NULL)])$q$, 'refund line 1 must have a line number and a quantity',
        'a line without quantity'),
    (4, $q$SELECT benefit.refund('r1', 'rf-2', ARRAY[pg_temp.rl(1, 1), pg_temp.rl(NULL, 1)])$q$,
        'refund line 2 must have a line number and a quantity', 'a line without line number'),
    (5, $q$SELECT benefit.refund('r1', 'rf-2', ARRAY[NULL]::benefit.refund_line[])$q$, 'refund line 1 must have a line number and a quantity',
        'a NULL line'),
    (6, $q$SELECT benefit.refund('r1', 'rf-2', '[0:1]={"(2,1)","(3,1)"}'::benefit.refund_line[])$q$,
        'refund line 2 must have a line number and a quantity', 'lines numbered from 0: the second line is missing'),
    (7, $q$SELECT benefit.refund('r1', 'rf-2', ARRAY[ARRAY[pg_temp.rl(2, 1)], ARRAY[pg_temp.rl(3, 1)]])$q$,
        'refund line 1 must have a line number and a quantity', 'a two-dimensional array of lines')
  ) v(n, q, msg, what)
 ORDER BY n;
RESET ROLE;
SELECT is(pg_temp.state(), :'before', 'neither the repeat nor any refused refund wrote anything');
SET ROLE tap_sales;
SELECT is(benefit.refund('nobody', 'rf-2'), 'unknown_order', 'an unknown order');

-- the other seat of line 1 and the tote bag; then the rest
SELECT is(benefit.refund('r1', 'rf-2', ARRAY[pg_temp.rl(3, 1), pg_temp.rl(1, 1)]), 'ok', 'refund the other seat of line 1 and the tote bag');
RESET ROLE;
SELECT is(pg_temp.counted('benefit_slot', 'pub') || ' ' || pg_temp.counted('benefit_performance', 'pub', pg_temp.id('performance', 'cyrano-1'))
          || ' ' || pg_temp.counted('benefit_performance', 'pub', pg_temp.id('performance', 'cyrano-2'))
          || ' ' || pg_temp.counted('promo_slot', 'PROMO10') || ' ' || pg_temp.counted('promo_contact', 'PROMO10'),
          '1/0 0/0 1/0 1/0 1/0', 'line 1 is wholly given back; the promo use is still kept (line 2 is not refunded)');
SET ROLE tap_sales;
SELECT throws_ok($$SELECT benefit.refund('r1', 'rf-3', ARRAY[pg_temp.rl(3, 1)])$$, '22023', 'line 3 has 0 units left to refund',
                 'a line wholly refunded has nothing left');
SELECT is(benefit.refund('r1', 'rf-3'), 'ok', 'refund what is left (NULL lines)');
RESET ROLE;
SELECT is(pg_temp.counted('benefit_slot', 'pub') || ' ' || pg_temp.counted('benefit_performance', 'pub')
          || ' ' || pg_temp.counted('promo_slot', 'PROMO10') || ' ' || pg_temp.counted('promo_contact', 'PROMO10'),
          '0/0 0/0 0/0 0/0', 'every unit and the promo use are back');
SELECT is((SELECT state::text FROM benefit.order_hold WHERE order_ref = 'r1'), 'refunded', 'a wholly refunded order is refunded');
SELECT is((SELECT sum(units)::integer FROM benefit.order_refund_counter WHERE order_ref = 'r1'),
          (SELECT sum(units)::integer FROM benefit.order_hold_counter WHERE order_ref = 'r1'),
          'the refunds together gave back exactly what the order used, no more');
SET ROLE tap_admin;
SELECT results_eq($$SELECT f.refund_ref, f.whole, f.completes, f.by_role = session_user, string_agg(l.line_no || 'x' || l.quantity, ' ' ORDER BY l.line_no)
                      FROM benefit.order_refund f JOIN benefit.order_refund_line l USING (refund_ref)
                     WHERE f.order_ref = 'r1' GROUP BY 1, 2, 3, 4 ORDER BY 1$$,
                  $$VALUES ('rf-1', false, false, true, '1x1'), ('rf-2', false, false, true, '1x1 3x1'),
                           ('rf-3', true, true, true, '2x1')$$,
                  'benefit_admin reads the history: each refund, by whom (the session''s login), its lines');
SET ROLE tap_report;
SELECT results_eq($$SELECT used, "left", units_sold, discount_cents, units_refunded, discount_refunded_cents
                      FROM benefit.benefit_usage WHERE code = 'pub'$$,
                  $$VALUES (0, 5, 0::bigint, 0::bigint, 3::bigint, 600::bigint)$$,
                  'benefit_usage: nothing sold any more, 3 units and 6.00 of discount given back');
SELECT results_eq($$SELECT used, "left" FROM benefit.promo_usage WHERE code = 'PROMO10'$$, $$VALUES (0, 2)$$,
                  'promo_usage: the use is back');
SET ROLE tap_sales;
SELECT is(benefit.refund('r1', 'rf-3'), 'ok', 'the last refund again answers ok');
SELECT is(benefit.refund('r1', 'rf-2', ARRAY[pg_temp.rl(3, 1), pg_temp.rl(1, 1)]), 'ok', 'so does an earlier one, its lines in another order');
SELECT is(benefit.refund('r1', 'rf-4'), 'not_confirmed', 'a wholly refunded order has nothing left to refund');
SELECT is((benefit.hold('r1-again', ARRAY[pg_temp.line('mouette', NULL, 1)], pg_temp.id('Carol'), 'box-office',
                        now() + interval '10 minutes', NULL, 'PROMO10')).reason::text, 'ok', 'Carol may use PROMO10 again');
SELECT is(benefit.release('r1-again')::text, 'ok', 'she changes her mind');
SELECT is(benefit.refund('r1-again', 'rf-5'), 'not_confirmed', 'a released order cannot be refunded');
SELECT throws_ok($$SELECT benefit.refund('r1-again', 'rf-3')$$, '22023', 'refund "rf-3" is a refund of another order',
                 'a reference already used for another order');

-- the contact's own limit: Alice's two seats of camp (2 per contact), one refunded
SELECT is(pg_temp.used(benefit.hold('r4', ARRAY[pg_temp.line('cyrano', 'cyrano-2', 2)], pg_temp.id('Alice'), 'box-office',
                                    now() + interval '10 minutes')), 'camp', 'r4: Alice''s two seats of camp');
SELECT is(benefit.confirm('r4')::text, 'ok', 'r4 is paid');
SELECT is(pg_temp.why(benefit.price_basket(ARRAY[pg_temp.line('cyrano', 'cyrano-2', 1)], pg_temp.id('Alice'), 'box-office'), 'camp'),
          'contact_quota_exhausted', 'her own limit is used up');
SELECT is(benefit.refund('r4', 'rf-41', ARRAY[pg_temp.rl(1, 1)]), 'ok', 'one of her seats is refunded');
RESET ROLE;
SELECT is(pg_temp.counted('benefit_contact', 'camp', pg_temp.id('Alice')) || ' ' || pg_temp.counted('benefit_slot', 'camp'), '1/0 1/0',
          'its unit is back on her own counter and on the total');
SET ROLE tap_sales;
SELECT is(pg_temp.used(benefit.price_basket(ARRAY[pg_temp.line('cyrano', 'cyrano-2', 1)], pg_temp.id('Alice'), 'box-office')), 'camp',
          'she may buy one seat of camp again');

--------------------------------------------------------------------------
-- a single-use code and tickets
--------------------------------------------------------------------------
-- r2: line 1 one seat of cyrano-1 with the code (su), line 2 two seats of la Mouette (tie-b); three tickets
SELECT is((benefit.hold('r2', ARRAY[pg_temp.line('cyrano', 'cyrano-1', 1), pg_temp.line('mouette', NULL, 2)], NULL, 'web',
                        now() + interval '10 minutes', ARRAY[pg_temp.code(1)], NULL, 'shop')).reason::text, 'ok',
          'r2: a seat with a single-use code and two seats of la Mouette');
SELECT is(benefit.confirm('r2')::text, 'ok', 'r2 is paid');
SELECT is(benefit.record_ticket('T-1', 'r2', pg_temp.id('benefit', 'su'), pg_temp.code(1)::benefit.code), 'T-1', 'the ticket of the code');
SELECT is(benefit.record_ticket('T-2', 'r2', pg_temp.id('benefit', 'tie-b')), 'T-2', 'a ticket of la Mouette');
SELECT is(benefit.record_ticket('T-3', 'r2', pg_temp.id('benefit', 'tie-b')), 'T-3', 'another');
SELECT is(benefit.ticket_scanned('T-2'), true, 'T-2 is scanned at the door');
SELECT is(benefit.refund('r2', 'rf-21', ARRAY[pg_temp.rl(2, 1)]), 'ok', 'refund one seat of la Mouette');
SET ROLE tap_admin;
SELECT results_eq($$SELECT ticket_ref, refund_ref FROM benefit.ticket WHERE order_ref = 'r2' ORDER BY 1$$,
                  $$VALUES ('T-1', NULL), ('T-2', NULL), ('T-3', 'rf-21')$$,
                  'its ticket is marked: the one not scanned');
SELECT results_eq($$SELECT state::text, used_order FROM benefit.single_use_code WHERE code::text = pg_temp.code(1)$$,
                  $$VALUES ('used', 'r2')$$, 'the code is still used (its seat is not refunded)');
SET ROLE tap_sales;
SELECT throws_ok($$SELECT benefit.ticket_scanned('T-3')$$, '55000', 'ticket "T-3" was refunded', 'a refunded ticket is refused at the door');
SELECT is(benefit.refund('r2', 'rf-22', ARRAY[pg_temp.rl(1, 1)]), 'ok', 'refund the seat of the code');
SET ROLE tap_admin;
SELECT results_eq($$SELECT state::text, used_at, used_by_contact, used_order FROM benefit.single_use_code WHERE code::text = pg_temp.code(1)$$,
                  $$VALUES ('issued', NULL::timestamptz, NULL::bigint, NULL::text)$$,
                  'all its units refunded, the code is issued again');
SELECT results_eq($$SELECT from_state::text, to_state::text, order_ref, reason FROM benefit.code_history
                     WHERE code::text = pg_temp.code(1) ORDER BY history_id$$,
                  $$VALUES ('issued', 'held', 'r2', NULL), ('held', 'used', 'r2', NULL), ('used', 'issued', 'r2', 'refunded')$$,
                  'the history says it came back with the refund');
SELECT results_eq($$SELECT ticket_ref, refund_ref FROM benefit.ticket WHERE order_ref = 'r2' ORDER BY 1$$,
                  $$VALUES ('T-1', 'rf-22'), ('T-2', NULL), ('T-3', 'rf-21')$$, 'the ticket of the code is refunded');
SELECT is((SELECT state::text FROM benefit.order_hold WHERE order_ref = 'r2'), 'confirmed', 'r2 has a seat left: still confirmed');
RESET ROLE;
SELECT is(pg_temp.counted('benefit_slot', 'su') || ' ' || pg_temp.counted('benefit_slot', 'tie-b'), '0/0 1/0',
          'the seat of the code is back on su''s quota, one of la Mouette is still used');
SET ROLE tap_report;
SELECT results_eq($$SELECT state::text, used_order, refunded_order, refunded_at IS NOT NULL, tickets_issued, tickets_refunded
                      FROM benefit.code_tracking WHERE code::text = pg_temp.code(1)$$,
                  $$VALUES ('issued', NULL::text, 'r2', true, 1::bigint, 1::bigint)$$,
                  'code_tracking: issued again, given back by a refund of r2, its ticket refunded');
SELECT results_eq($$SELECT codes_used, codes_left, codes_refunded, tickets_issued, tickets_refunded FROM benefit.code_dashboard
                     WHERE benefit = 'su'$$,
                  $$VALUES (0::bigint, 3::bigint, 1::bigint, 1::bigint, 1::bigint)$$,
                  'code_dashboard: no code used, 3 left, 1 given back by a refund, its ticket refunded');
SELECT results_eq($$SELECT used, units_sold, units_refunded, discount_refunded_cents FROM benefit.benefit_usage WHERE code = 'su'$$,
                  $$VALUES (0, 0::bigint, 1::bigint, 1200::bigint)$$, 'benefit_usage: the seat of the code refunded, 12.00 given back');
SET ROLE tap_sales;
SELECT is((benefit.hold('r3', ARRAY[pg_temp.line('cyrano', 'cyrano-1', 1)], NULL, 'web', now() + interval '10 minutes',
                        ARRAY[pg_temp.code(1)], NULL, 'shop')).reason::text, 'ok', 'the code''s holder uses it again');
SELECT is(pg_temp.used(benefit.price_basket(ARRAY[pg_temp.line('cyrano', 'cyrano-1', 1)], NULL, 'web', 'shop', NULL,
                                            ARRAY[pg_temp.code(1)])), 'pub', 'and nobody else meanwhile');
SELECT is(benefit.release('r3')::text, 'ok', 'r3 is released');
SELECT is(benefit.refund('r2', 'rf-23'), 'ok', 'refund the rest of r2');
SET ROLE tap_admin;
SELECT results_eq($$SELECT ticket_ref, refund_ref FROM benefit.ticket WHERE order_ref = 'r2' ORDER BY 1$$,
                  $$VALUES ('T-1', 'rf-22'), ('T-2', 'rf-23'), ('T-3', 'rf-21')$$,
                  'the last refund marks every ticket left, the scanned one too');
SET ROLE tap_sales;
SELECT throws_ok($$SELECT benefit.ticket_scanned('T-2')$$, '55000', 'ticket "T-2" was refunded', 'scanned before, refused now');
SELECT throws_ok($$SELECT benefit.ticket_scanned('T-1', now())$$, '55000', 'ticket "T-1" was refunded', 'the ticket of the code too');
SELECT is(benefit.refund('r2', 'rf-22', ARRAY[pg_temp.rl(1, 1)]), 'ok', 'an earlier refund of r2 again: ok');

--------------------------------------------------------------------------
-- a codes order (kind codes, no lines: what redeem_code writes), refunded whole
--------------------------------------------------------------------------
RESET ROLE;
INSERT INTO benefit.order_hold (order_ref, state, contact_id, channel, held_until, base_cents, lines_cents, promo_discount_cents,
                                total_cents, closed_at, closed_by, kind)
VALUES ('c1', 'confirmed', pg_temp.id('Alice'), 'web', now() + interval '1 minute', 0, 0, 0, 0, now(), CURRENT_USER, 'codes');
UPDATE benefit.single_use_code SET state = 'used', used_at = now(), used_by_contact = pg_temp.id('Alice'), used_order = 'c1'
 WHERE code::text = pg_temp.code(3);
INSERT INTO benefit.order_code (order_ref, code, units) VALUES ('c1', pg_temp.code(3)::benefit.code, 1);
INSERT INTO benefit.order_hold_counter (order_ref, kind, owner_id, key, units) VALUES ('c1', 'benefit_slot', pg_temp.id('benefit', 'su'), 7, 1);
UPDATE benefit.counter SET used = used + 1 WHERE kind = 'benefit_slot' AND owner_id = pg_temp.id('benefit', 'su') AND key = 7;
SET ROLE tap_sales;
SELECT throws_ok($$SELECT benefit.refund('c1', 'rc-1', ARRAY[pg_temp.rl(1, 1)])$$, '22023', 'order "c1" has no lines',
                 'a codes order has no lines to name');
SELECT is(benefit.refund('c1', 'rc-1'), 'ok', 'a codes order is refunded whole');
RESET ROLE;
SELECT is(pg_temp.counted('benefit_slot', 'su'), '0/0', 'its unit is back');
SET ROLE tap_admin;
SELECT results_eq($$SELECT c.state::text, h.state::text FROM benefit.single_use_code c, benefit.order_hold h
                     WHERE c.code::text = pg_temp.code(3) AND h.order_ref = 'c1'$$,
                  $$VALUES ('issued', 'refunded')$$, 'its code is issued again, the order refunded');

--------------------------------------------------------------------------
-- an order spread over several slots, refunded in part then whole
--------------------------------------------------------------------------
SET ROLE tap_sales;
-- pub's quota of 5 is five slots of one unit: three seats take three slots
SELECT is((benefit.hold('r5', ARRAY[pg_temp.line('cyrano', 'cyrano-1', 3)], NULL, 'box-office',
                        now() + interval '10 minutes')).reason::text, 'ok', 'r5: three seats of pub');
SELECT is(benefit.confirm('r5')::text, 'ok', 'r5 is paid');
RESET ROLE;
SELECT is((SELECT count(*)::integer FROM benefit.order_hold_counter WHERE order_ref = 'r5' AND kind = 'benefit_slot'), 3,
          'r5 holds one unit on each of three slots');
SET ROLE tap_sales;
SELECT is(benefit.refund('r5', 'rf-51', ARRAY[pg_temp.rl(1, 2)]), 'ok', 'refund two of the three seats');
RESET ROLE;
SELECT is((SELECT string_agg(g.key || ':' || g.units, ' ' ORDER BY g.key) FROM benefit.order_refund_counter g
            WHERE g.refund_ref = 'rf-51' AND g.kind = 'benefit_slot'),
          (SELECT string_agg(o.key || ':1', ' ' ORDER BY o.key)
             FROM (SELECT key FROM benefit.order_hold_counter WHERE order_ref = 'r5' AND kind = 'benefit_slot' ORDER BY key LIMIT 2) o),
          'the two units go back on the order''s two lowest slots, one each');
SELECT is(pg_temp.counted('benefit_slot', 'pub') || ' ' || pg_temp.counted('benefit_performance', 'pub', pg_temp.id('performance', 'cyrano-1')),
          '1/0 1/0', 'one unit of pub still used, on the total and on cyrano-1');
SET ROLE tap_sales;
SELECT is(benefit.refund('r5', 'rf-52'), 'ok', 'refund the rest');
RESET ROLE;
SELECT is((SELECT string_agg(g.kind || ':' || g.key || ':' || g.units, ' ' ORDER BY g.kind, g.key) FROM benefit.order_refund_counter g
            WHERE g.refund_ref = 'rf-52'),
          (SELECT 'benefit_slot:' || max(key) || ':1 benefit_performance:' || pg_temp.id('performance', 'cyrano-1') || ':1'
             FROM benefit.order_hold_counter WHERE order_ref = 'r5' AND kind = 'benefit_slot'),
          'the last unit goes back on the order''s highest slot and on cyrano-1');
SELECT is(pg_temp.counted('benefit_slot', 'pub') || ' ' || pg_temp.counted('benefit_performance', 'pub')
          || ' ' || (SELECT state::text FROM benefit.order_hold WHERE order_ref = 'r5'),
          '0/0 0/0 refunded', 'every unit of pub is back, the order refunded');

--------------------------------------------------------------------------
-- a basket with several single-use codes, refunded in part, then the rest in part
--------------------------------------------------------------------------
SET ROLE tap_sales;
SELECT is((benefit.hold('r6', ARRAY[pg_temp.line('cyrano', 'cyrano-2', 3)], pg_temp.id('Alpina'), 'web',
                        now() + interval '10 minutes', ARRAY[pg_temp.code(1), pg_temp.code(2), pg_temp.code(3)], NULL, 'shop')).reason::text,
          'ok', 'r6: three seats of su with Alpina''s three codes');
SELECT is(benefit.confirm('r6')::text, 'ok', 'r6 is paid');
SELECT is(benefit.record_ticket('T-6' || i, 'r6', pg_temp.id('benefit', 'su'), pg_temp.code(i)::benefit.code), 'T-6' || i,
          'the ticket of code ' || i)
  FROM generate_series(1, 3) i;
SELECT is(benefit.refund('r6', 'rf-61', ARRAY[pg_temp.rl(1, 1)]), 'ok', 'refund one seat');
SET ROLE tap_admin;
SELECT results_eq($$SELECT state::text, used_order FROM benefit.single_use_code WHERE code::text IN (pg_temp.code(1), pg_temp.code(2), pg_temp.code(3))
                     ORDER BY code$$,
                  $$VALUES ('used', 'r6'), ('used', 'r6'), ('issued', NULL)$$, 'the highest code is issued again, the others still used');
SELECT results_eq($$SELECT ticket_ref, refund_ref FROM benefit.ticket WHERE order_ref = 'r6' ORDER BY 1$$,
                  $$VALUES ('T-61', NULL), ('T-62', NULL), ('T-63', 'rf-61')$$, 'the ticket of that code is the one refunded');
SET ROLE tap_sales;
SELECT is(benefit.refund('r6', 'rf-62', ARRAY[pg_temp.rl(1, 2)]), 'ok', 'refund the two other seats, naming the line');
SET ROLE tap_admin;
SELECT results_eq($$SELECT whole, completes FROM benefit.order_refund WHERE refund_ref = 'rf-62'$$, $$VALUES (false, true)$$,
                  'a refund of lines that leaves nothing completes the order');
SELECT results_eq($$SELECT c.state::text, count(h.*) FROM benefit.single_use_code c
                      LEFT JOIN benefit.code_history h ON h.code::text = c.code::text AND h.order_ref = 'r6' AND h.reason = 'refunded'
                     WHERE c.code::text IN (pg_temp.code(1), pg_temp.code(2), pg_temp.code(3)) GROUP BY c.code, c.state ORDER BY c.code$$,
                  $$VALUES ('issued', 1::bigint), ('issued', 1::bigint), ('issued', 1::bigint)$$,
                  'every code is issued again, each with one history row of the refund');
SELECT results_eq($$SELECT ticket_ref, refund_ref FROM benefit.ticket WHERE order_ref = 'r6' ORDER BY 1$$,
                  $$VALUES ('T-61', 'rf-62'), ('T-62', 'rf-62'), ('T-63', 'rf-61')$$, 'every ticket is refunded');
SELECT is((SELECT state::text FROM benefit.order_hold WHERE order_ref = 'r6'), 'refunded', 'r6 is refunded');
RESET ROLE;
SELECT is(pg_temp.counted('benefit_slot', 'su'), '0/0', 'su''s units are all back');

--------------------------------------------------------------------------
-- a codes order of several codes (hold_code twice, then confirm), refunded whole
--------------------------------------------------------------------------
SET ROLE tap_sales;
SELECT is(benefit.hold_code(pg_temp.code(i)::benefit.code, 'c7', now() + interval '10 minutes', 'web', 'shop', pg_temp.id('Alpina'))::text,
          'ok', 'c7 holds code ' || i)
  FROM generate_series(1, 2) i;
SELECT is(benefit.confirm('c7')::text, 'ok', 'c7 is paid');
SELECT is(benefit.refund('c7', 'rc-7'), 'ok', 'c7 is refunded whole');
SET ROLE tap_admin;
SELECT results_eq($$SELECT c.state::text, h.state::text FROM benefit.single_use_code c, benefit.order_hold h
                     WHERE c.code::text IN (pg_temp.code(1), pg_temp.code(2)) AND h.order_ref = 'c7' ORDER BY c.code$$,
                  $$VALUES ('issued', 'refunded'), ('issued', 'refunded')$$, 'both its codes are issued again, the order refunded');
RESET ROLE;
SELECT is(pg_temp.counted('benefit_slot', 'su'), '0/0', 'their units are back');

--------------------------------------------------------------------------
-- who may refund
--------------------------------------------------------------------------
SET ROLE tap_sales;
SELECT throws_ok($$SELECT * FROM benefit.order_refund$$, '42501', NULL, 'the sales role cannot read the refunds');
SET ROLE tap_report;
SELECT throws_ok($$SELECT benefit.refund('r2', 'rf-9')$$, '42501', NULL, 'the report role cannot refund');
SELECT throws_ok($$SELECT * FROM benefit.order_refund$$, '42501', NULL, 'nor read the refunds');
SET ROLE tap_admin;
SELECT is(benefit.refund('r2', 'rf-23'), 'ok', 'the admin role may refund');
SET ROLE tap_nobody;
SELECT throws_ok($$SELECT benefit.refund('r2', 'rf-23')$$, '42501', NULL, 'a role granted nothing cannot');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
