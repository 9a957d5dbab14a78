/*
 * Reporting: the views of benefit_report (and benefit_admin).  One row per
 * benefit with its go-live problems counted (benefit_overview), one row per
 * single-use code (code_tracking, suivi des codes), codes per organisation
 * and benefit (code_dashboard, tableau de bord), units and discount per
 * benefit (benefit_usage) and per promo code (promo_usage).  Every column is
 * commented.
 */

--------------------------------------------------------------------------
-- Views
--------------------------------------------------------------------------

CREATE VIEW benefit.benefit_overview AS
SELECT b.benefit_id,
       b.code,
       b.name,
       s.code AS season,
       b.target_type,
       b.status,
       b.valid_from,
       b.valid_until,
       CASE WHEN b.all_channels THEN ARRAY['*']
            ELSE ARRAY(SELECT c.code FROM benefit.benefit_channel bc
                         JOIN benefit.sales_channel c ON c.channel_id = bc.channel_id
                        WHERE bc.benefit_id = b.benefit_id ORDER BY c.code)
       END AS channels,
       b.quota_total,
       (SELECT count(*) FROM benefit.benefit_tariff t WHERE t.benefit_id = b.benefit_id) AS tariff_rows,
       benefit.count_problems(b.benefit_id) AS problems
  FROM benefit.benefit b
  JOIN benefit.season s ON s.season_id = b.season_id;
COMMENT ON VIEW benefit.benefit_overview IS
    'One row per benefit: season, target type, status, validity, channels (* for all), total quota, number of tariff rows and of go-live problems';
COMMENT ON COLUMN benefit.benefit_overview.benefit_id IS 'The benefit';
COMMENT ON COLUMN benefit.benefit_overview.code IS 'Its stable code';
COMMENT ON COLUMN benefit.benefit_overview.name IS 'Its display name';
COMMENT ON COLUMN benefit.benefit_overview.season IS 'Code of its season';
COMMENT ON COLUMN benefit.benefit_overview.target_type IS 'Who may use it (public, contacts, indicator, partner, single_use)';
COMMENT ON COLUMN benefit.benefit_overview.status IS 'Lifecycle status (draft, validated, live, suspended, closed)';
COMMENT ON COLUMN benefit.benefit_overview.valid_from IS 'Start of its validity, or NULL for open';
COMMENT ON COLUMN benefit.benefit_overview.valid_until IS 'End of its validity, or NULL for open';
COMMENT ON COLUMN benefit.benefit_overview.channels IS 'Codes of the channels it is sold on, {*} for all';
COMMENT ON COLUMN benefit.benefit_overview.quota_total IS 'Total quota in units, or NULL for no limit';
COMMENT ON COLUMN benefit.benefit_overview.tariff_rows IS 'Number of its tariff rows';
COMMENT ON COLUMN benefit.benefit_overview.problems IS 'Number of problems that keep it from going live (benefit.list_problems says which)';
REVOKE ALL ON TABLE benefit.benefit_overview FROM PUBLIC;
GRANT SELECT ON benefit.benefit_overview TO benefit_admin, benefit_report;

CREATE VIEW benefit.code_tracking AS
SELECT c.code,
       c.batch_id,
       o.contact_id AS organisation_id,
       o.name AS organisation,
       b.benefit_id,
       b.code AS benefit,
       c.state,
       c.hold_order,
       c.hold_until,
       c.used_at,
       c.used_by_contact,
       u.name AS used_by,
       c.used_order,
       c.invalidated_at,
       c.invalidated_by,
       c.invalidated_reason,
       (SELECT count(*) FROM benefit.ticket t WHERE t.code OPERATOR(benefit.=) c.code) AS tickets_issued,
       (SELECT count(*) FROM benefit.ticket t WHERE t.code OPERATOR(benefit.=) c.code AND t.scanned_at IS NOT NULL) AS tickets_scanned,
       rf.at AS refunded_at,
       rf.order_ref AS refunded_order,
       (SELECT count(*) FROM benefit.ticket t WHERE t.code OPERATOR(benefit.=) c.code AND t.refunded_at IS NOT NULL) AS tickets_refunded
  FROM benefit.single_use_code c
  JOIN benefit.code_batch cb ON cb.batch_id = c.batch_id
  JOIN benefit.contact o ON o.contact_id = cb.contact_id
  JOIN benefit.benefit b ON b.benefit_id = c.benefit_id
  LEFT JOIN benefit.contact u ON u.contact_id = c.used_by_contact
  LEFT JOIN LATERAL (SELECT h.at, h.order_ref FROM benefit.code_history h
                      WHERE h.code OPERATOR(benefit.=) c.code AND h.from_state = 'used' AND h.to_state = 'issued'
                        AND h.reason = 'refunded'
                      ORDER BY h.history_id DESC LIMIT 1) rf ON true;
COMMENT ON VIEW benefit.code_tracking IS
    'Suivi des codes: one row per single-use code: batch, organisation, benefit, state, hold, when it was used, by which contact and for which order, invalidation (when, who, why), tickets issued and scanned, the last refund that gave it back (issued again) and its tickets refunded';
COMMENT ON COLUMN benefit.code_tracking.code IS 'The single-use code';
COMMENT ON COLUMN benefit.code_tracking.batch_id IS 'The batch it was generated in';
COMMENT ON COLUMN benefit.code_tracking.organisation_id IS 'Contact id of the organisation the batch was made for';
COMMENT ON COLUMN benefit.code_tracking.organisation IS 'Name of that organisation';
COMMENT ON COLUMN benefit.code_tracking.benefit_id IS 'The benefit the code unlocks';
COMMENT ON COLUMN benefit.code_tracking.benefit IS 'Code of that benefit';
COMMENT ON COLUMN benefit.code_tracking.state IS 'issued, held, used or invalidated';
COMMENT ON COLUMN benefit.code_tracking.hold_order IS 'The order holding the code, while held';
COMMENT ON COLUMN benefit.code_tracking.hold_until IS 'Deadline of the hold, while held';
COMMENT ON COLUMN benefit.code_tracking.used_at IS 'When the code was used, or NULL';
COMMENT ON COLUMN benefit.code_tracking.used_by_contact IS 'Contact id of the buyer who used it (NULL: anonymous or unused)';
COMMENT ON COLUMN benefit.code_tracking.used_by IS 'Name of that buyer';
COMMENT ON COLUMN benefit.code_tracking.used_order IS 'The order it was used for, or NULL';
COMMENT ON COLUMN benefit.code_tracking.invalidated_at IS 'When an operator invalidated it, or NULL';
COMMENT ON COLUMN benefit.code_tracking.invalidated_by IS 'The role that invalidated it';
COMMENT ON COLUMN benefit.code_tracking.invalidated_reason IS 'Why it was invalidated';
COMMENT ON COLUMN benefit.code_tracking.tickets_issued IS 'Tickets recorded with this code';
COMMENT ON COLUMN benefit.code_tracking.tickets_scanned IS 'Of those, tickets scanned at access control';
COMMENT ON COLUMN benefit.code_tracking.refunded_at IS 'When a refund last gave the code back (issued again, usable anew), or NULL';
COMMENT ON COLUMN benefit.code_tracking.refunded_order IS 'The order that refund refunded, or NULL';
COMMENT ON COLUMN benefit.code_tracking.tickets_refunded IS 'Of the tickets recorded with this code, those refunded';
REVOKE ALL ON TABLE benefit.code_tracking FROM PUBLIC;
GRANT SELECT ON benefit.code_tracking TO benefit_report, benefit_admin;

CREATE VIEW benefit.code_dashboard AS
SELECT o.contact_id AS organisation_id,
       o.name AS organisation,
       b.benefit_id,
       b.code AS benefit,
       b.name AS benefit_name,
       count(DISTINCT cb.batch_id) AS batches,
       count(c.code) AS codes_generated,
       count(c.code) FILTER (WHERE c.state = 'used') AS codes_used,
       count(c.code) FILTER (WHERE c.state = 'held') AS codes_held,
       count(c.code) FILTER (WHERE c.state = 'invalidated') AS codes_invalidated,
       count(c.code) FILTER (WHERE c.state = 'issued') AS codes_left,
       coalesce(sum(tk.issued), 0)::bigint AS tickets_issued,
       coalesce(sum(tk.scanned), 0)::bigint AS tickets_scanned,
       count(rc.code) AS codes_refunded,
       coalesce(sum(tk.refunded), 0)::bigint AS tickets_refunded
  FROM benefit.code_batch cb
  JOIN benefit.contact o ON o.contact_id = cb.contact_id
  JOIN benefit.benefit b ON b.benefit_id = cb.benefit_id
  JOIN benefit.single_use_code c ON c.batch_id = cb.batch_id
  LEFT JOIN (SELECT t.code, count(*) AS issued, count(t.scanned_at) AS scanned, count(t.refunded_at) AS refunded
               FROM benefit.ticket t WHERE t.code IS NOT NULL GROUP BY t.code) tk
    ON tk.code OPERATOR(benefit.=) c.code
  LEFT JOIN (SELECT h.code FROM benefit.code_history h
              WHERE h.from_state = 'used' AND h.to_state = 'issued' AND h.reason = 'refunded' GROUP BY h.code) rc
    ON rc.code OPERATOR(benefit.=) c.code
 GROUP BY o.contact_id, o.name, b.benefit_id, b.code, b.name;
COMMENT ON VIEW benefit.code_dashboard IS
    'Tableau de bord: per organisation contact and benefit: batches, codes generated, used, held, invalidated and left, tickets issued with them and tickets scanned at entry, codes a refund gave back and tickets refunded';
COMMENT ON COLUMN benefit.code_dashboard.organisation_id IS 'Contact id of the organisation the codes were generated for';
COMMENT ON COLUMN benefit.code_dashboard.organisation IS 'Name of that organisation';
COMMENT ON COLUMN benefit.code_dashboard.benefit_id IS 'The benefit the codes unlock';
COMMENT ON COLUMN benefit.code_dashboard.benefit IS 'Code of that benefit';
COMMENT ON COLUMN benefit.code_dashboard.benefit_name IS 'Display name of that benefit';
COMMENT ON COLUMN benefit.code_dashboard.batches IS 'Batches generated for this organisation and benefit';
COMMENT ON COLUMN benefit.code_dashboard.codes_generated IS 'Codes in those batches';
COMMENT ON COLUMN benefit.code_dashboard.codes_used IS 'Codes used by a confirmed order or redeem_code';
COMMENT ON COLUMN benefit.code_dashboard.codes_held IS 'Codes held by an open order';
COMMENT ON COLUMN benefit.code_dashboard.codes_invalidated IS 'Codes an operator invalidated';
COMMENT ON COLUMN benefit.code_dashboard.codes_left IS 'Codes still issued (neither held, used nor invalidated), the codes a refund gave back included';
COMMENT ON COLUMN benefit.code_dashboard.tickets_issued IS 'Tickets recorded with these codes';
COMMENT ON COLUMN benefit.code_dashboard.tickets_scanned IS 'Of those, tickets scanned at access control';
COMMENT ON COLUMN benefit.code_dashboard.codes_refunded IS 'Codes a refund gave back (issued again, usable anew) at least once, whatever their state now';
COMMENT ON COLUMN benefit.code_dashboard.tickets_refunded IS 'Of the tickets issued, those refunded';
REVOKE ALL ON TABLE benefit.code_dashboard FROM PUBLIC;
GRANT SELECT ON benefit.code_dashboard TO benefit_report, benefit_admin;

CREATE VIEW benefit.benefit_usage AS
SELECT b.benefit_id,
       b.code,
       b.name,
       b.status,
       b.quota_total,
       coalesce(sum(c.held), 0)::integer AS held,
       coalesce(sum(c.used), 0)::integer AS used,
       (b.quota_total - coalesce(sum(c.held + c.used), 0))::integer AS left,
       coalesce((SELECT sum(l.quantity - rf.quantity) FROM benefit.order_line l
                   JOIN benefit.order_hold h ON h.order_ref = l.order_ref
                  CROSS JOIN LATERAL (SELECT coalesce(sum(f.quantity), 0) AS quantity FROM benefit.order_refund_line f
                                       WHERE f.order_ref = l.order_ref AND f.line_no = l.line_no) rf
                  WHERE l.benefit_id = b.benefit_id AND h.state = 'confirmed'), 0)::bigint
       -- the codes orders of hold_code and redeem_code: their units on the slots, less refunds
       + coalesce((SELECT sum(oc.units) FROM benefit.order_hold_counter oc
                     JOIN benefit.order_hold h ON h.order_ref = oc.order_ref
                    WHERE oc.kind = 'benefit_slot' AND oc.owner_id = b.benefit_id
                      AND h.kind = 'codes' AND h.state = 'confirmed'), 0)::bigint
       - coalesce((SELECT sum(rc.units) FROM benefit.order_refund_counter rc
                     JOIN benefit.order_hold h ON h.order_ref = rc.order_ref
                    WHERE rc.kind = 'benefit_slot' AND rc.owner_id = b.benefit_id
                      AND h.kind = 'codes' AND h.state = 'confirmed'), 0)::bigint AS units_sold,
       coalesce((SELECT sum((l.base_price_cents - l.unit_price_cents) * (l.quantity - rf.quantity)) FROM benefit.order_line l
                   JOIN benefit.order_hold h ON h.order_ref = l.order_ref
                  CROSS JOIN LATERAL (SELECT coalesce(sum(f.quantity), 0) AS quantity FROM benefit.order_refund_line f
                                       WHERE f.order_ref = l.order_ref AND f.line_no = l.line_no) rf
                  WHERE l.benefit_id = b.benefit_id AND h.state = 'confirmed'), 0)::bigint AS discount_cents,
       coalesce((SELECT sum(f.quantity) FROM benefit.order_refund_line f
                   JOIN benefit.order_line l ON l.order_ref = f.order_ref AND l.line_no = f.line_no
                  WHERE l.benefit_id = b.benefit_id), 0)::bigint
       + coalesce((SELECT sum(rc.units) FROM benefit.order_refund_counter rc
                     JOIN benefit.order_hold h ON h.order_ref = rc.order_ref
                    WHERE rc.kind = 'benefit_slot' AND rc.owner_id = b.benefit_id AND h.kind = 'codes'), 0)::bigint
         AS units_refunded,
       coalesce((SELECT sum((l.base_price_cents - l.unit_price_cents) * f.quantity) FROM benefit.order_refund_line f
                   JOIN benefit.order_line l ON l.order_ref = f.order_ref AND l.line_no = f.line_no
                  WHERE l.benefit_id = b.benefit_id), 0)::bigint AS discount_refunded_cents
  FROM benefit.benefit b
  LEFT JOIN benefit.counter c ON c.kind = 'benefit_slot' AND c.owner_id = b.benefit_id
 GROUP BY b.benefit_id;
COMMENT ON VIEW benefit.benefit_usage IS
    'Per benefit: total quota, units held by open holds, used by confirmed orders, left (NULL: no limit), units sold and discount given (cents, confirmed orders, net of refunds), units refunded and discount given back by refunds';
COMMENT ON COLUMN benefit.benefit_usage.benefit_id IS 'The benefit';
COMMENT ON COLUMN benefit.benefit_usage.code IS 'Its stable code';
COMMENT ON COLUMN benefit.benefit_usage.name IS 'Its display name';
COMMENT ON COLUMN benefit.benefit_usage.status IS 'Its lifecycle status';
COMMENT ON COLUMN benefit.benefit_usage.quota_total IS 'Total quota in units, or NULL for no limit';
COMMENT ON COLUMN benefit.benefit_usage.held IS 'Units held by open holds';
COMMENT ON COLUMN benefit.benefit_usage.used IS 'Units used by confirmed orders';
COMMENT ON COLUMN benefit.benefit_usage."left" IS 'Units left under the total quota (quota_total - held - used), or NULL for no limit';
COMMENT ON COLUMN benefit.benefit_usage.units_sold IS 'Units sold with it by confirmed orders (the lines of baskets, the codes of codes orders), less the units refunded';
COMMENT ON COLUMN benefit.benefit_usage.discount_cents IS 'Discount it gave (base price minus its price, times units) on confirmed orders, less the units refunded, in cents';
COMMENT ON COLUMN benefit.benefit_usage.units_refunded IS 'Units sold with it (baskets and codes orders) that refunds gave back';
COMMENT ON COLUMN benefit.benefit_usage.discount_refunded_cents IS 'Discount of those units (base price minus its price, times units), given back by refunds, in cents';
REVOKE ALL ON TABLE benefit.benefit_usage FROM PUBLIC;
GRANT SELECT ON benefit.benefit_usage TO benefit_report, benefit_admin;

-- The budget slots are named by a text cast ('promo_budget'::text::counter_kind, evaluated when
-- the view is read): a literal of the kind would be resolved when the view is made, which the
-- upgrade to 0.3.0 cannot do in the transaction that adds the kind.
CREATE VIEW benefit.promo_usage AS
SELECT p.promo_code_id,
       p.code,
       p.name,
       p.is_active,
       p.max_uses_total,
       coalesce(sum(c.held), 0)::integer AS held,
       coalesce(sum(c.used), 0)::integer AS used,
       (p.max_uses_total - coalesce(sum(c.held + c.used), 0))::integer AS left,
       coalesce((SELECT sum(h.promo_discount_cents) FROM benefit.order_hold h
                  WHERE h.promo_code_id = p.promo_code_id AND h.state = 'confirmed'), 0)::bigint AS discount_cents,
       benefit.count_promo_problems(p.promo_code_id) AS problems,
       p.max_discount_cents_total AS budget_cents,
       coalesce(g.held, 0) AS budget_held_cents,
       coalesce(g.used, 0) AS budget_used_cents,
       p.max_discount_cents_total - coalesce(g.held + g.used, 0) AS budget_left_cents
  FROM benefit.promo_code p
  LEFT JOIN benefit.counter c ON c.kind = 'promo_slot' AND c.owner_id = p.promo_code_id
  LEFT JOIN LATERAL (SELECT sum(b.held)::bigint AS held, sum(b.used)::bigint AS used
                       FROM benefit.counter b
                      WHERE b.kind = 'promo_budget'::text::benefit.counter_kind
                        AND b.owner_id = p.promo_code_id) g ON true
 GROUP BY p.promo_code_id, g.held, g.used;
COMMENT ON VIEW benefit.promo_usage IS
    'Per promo code: total use limit, uses held by open holds, used by confirmed orders, left (NULL: no limit), discount given (cents, confirmed orders), number of problems (benefit.list_promo_problems says which), and its budget in cents: the budget, held by open holds, used by confirmed orders, left (NULL: no budget)';
COMMENT ON COLUMN benefit.promo_usage.promo_code_id IS 'The promo code';
COMMENT ON COLUMN benefit.promo_usage.code IS 'The code buyers enter';
COMMENT ON COLUMN benefit.promo_usage.name IS 'Its display name';
COMMENT ON COLUMN benefit.promo_usage.is_active IS 'False when switched off';
COMMENT ON COLUMN benefit.promo_usage.max_uses_total IS 'Total use limit, or NULL for no limit';
COMMENT ON COLUMN benefit.promo_usage.held IS 'Uses held by open holds';
COMMENT ON COLUMN benefit.promo_usage.used IS 'Uses by confirmed orders';
COMMENT ON COLUMN benefit.promo_usage."left" IS 'Uses left under the total limit, or NULL for no limit';
COMMENT ON COLUMN benefit.promo_usage.discount_cents IS 'Discount it gave on confirmed orders, in cents';
COMMENT ON COLUMN benefit.promo_usage.problems IS 'Number of configuration problems (benefit.list_promo_problems says which)';
COMMENT ON COLUMN benefit.promo_usage.budget_cents IS 'Budget: total discount it may give, in cents (max_discount_cents_total), or NULL for no budget';
COMMENT ON COLUMN benefit.promo_usage.budget_held_cents IS 'Discount held by open holds, in cents (counted with or without a budget)';
COMMENT ON COLUMN benefit.promo_usage.budget_used_cents IS 'Discount of confirmed orders counted on the budget, in cents (orders held before 0.3.0 are not counted)';
COMMENT ON COLUMN benefit.promo_usage.budget_left_cents IS 'Budget left (budget_cents - budget_held_cents - budget_used_cents), or NULL for no budget';
REVOKE ALL ON TABLE benefit.promo_usage FROM PUBLIC;
GRANT SELECT ON benefit.promo_usage TO benefit_report, benefit_admin;
