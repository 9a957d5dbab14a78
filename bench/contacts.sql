-- bench/contacts.sql: the 1,000,000 person contacts (ids 2 .. 1,000,001, after the organisation of
-- setup.sql) that P1's redemptions and P4/P5's buyers name; included by p1_prepare.sql and
-- p45_prepare.sql, made once (runtime calls refuse an unknown contact id).
INSERT INTO benefit.contact (kind, name)
SELECT 'person', 'Contact ' || i FROM generate_series(1, 1000000) i
 WHERE NOT EXISTS (SELECT FROM benefit.contact c WHERE c.kind = 'person');
