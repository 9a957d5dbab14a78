-- walkthrough.sql: a readable tour of the demo season, then its lifecycle.
--
-- Run with psql after examples/0*.sql, e.g. (bin/demo does it):
--     psql -X -q -v ON_ERROR_STOP=1 -d benefit_demo < examples/walkthrough.sql
-- Part 1 prints what the configuration scripts set up.  Part 2 drives the
-- benefits through their lifecycle: problems per benefit, a refused
-- go_live and its fix, validate and go live, suspend / edit / go live,
-- a refused edit of a live benefit, close, and the resulting overview and
-- status history.  Expected refusals are caught and printed as NOTICEs,
-- so the script runs to the end with ON_ERROR_STOP on.

\set ON_ERROR_STOP 1
\set VERBOSITY default
\pset footer off
\pset null '-'
SET client_min_messages = notice;
SET TIME ZONE 'Europe/Paris';

-- Helpers for this session only (pg_temp disappears with the session).

-- Cents as euros: 4200 -> '42.00 €'.
CREATE FUNCTION pg_temp.eur(cents bigint) RETURNS text
    LANGUAGE sql IMMUTABLE
    RETURN to_char(cents / 100.0, 'FM999G999G990D00') || ' €';

-- A benefit's id from its code.
CREATE FUNCTION pg_temp.bid(benefit_code text) RETURNS bigint
    LANGUAGE sql STABLE
    RETURN (SELECT b.benefit_id FROM benefit.benefit b WHERE b.code = benefit_code);

-- A validity window as text, "open" for a missing end.
CREATE FUNCTION pg_temp.window_of(valid_from timestamptz, valid_until timestamptz) RETURNS text
    LANGUAGE sql STABLE
    RETURN coalesce(to_char(valid_from, 'YYYY-MM-DD'), 'open') || ' .. '
        || coalesce(to_char(valid_until, 'YYYY-MM-DD'), 'open');

-- Runs one statement that is expected to be refused and prints the refusal
-- (message, DETAIL and HINT) as a NOTICE, so the walkthrough goes on.
CREATE PROCEDURE pg_temp.attempt(stmt text)
    LANGUAGE plpgsql
AS $$
DECLARE
    state text;
    msg text;
    det text;
    hnt text;
BEGIN
    EXECUTE stmt;
    RAISE NOTICE 'accepted: %', stmt;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
                            det = PG_EXCEPTION_DETAIL, hnt = PG_EXCEPTION_HINT;
    msg := format('refused (SQLSTATE %s): %s', state, msg);
    IF det <> '' AND hnt <> '' THEN
        RAISE NOTICE '%', msg USING DETAIL = det, HINT = hnt;
    ELSIF det <> '' THEN
        RAISE NOTICE '%', msg USING DETAIL = det;
    ELSIF hnt <> '' THEN
        RAISE NOTICE '%', msg USING HINT = hnt;
    ELSE
        RAISE NOTICE '%', msg;
    END IF;
END
$$;

\echo '======================================================================'
\echo ' Théâtre du Lac, season 2026-27: what examples/0*.sql configured'
\echo '======================================================================'

\echo
\echo '--- Rows per entity'
SELECT v.entity, v.n AS "rows"
  FROM (VALUES ('season',             (SELECT count(*) FROM benefit.season)),
               ('sales_channel',      (SELECT count(*) FROM benefit.sales_channel)),
               ('point_of_sale',      (SELECT count(*) FROM benefit.point_of_sale)),
               ('product_family',     (SELECT count(*) FROM benefit.product_family)),
               ('product',            (SELECT count(*) FROM benefit.product)),
               ('performance',        (SELECT count(*) FROM benefit.performance)),
               ('seat_category',      (SELECT count(*) FROM benefit.seat_category)),
               ('audience',           (SELECT count(*) FROM benefit.audience)),
               ('base_price',         (SELECT count(*) FROM benefit.base_price)),
               ('contact',            (SELECT count(*) FROM benefit.contact)),
               ('indicator',          (SELECT count(*) FROM benefit.indicator)),
               ('indicator_level',    (SELECT count(*) FROM benefit.indicator_level)),
               ('contact_indicator',  (SELECT count(*) FROM benefit.contact_indicator)),
               ('campaign',           (SELECT count(*) FROM benefit.campaign)),
               ('campaign_target',    (SELECT count(*) FROM benefit.campaign_target)),
               ('benefit',            (SELECT count(*) FROM benefit.benefit)),
               ('benefit_channel',    (SELECT count(*) FROM benefit.benefit_channel)),
               ('benefit_tariff',     (SELECT count(*) FROM benefit.benefit_tariff)),
               ('promo_code',         (SELECT count(*) FROM benefit.promo_code)),
               ('promo_code_channel', (SELECT count(*) FROM benefit.promo_code_channel)))
       AS v (entity, n);

\echo '--- Season, sales channels and points of sale'
SELECT s.code AS season, s.name, s.starts_on, s.ends_on
  FROM benefit.season s
 ORDER BY s.starts_on;

SELECT c.code AS channel, c.kind, c.name,
       coalesce(string_agg(p.code || ' (' || p.name || ')', ', '), '-') AS points_of_sale
  FROM benefit.sales_channel c
  LEFT JOIN benefit.point_of_sale p ON p.channel_id = c.channel_id
 GROUP BY c.channel_id
 ORDER BY c.channel_id;

\echo '--- Catalogue: products and their performances (local time)'
SELECT f.code AS family, p.code AS product, p.name,
       coalesce(string_agg(to_char(pf.starts_at, 'Dy DD/MM HH24:MI'), ', ' ORDER BY pf.starts_at), '-')
           AS performances
  FROM benefit.product p
  JOIN benefit.product_family f ON f.family_id = p.family_id
  LEFT JOIN benefit.performance pf ON pf.product_id = p.product_id
 GROUP BY f.family_id, p.product_id
 ORDER BY f.family_id, min(pf.starts_at), p.code;

\echo '--- Catalogue: base prices by product, seat category and audience (- : no price)'
SELECT p.code AS product,
       coalesce(sc.code, 'any') AS seats,
       pg_temp.eur(max(bp.price_cents) FILTER (WHERE a.code = 'adult'))   AS adult,
       pg_temp.eur(max(bp.price_cents) FILTER (WHERE a.code = 'child'))   AS child,
       pg_temp.eur(max(bp.price_cents) FILTER (WHERE a.code = 'student')) AS student,
       pg_temp.eur(max(bp.price_cents) FILTER (WHERE a.code = 'senior'))  AS senior,
       pg_temp.eur(max(bp.price_cents) FILTER (WHERE a.code IS NULL))     AS "any audience"
  FROM benefit.base_price bp
  JOIN benefit.product p ON p.product_id = bp.product_id
  LEFT JOIN benefit.seat_category sc ON sc.seat_category_id = bp.seat_category_id
  LEFT JOIN benefit.audience a ON a.audience_id = bp.audience_id
 GROUP BY p.product_id, p.code, sc.seat_category_id, sc.code
 ORDER BY p.family_id,
          (SELECT min(pf.starts_at) FROM benefit.performance pf WHERE pf.product_id = p.product_id),
          p.code, sc.seat_category_id;

\echo '--- Contacts and their indicator levels'
SELECT c.kind, c.name, coalesce(c.email, '(no e-mail)') AS email, c.language, c.external_ref AS crm_ref,
       coalesce(string_agg(i.code || ': ' || l.code, ', ' ORDER BY i.indicator_id), '-') AS levels
  FROM benefit.contact c
  LEFT JOIN benefit.contact_indicator ci ON ci.contact_id = c.contact_id
  LEFT JOIN benefit.indicator i ON i.indicator_id = ci.indicator_id
  LEFT JOIN benefit.indicator_level l ON l.level_id = ci.level_id
 GROUP BY c.contact_id
 ORDER BY c.kind, c.contact_id;

\echo '--- Indicators: levels and who has them now'
SELECT i.code AS indicator, l.code AS level, l.name,
       count(c.contact_id) AS contacts,
       coalesce(string_agg(c.name, ', ' ORDER BY c.name), '-') AS who
  FROM benefit.indicator i
  JOIN benefit.indicator_level l ON l.indicator_id = i.indicator_id
  LEFT JOIN benefit.contact_indicator ci ON ci.level_id = l.level_id
  LEFT JOIN benefit.contact c ON c.contact_id = ci.contact_id
 GROUP BY i.indicator_id, l.level_id
 ORDER BY i.indicator_id, l.level_id;

\echo '--- Campaign and its target list'
SELECT k.code AS campaign, k.name AS campaign_name, c.name AS contact,
       coalesce(c.email, '(no e-mail)') AS email, c.language
  FROM benefit.campaign k
  JOIN benefit.campaign_target t ON t.campaign_id = k.campaign_id
  JOIN benefit.contact c ON c.contact_id = t.contact_id
 ORDER BY k.code, c.name;

\echo '--- Benefits (inserted as draft): target, validity, channels, quotas'
SELECT b.code, b.target_type AS target,
       coalesce('campaign ' || k.code, 'level ' || i.code || '.' || l.code,
                'access code ' || b.access_code, 'point of sale ' || pos.code, '-') AS "for",
       pg_temp.window_of(b.valid_from, b.valid_until) AS validity,
       coalesce(nullif(array_to_string(o.channels, ', '), ''), '-') AS channels,
       coalesce(nullif(concat_ws(', ', 'total ' || b.quota_total, 'per perf. ' || b.quota_per_performance,
                                 'per contact ' || b.quota_per_contact, 'per order ' || b.quota_per_order), ''),
                'none') AS quotas
  FROM benefit.benefit b
  JOIN benefit.benefit_overview o ON o.benefit_id = b.benefit_id
  LEFT JOIN benefit.campaign k ON k.campaign_id = b.campaign_id
  LEFT JOIN benefit.indicator_level l ON l.level_id = b.indicator_level_id
  LEFT JOIN benefit.indicator i ON i.indicator_id = l.indicator_id
  LEFT JOIN benefit.point_of_sale pos ON pos.point_of_sale_id = b.point_of_sale_id
 ORDER BY b.benefit_id;

\echo '--- Benefit tariff rows (any: every value of the dimension)'
SELECT b.code AS benefit, p.code AS product,
       coalesce(pf.code, 'all') AS performance,
       coalesce(sc.code, 'any') AS seats,
       coalesce(a.code, 'any') AS audience,
       CASE WHEN t.price_cents IS NOT NULL THEN 'price ' || pg_temp.eur(t.price_cents)
            WHEN t.amount_off_cents IS NOT NULL THEN pg_temp.eur(t.amount_off_cents) || ' off'
            ELSE trim_scale(t.percent_off) || ' % off'
       END AS benefit_price
  FROM benefit.benefit_tariff t
  JOIN benefit.benefit b ON b.benefit_id = t.benefit_id
  JOIN benefit.product p ON p.product_id = t.product_id
  LEFT JOIN benefit.performance pf ON pf.performance_id = t.performance_id
  LEFT JOIN benefit.seat_category sc ON sc.seat_category_id = t.seat_category_id
  LEFT JOIN benefit.audience a ON a.audience_id = t.audience_id
 ORDER BY b.benefit_id, p.code, pf.starts_at NULLS FIRST, sc.seat_category_id NULLS FIRST,
          a.audience_id NULLS FIRST;

\echo '--- Promo codes (discount on the whole basket)'
SELECT pc.code,
       coalesce(trim_scale(pc.percent_off) || ' %', pg_temp.eur(pc.amount_off_cents)) AS discount,
       pg_temp.window_of(pc.valid_from, pc.valid_until) AS validity,
       CASE WHEN pc.all_channels THEN '*'
            ELSE (SELECT string_agg(c.code, ', ' ORDER BY c.code)
                    FROM benefit.promo_code_channel pcc
                    JOIN benefit.sales_channel c ON c.channel_id = pcc.channel_id
                   WHERE pcc.promo_code_id = pc.promo_code_id)
       END AS channels,
       pg_temp.eur(pc.min_basket_cents) AS min_basket,
       coalesce(i.code || '.' || l.code, '-') AS only_for,
       coalesce(pc.max_uses_total::text, 'no limit') AS uses_total,
       coalesce(pc.max_uses_per_contact::text, 'no limit') AS per_contact,
       pc.is_active AS active
  FROM benefit.promo_code pc
  LEFT JOIN benefit.indicator_level l ON l.level_id = pc.indicator_level_id
  LEFT JOIN benefit.indicator i ON i.indicator_id = l.indicator_id
 ORDER BY pc.promo_code_id;

\echo '======================================================================'
\echo ' Lifecycle: draft -> validated -> live <-> suspended -> closed'
\echo '======================================================================'

\echo
\echo '--- benefit.list_problems(benefit_id) for every benefit'
SELECT b.code, b.status, coalesce(p.field, '-') AS field,
       coalesce(p.problem, 'nothing missing') AS problem
  FROM benefit.benefit b
  LEFT JOIN LATERAL benefit.list_problems(b.benefit_id) p ON TRUE
 ORDER BY b.benefit_id, p.field, p.problem;

\echo '--- go_live on the incomplete partner benefit "office-tourisme" is refused, with all that is missing:'
CALL pg_temp.attempt($$SELECT benefit.go_live(pg_temp.bid('office-tourisme'))$$);

\echo
\echo '--- Complete it: access code, quotas, validity, a channel, tariff rows'
UPDATE benefit.benefit
   SET access_code = 'LACTOURISME',
       quota_total = 150,
       quota_per_order = 4,
       valid_from = '2026-12-01 00:00 Europe/Paris',
       description = 'Visiteurs munis du code de l''Office de Tourisme: réduction au guichet.'
 WHERE code = 'office-tourisme';

INSERT INTO benefit.benefit_channel (benefit_id, channel_id)
SELECT b.benefit_id, c.channel_id
  FROM benefit.benefit b
  JOIN benefit.sales_channel c ON c.code = 'box-office'
 WHERE b.code = 'office-tourisme';

INSERT INTO benefit.benefit_tariff (benefit_id, product_id, seat_category_id, audience_id, amount_off_cents)
SELECT b.benefit_id, p.product_id, sc.seat_category_id, a.audience_id, v.amount_off_cents
  FROM (VALUES ('flute',   'balcony', 500),
               ('mouette', 'balcony', 600))
       AS v (product, seat_category, amount_off_cents)
  JOIN benefit.benefit b ON b.code = 'office-tourisme'
  JOIN benefit.product p ON p.code = v.product
  JOIN benefit.seat_category sc ON sc.code = v.seat_category
  JOIN benefit.audience a ON a.code = 'adult';

SELECT count(*) AS problems_left
  FROM benefit.list_problems(pg_temp.bid('office-tourisme'));

\echo '--- ... and it goes live (straight from draft)'
SELECT 'office-tourisme' AS code, benefit.go_live(pg_temp.bid('office-tourisme')) AS status;

\echo '--- Validate the other drafts, then go live'
SELECT b.code, benefit.validate(b.benefit_id) AS status
  FROM benefit.benefit b
 WHERE b.status = 'draft'
 ORDER BY b.benefit_id;

SELECT b.code, benefit.go_live(b.benefit_id) AS status
  FROM benefit.benefit b
 WHERE b.status = 'validated'
 ORDER BY b.benefit_id;

\echo '--- Suspend "hotel-beau-rivage", lower its price for La Flûte enchantée, go live again'
SELECT 'hotel-beau-rivage' AS code, benefit.suspend(pg_temp.bid('hotel-beau-rivage')) AS status;

UPDATE benefit.benefit_tariff t
   SET price_cents = 5200
  FROM benefit.product p
 WHERE t.benefit_id = pg_temp.bid('hotel-beau-rivage')
   AND p.product_id = t.product_id
   AND p.code = 'flute';

SELECT p.code AS product, sc.code AS seats, a.code AS audience, pg_temp.eur(t.price_cents) AS price
  FROM benefit.benefit_tariff t
  JOIN benefit.product p ON p.product_id = t.product_id
  JOIN benefit.seat_category sc ON sc.seat_category_id = t.seat_category_id
  JOIN benefit.audience a ON a.audience_id = t.audience_id
 WHERE t.benefit_id = pg_temp.bid('hotel-beau-rivage')
 ORDER BY p.code;

SELECT 'hotel-beau-rivage' AS code, benefit.go_live(pg_temp.bid('hotel-beau-rivage')) AS status;

\echo '--- While live, tariff rows are frozen: editing one of "fidelite-or" is refused'
CALL pg_temp.attempt($$
    UPDATE benefit.benefit_tariff SET amount_off_cents = 1500
     WHERE benefit_id = pg_temp.bid('fidelite-or') AND amount_off_cents = 1000
$$);
\echo
\echo '--- ... so is lowering one of its quotas'
CALL pg_temp.attempt($$
    UPDATE benefit.benefit SET quota_per_contact = 4 WHERE code = 'fidelite-or'
$$);
\echo
-- from 0.2.0 on, the rows a live benefit refers to are held to the same rule (this script also
-- runs on 0.1.0, in the upgrade test)
SELECT extversion <> '0.1.0' AS since_0_2 FROM pg_extension WHERE extname = 'benefit' \gset
\if :since_0_2
\echo '--- ... and so is ending the season before the validity of a live benefit starts'
CALL pg_temp.attempt($$
    UPDATE benefit.season SET ends_on = '2026-09-15' WHERE code = '2026-27'
$$);
\echo
\endif
\echo '--- Channels may change while live: the call centre stops selling "fidelite-or"'
DELETE FROM benefit.benefit_channel bc
 USING benefit.sales_channel c
 WHERE bc.benefit_id = pg_temp.bid('fidelite-or')
   AND c.channel_id = bc.channel_id
   AND c.code = 'call-centre';

SELECT code, status, channels
  FROM benefit.benefit_overview
 WHERE code = 'fidelite-or';

\echo '--- The tourist office ends its partnership: close "office-tourisme"; closed is final'
SELECT 'office-tourisme' AS code, benefit.close(pg_temp.bid('office-tourisme')) AS status;
CALL pg_temp.attempt($$SELECT benefit.go_live(pg_temp.bid('office-tourisme'))$$);

\echo
\echo '======================================================================'
\echo ' Single-use codes: a batch for the works council of CE Alpina'
\echo '======================================================================'
\echo
\echo '--- generate_codes(benefit, organisation, count, document, language) returns the batch id'
SELECT benefit.generate_codes(pg_temp.bid('ce-alpina'),
                              (SELECT contact_id FROM benefit.contact WHERE name = 'CE Alpina SA'),
                              20, 'bon-ce-alpina', 'fr') AS batch_id
\gset
SELECT b.batch_id, c.name AS organisation, b.code_count, b.email, b.document, b.language
  FROM benefit.code_batch b JOIN benefit.contact c ON c.contact_id = b.contact_id
 WHERE b.batch_id = :batch_id;

\echo '--- the CSV for the mailer: COPY (SELECT * FROM benefit.batch_codes(id)) TO STDOUT WITH CSV HEADER (first lines)'
SELECT string_agg(line, E'\n') AS csv
  FROM (SELECT 'code,benefit,benefit_name' AS line
        UNION ALL
        (SELECT format('%s,%s,"%s"', code, benefit, benefit_name) FROM benefit.batch_codes(:batch_id) LIMIT 4)) l;

\echo '--- the mail waits in the outbox; NOTIFY benefit_code_batch told the mailer at commit'
SELECT outbox_id, batch_id, email, document, language, sent_at IS NOT NULL AS sent FROM benefit.mail_outbox;

\echo '--- refusals: a benefit that is not single-use, a person, an organisation without e-mail, a count of 0'
CALL pg_temp.attempt($$SELECT benefit.generate_codes(pg_temp.bid('fidelite-or'), (SELECT contact_id FROM benefit.contact WHERE name = 'CE Alpina SA'), 10, 'x', 'fr')$$);
CALL pg_temp.attempt($$SELECT benefit.generate_codes(pg_temp.bid('ce-alpina'), (SELECT contact_id FROM benefit.contact WHERE kind = 'person' ORDER BY contact_id LIMIT 1), 10, 'x', 'fr')$$);
CALL pg_temp.attempt($$SELECT benefit.generate_codes(pg_temp.bid('ce-alpina'), (SELECT contact_id FROM benefit.contact WHERE kind = 'organisation' AND email IS NULL LIMIT 1), 10, 'x', 'fr')$$);
CALL pg_temp.attempt($$SELECT benefit.generate_codes(pg_temp.bid('ce-alpina'), (SELECT contact_id FROM benefit.contact WHERE name = 'CE Alpina SA'), 0, 'x', 'fr')$$);
\echo

\echo '--- a buyer types the first code in on the web shop: redeem_code(code, contact, order, channel, point of sale)'
SELECT code AS first_code FROM benefit.single_use_code WHERE batch_id = :batch_id ORDER BY code LIMIT 1 \gset
SELECT code AS second_code FROM benefit.single_use_code WHERE batch_id = :batch_id ORDER BY code OFFSET 1 LIMIT 1 \gset
SELECT reason, code, benefit_code, used_at IS NOT NULL AS used
  FROM benefit.redeem_code(:'first_code', (SELECT contact_id FROM benefit.contact WHERE name = 'Camille Martin'),
                           'WEB-2026-0001', 'web', 'shop');
\echo '--- the same code again, for another order: refused with its reason, not an error'
SELECT reason, code, benefit_code FROM benefit.redeem_code(:'first_code', NULL, 'WEB-2026-0002', 'web', 'shop');
\echo '--- the second code on the call centre, a channel "ce-alpina" is not sold on'
SELECT reason FROM benefit.redeem_code(:'second_code', NULL, 'TEL-2026-0001', 'call-centre');
\echo '--- a mistyped code (one character changed) is caught by the check character before any table is read'
SELECT benefit.is_valid_code(:'first_code') AS as_printed,
       benefit.is_valid_code(overlay(:'first_code' placing CASE WHEN substr(:'first_code', 1, 1) = 'A' THEN 'B' ELSE 'A' END from 1 for 1)) AS one_char_changed;
\echo '--- the organisation reports the second code lost: an operator invalidates it'
SELECT benefit.invalidate_code(:'second_code', 'reported lost by CE Alpina') AS invalidation;
SELECT reason FROM benefit.redeem_code(:'second_code', NULL, 'BOX-2026-0001', 'box-office');
\echo '--- two tickets are issued with the first code; one is scanned at the door'
SELECT benefit.record_ticket('TKT-000101', 'WEB-2026-0001', pg_temp.bid('ce-alpina'), :'first_code') AS ticket_1,
       benefit.record_ticket('TKT-000102', 'WEB-2026-0001', pg_temp.bid('ce-alpina'), :'first_code') AS ticket_2;
SELECT benefit.ticket_scanned('TKT-000101', '2026-12-18 19:41+01') AS first_scan,
       benefit.ticket_scanned('TKT-000101') AS second_scan;
\echo '--- the "Code avantage" box: a partner code, a single-use code, a typo'
SELECT 'beaurivage26' AS typed, kind, reason, benefit_code FROM benefit.enter_code('beaurivage26', 'web')
UNION ALL
SELECT lower(:'first_code'), kind, reason, benefit_code FROM benefit.enter_code(lower(:'first_code'), 'web', 'shop')
UNION ALL
SELECT 'PROMO?', kind, reason, benefit_code FROM benefit.enter_code('PROMO?');
\echo '--- throttling: a web session types codes at random; after 3 wrong ones (benefit.throttle_failures,'
\echo '    set low here; 10 by default) it is answered throttled for 15 minutes, even for a right code'
SET benefit.throttle_failures = 3;
SELECT v.n, v.typed, e.reason
  FROM (VALUES (1, 'AAAA-BBBB-CCCC-D'), (2, 'NOPE'), (3, 'HOTEL2026'), (4, 'beaurivage26')) AS v (n, typed),
       LATERAL benefit.enter_code(v.typed, 'web', NULL, NULL, 'web-session-42') e
 ORDER BY v.n;
RESET benefit.throttle_failures;
\echo '--- benefit.code_dashboard (tableau de bord)'
SELECT organisation, benefit, batches, codes_generated, codes_used, codes_held, codes_invalidated, codes_left,
       tickets_issued, tickets_scanned
  FROM benefit.code_dashboard;
\echo '--- benefit.code_tracking (suivi des codes), the codes that changed'
SELECT code, organisation, benefit, state, used_at IS NOT NULL AS used, used_by, used_order, invalidated_reason,
       tickets_issued, tickets_scanned
  FROM benefit.code_tracking WHERE state <> 'issued' ORDER BY code;
\echo '--- benefit.code_history'
SELECT code, from_state, to_state, order_ref, channel, reason FROM benefit.code_history ORDER BY history_id;
\echo

\echo '======================================================================'
\echo ' Selling: who may use what, baskets, holds (box office and web shop)'
\echo '======================================================================'
\echo

-- A basket line from codes; the price is left NULL: price_basket takes the catalogue price.
CREATE FUNCTION pg_temp.line(product text, seats text, audience text, quantity int, performance text DEFAULT NULL)
    RETURNS benefit.basket_line
    LANGUAGE sql STABLE
    RETURN ROW((SELECT p.product_id FROM benefit.product p WHERE p.code = product),
               (SELECT f.performance_id FROM benefit.performance f WHERE f.code = performance),
               (SELECT c.seat_category_id FROM benefit.seat_category c WHERE c.code = seats),
               (SELECT a.audience_id FROM benefit.audience a WHERE a.code = audience),
               quantity, NULL)::benefit.basket_line;

-- A contact's id from its name.
CREATE FUNCTION pg_temp.cid(contact_name text) RETURNS bigint
    LANGUAGE sql STABLE
    RETURN (SELECT c.contact_id FROM benefit.contact c WHERE c.name = contact_name);

-- A priced basket, one row per line and a total row, then what was not applied and why.
CREATE FUNCTION pg_temp.show(b benefit.priced_basket)
    RETURNS TABLE (line text, product text, qty int, base text, unit text, benefit text, promo text, to_pay text)
    LANGUAGE sql STABLE
AS $$
    SELECT l.line_no::text, p.code, l.quantity, pg_temp.eur(l.base_price_cents), pg_temp.eur(l.unit_price_cents),
           coalesce(l.benefit_code, '-'), pg_temp.eur(l.promo_discount_cents), pg_temp.eur(l.total_cents)
      FROM unnest(b.lines) l JOIN benefit.product p ON p.product_id = l.product_id
    UNION ALL
    SELECT 'total', coalesce('promo ' || b.promo_code, ''), NULL, pg_temp.eur(b.base_cents), pg_temp.eur(b.lines_cents),
           '', pg_temp.eur(b.promo_discount_cents), pg_temp.eur(b.total_cents)
    UNION ALL
    SELECT 'refused', coalesce(r.benefit_code, r.entered_code), NULL, NULL, NULL,
           coalesce('line ' || r.line_no, 'basket'), r.reason::text, NULL
      FROM unnest(b.refusals) r
$$;

\echo '--- available(contact, channel, at, codes): an anonymous web buyer who typed the hotel code and a typo'
SELECT benefit_code, target_type, entered_code, reason, quota_left
  FROM benefit.available(NULL, 'web', now(), ARRAY['beaurivage26', 'BEAURIVAJE26']);
\echo '--- the box-office gift icon: contacts_with_benefits(contacts on screen, channel)'
SELECT c.name, w.benefits
  FROM benefit.contacts_with_benefits(ARRAY(SELECT contact_id FROM benefit.contact WHERE kind = 'person'), 'box-office') w
  JOIN benefit.contact c ON c.contact_id = w.contact_id;
\echo '--- anonymous, box office: Casse-Noisette for two children and two adults at the Sunday matinée'
SELECT * FROM pg_temp.show(benefit.price_basket(
    ARRAY[pg_temp.line('casse-noisette', 'stalls', 'child', 2, 'casse-noisette-2026-12-20'),
          pg_temp.line('casse-noisette', 'stalls', 'adult', 2, 'casse-noisette-2026-12-20')],
    NULL, 'box-office'));
\echo '--- Jean Dupont, on the mailing target list, on the web: Cyrano, two adults in the stalls'
SELECT * FROM pg_temp.show(benefit.price_basket(ARRAY[pg_temp.line('cyrano', 'stalls', 'adult', 2)],
                                                pg_temp.cid('Jean Dupont'), 'web'));
\echo '--- Camille Martin, loyalty gold, at the box office: La Flûte enchantée and a programme'
SELECT * FROM pg_temp.show(benefit.price_basket(
    ARRAY[pg_temp.line('flute', 'stalls', 'adult', 2), pg_temp.line('programme', NULL, NULL, 1)],
    pg_temp.cid('Camille Martin'), 'box-office'));
\echo '--- an anonymous hotel guest on the web with the partner code, 5 tickets (4 per order): the code is refused'
SELECT * FROM pg_temp.show(benefit.price_basket(ARRAY[pg_temp.line('flute', 'stalls', 'adult', 5)],
                                                NULL, 'web', NULL, NULL, ARRAY['BEAURIVAGE26']));
\echo '--- ... and with 2 tickets'
SELECT * FROM pg_temp.show(benefit.price_basket(ARRAY[pg_temp.line('flute', 'stalls', 'adult', 2)],
                                                NULL, 'web', NULL, NULL, ARRAY['BEAURIVAGE26']));
SELECT code AS third_code FROM benefit.single_use_code WHERE batch_id = :batch_id ORDER BY code OFFSET 2 LIMIT 1 \gset
\echo '--- Giulia Rossi, a CE Alpina employee, on the web shop with a single-use code and the promo code BIENVENUE10'
SELECT * FROM pg_temp.show(benefit.price_basket(
    ARRAY[pg_temp.line('flute', 'stalls', 'adult', 2), pg_temp.line('tote-bag', NULL, NULL, 1)],
    pg_temp.cid('Giulia Rossi'), 'web', 'shop', NULL, ARRAY[:'third_code'], 'bienvenue10'));
\echo '--- the same basket put on hold for 15 minutes: quota units, the code and the promo use are reserved'
SELECT reason, order_ref, pg_temp.eur(total_cents) AS total
  FROM benefit.hold('WEB-2026-0100',
                    ARRAY[pg_temp.line('flute', 'stalls', 'adult', 2), pg_temp.line('tote-bag', NULL, NULL, 1)],
                    pg_temp.cid('Giulia Rossi'), 'web', now() + interval '15 minutes', ARRAY[:'third_code'], 'BIENVENUE10', 'shop');
SELECT code, state, hold_order FROM benefit.single_use_code WHERE code::text = :'third_code';
\echo '--- paid: confirm makes the uses final'
SELECT benefit.confirm('WEB-2026-0100') AS confirm;
SELECT code, state, used_order FROM benefit.single_use_code WHERE code::text = :'third_code';
\echo '--- BIENVENUE10 again for Giulia Rossi (once per contact), and the same code again: both refused'
SELECT coalesce(benefit_code, entered_code) AS what, reason
  FROM unnest((benefit.price_basket(ARRAY[pg_temp.line('flute', 'stalls', 'adult', 1)], pg_temp.cid('Giulia Rossi'), 'web', 'shop',
                                    NULL, ARRAY[:'third_code'], 'BIENVENUE10')).refusals);
\echo '--- a box-office hold nobody pays: its deadline passes and expire_holds() gives everything back'
SELECT reason, order_ref FROM benefit.hold('BOX-2026-0200', ARRAY[pg_temp.line('casse-noisette', 'balcony', 'child', 3)],
                                           NULL, 'box-office', now() + interval '1 second');
SELECT held, used FROM benefit.benefit_usage WHERE code = 'famille-casse-noisette';
SELECT pg_sleep(1.2) \g /dev/null
SELECT benefit.expire_holds() AS expired;
SELECT benefit.confirm('BOX-2026-0200') AS confirm_too_late;
-- refunds came with 0.3.0: test/upgrade.sh also runs this walk-through on the older versions
SELECT pg_catalog.to_regtype('benefit.refund_line') IS NOT NULL AS has_refunds \gset
\if :has_refunds
\echo '--- later, Giulia Rossi returns one of her two seats (line 1): a partial refund, idempotent by its reference'
SELECT benefit.refund('WEB-2026-0100', 'RF-2026-0001', ARRAY[ROW(1, 1)::benefit.refund_line]) AS refund;
SELECT benefit.refund('WEB-2026-0100', 'RF-2026-0001', ARRAY[ROW(1, 1)::benefit.refund_line]) AS refund_again;
\endif
\echo '--- a web basket still on hold when the demo ends: open until it is confirmed, released or expires'
SELECT reason, order_ref FROM benefit.hold('WEB-2026-0101', ARRAY[pg_temp.line('tote-bag', NULL, NULL, 1)],
                                           NULL, 'web', now() + interval '1 hour');
\echo '--- benefit.benefit_usage'
SELECT code, status, quota_total, held, used, "left", units_sold, pg_temp.eur(discount_cents) AS discount_given
  FROM benefit.benefit_usage ORDER BY benefit_id;
\echo '--- benefit.promo_usage'
SELECT code, is_active, max_uses_total, held, used, "left", pg_temp.eur(discount_cents) AS discount_given
  FROM benefit.promo_usage ORDER BY promo_code_id;
\echo
\if :since_0_2
\echo '--- a promo code prepared without its channels yet: benefit.list_promo_problems(promo_code_id) says what is missing'
INSERT INTO benefit.promo_code (code, name, percent_off) VALUES ('PRINTEMPS', 'Printemps: 5 %', 5);
SELECT p.code, l.field, l.problem
  FROM benefit.promo_code p, benefit.list_promo_problems(p.promo_code_id) l
 ORDER BY p.promo_code_id, l.field;
\echo '--- ... its channel added, promo_usage counts no problem left'
INSERT INTO benefit.promo_code_channel (promo_code_id, channel_id)
SELECT p.promo_code_id, c.channel_id FROM benefit.promo_code p, benefit.sales_channel c
 WHERE p.code = 'PRINTEMPS' AND c.code = 'web';
SELECT code, problems FROM benefit.promo_usage ORDER BY promo_code_id;
\echo
\endif

\echo '--- benefit.benefit_overview'
SELECT * FROM benefit.benefit_overview ORDER BY benefit_id;

\echo '--- benefit.benefit_status_history'
SELECT b.code, coalesce(h.from_status::text, '(created)') AS from_status, h.to_status,
       to_char(h.changed_at, 'YYYY-MM-DD HH24:MI:SS') AS changed_at, h.changed_by
  FROM benefit.benefit_status_history h
  JOIN benefit.benefit b ON b.benefit_id = h.benefit_id
 ORDER BY h.history_id;
