-- 0.3.0, benefits (sql/src/07_benefits.sql): how many units one single-use code
-- unlocks.  New benefits get 1; the benefits of 0.2.0 keep their behaviour
-- (one code discounted every unit of its benefit in a basket): NULL.
-- Added without a default, the column is NULL in every existing row; then the
-- default of new rows (no UPDATE: the lifecycle triggers are not fired).
ALTER TABLE benefit.benefit ADD COLUMN units_per_code integer,
    ADD CONSTRAINT benefit_units_per_code_check CHECK (units_per_code > 0);
ALTER TABLE benefit.benefit ALTER COLUMN units_per_code SET DEFAULT 1;
COMMENT ON COLUMN benefit.benefit.units_per_code IS 'single_use benefits: how many units (seats) one code unlocks, 1 by default; NULL: one code unlocks any number of units within the other quotas (redeem_code then takes 1)';
COMMENT ON CONSTRAINT benefit_units_per_code_check ON benefit.benefit IS 'units_per_code must be positive (NULL: any number)';
GRANT INSERT (units_per_code), UPDATE (units_per_code) ON benefit.benefit TO benefit_admin;
