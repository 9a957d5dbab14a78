-- 0.3.0, reporting (sql/src/20_reporting.sql): refunds in code_tracking,
-- code_dashboard and benefit_usage (columns added at the end; units_sold and
-- discount_cents of benefit_usage net of refunds).  Replaced in place, so their
-- privileges stay.
CREATE OR REPLACE VIEW benefit.code_tracking AS
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
COMMENT ON COLUMN benefit.code_tracking.refunded_at IS 'When a refund last gave the code back (issued again, usable anew), or NULL';
COMMENT ON COLUMN benefit.code_tracking.refunded_order IS 'The order that refund refunded, or NULL';
COMMENT ON COLUMN benefit.code_tracking.tickets_refunded IS 'Of the tickets recorded with this code, those refunded';

CREATE OR REPLACE VIEW benefit.code_dashboard AS
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
COMMENT ON COLUMN benefit.code_dashboard.codes_left IS 'Codes still issued (neither held, used nor invalidated), the codes a refund gave back included';
COMMENT ON COLUMN benefit.code_dashboard.codes_refunded IS 'Codes a refund gave back (issued again, usable anew) at least once, whatever their state now';
COMMENT ON COLUMN benefit.code_dashboard.tickets_refunded IS 'Of the tickets issued, those refunded';

CREATE OR REPLACE VIEW benefit.benefit_usage AS
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
                  WHERE l.benefit_id = b.benefit_id AND h.state = 'confirmed'), 0)::bigint AS units_sold,
       coalesce((SELECT sum((l.base_price_cents - l.unit_price_cents) * (l.quantity - rf.quantity)) FROM benefit.order_line l
                   JOIN benefit.order_hold h ON h.order_ref = l.order_ref
                  CROSS JOIN LATERAL (SELECT coalesce(sum(f.quantity), 0) AS quantity FROM benefit.order_refund_line f
                                       WHERE f.order_ref = l.order_ref AND f.line_no = l.line_no) rf
                  WHERE l.benefit_id = b.benefit_id AND h.state = 'confirmed'), 0)::bigint AS discount_cents,
       coalesce((SELECT sum(f.quantity) FROM benefit.order_refund_line f
                   JOIN benefit.order_line l ON l.order_ref = f.order_ref AND l.line_no = f.line_no
                  WHERE l.benefit_id = b.benefit_id), 0)::bigint AS units_refunded,
       coalesce((SELECT sum((l.base_price_cents - l.unit_price_cents) * f.quantity) FROM benefit.order_refund_line f
                   JOIN benefit.order_line l ON l.order_ref = f.order_ref AND l.line_no = f.line_no
                  WHERE l.benefit_id = b.benefit_id), 0)::bigint AS discount_refunded_cents
  FROM benefit.benefit b
  LEFT JOIN benefit.counter c ON c.kind = 'benefit_slot' AND c.owner_id = b.benefit_id
 GROUP BY b.benefit_id;
COMMENT ON VIEW benefit.benefit_usage IS
    'Per benefit: total quota, units held by open holds, used by confirmed orders, left (NULL: no limit), units sold and discount given (cents, confirmed orders, net of refunds), units refunded and discount given back by refunds';
COMMENT ON COLUMN benefit.benefit_usage.units_sold IS 'Units sold with it by confirmed orders, less the units refunded';
COMMENT ON COLUMN benefit.benefit_usage.discount_cents IS 'Discount it gave (base price minus its price, times units) on confirmed orders, less the units refunded, in cents';
COMMENT ON COLUMN benefit.benefit_usage.units_refunded IS 'Units sold with it that refunds gave back';
COMMENT ON COLUMN benefit.benefit_usage.discount_refunded_cents IS 'Discount of those units (base price minus its price, times units), given back by refunds, in cents';
