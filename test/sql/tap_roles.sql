-- tap_roles: privileges.  The roles exist and hold what DESIGN §4 says;
-- PUBLIC holds nothing; no role may use schema benefit_internal, and
-- \df benefit.* lists only what the roles call; the audit columns are the
-- extension's; the sales role sells but cannot read or list codes, batches,
-- contacts, holds, counters or history, nor call the internal helpers that
-- write counters, nor generate codes; the report role reads the views only; a
-- login without a benefit role gets nothing.  Proven from the logins of
-- test/fixtures/logins.sql, granted only one role each, on the shared
-- catalogue (test/fixtures/catalogue.sql).  Every call of every role is in
-- tap_role_matrix.
\set ECHO none
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
\set ON_ERROR_STOP true
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION benefit;
SELECT plan(54);
\i test/fixtures/logins.sql
\i test/fixtures/catalogue.sql

SELECT has_role('benefit_admin');
SELECT has_role('benefit_sales');
SELECT has_role('benefit_report');
SELECT isnt_superuser('benefit_admin');
SELECT is((SELECT rolcanlogin FROM pg_roles WHERE rolname = 'benefit_sales'), false, 'the group roles cannot log in');

-- nothing for PUBLIC, anywhere in the schema
SELECT is_empty($$
    SELECT c.relname FROM pg_class c, aclexplode(c.relacl) a
     WHERE c.relnamespace = 'benefit'::regnamespace AND a.grantee = 0$$, 'no table, view or sequence privilege for PUBLIC');
SELECT is_empty($$
    SELECT p.oid::regprocedure::text FROM pg_proc p
     WHERE p.pronamespace = 'benefit'::regnamespace
       AND (p.proacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) a WHERE a.grantee = 0))$$,
    'no function executable by PUBLIC (a NULL acl would mean PUBLIC may execute)');
SELECT is_empty($$
    SELECT t.typname FROM pg_type t
     WHERE t.typnamespace = 'benefit'::regnamespace AND t.typtype IN ('e', 'b') AND t.typelem = 0
       AND (t.typacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(t.typacl) a WHERE a.grantee = 0))$$,
    'no type usable by PUBLIC');
SELECT is_empty($$
    SELECT 1 FROM pg_namespace n, aclexplode(n.nspacl) a WHERE n.nspname = 'benefit' AND a.grantee = 0$$,
    'no schema privilege for PUBLIC');

-- the helpers and trigger functions: schema benefit_internal, which no role
-- may use (the functions that call them run as the extension owner)
SELECT is_empty($$
    SELECT a.grantee::regrole::text FROM pg_namespace n, aclexplode(n.nspacl) a
     WHERE n.nspname = 'benefit_internal' AND a.grantee <> n.nspowner$$,
    'no role, nor PUBLIC, holds a privilege on schema benefit_internal');
SELECT is_empty($$
    SELECT r.rolname FROM pg_roles r
     WHERE NOT r.rolsuper AND r.rolname !~ '^pg_'
       AND has_schema_privilege(r.oid, 'benefit_internal', 'USAGE')$$,
    'no role has USAGE on benefit_internal (but superusers and PostgreSQL''s own pg_read_all_data and pg_write_all_data)');
SELECT is_empty($$
    SELECT p.oid::regprocedure::text FROM pg_proc p
     WHERE p.pronamespace = 'benefit_internal'::regnamespace
       AND (p.proacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) a WHERE a.grantee <> p.proowner))$$,
    'no function of benefit_internal is executable by PUBLIC or granted to a role');
SELECT is_empty($$
    SELECT t.typname FROM pg_type t
     WHERE t.typnamespace = 'benefit_internal'::regnamespace AND t.typelem = 0
       AND (t.typacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(t.typacl) a WHERE a.grantee <> t.typowner))$$,
    'no type of benefit_internal is usable by PUBLIC or granted to a role');
-- \df benefit.* lists the public API only: what some benefit role may call
SELECT is_empty($$
    SELECT p.oid::regprocedure::text FROM pg_proc p
     WHERE p.pronamespace = 'benefit'::regnamespace
       AND NOT EXISTS (SELECT 1 FROM aclexplode(p.proacl) a JOIN pg_roles r ON r.oid = a.grantee
                        WHERE r.rolname IN ('benefit_admin', 'benefit_sales', 'benefit_report', 'benefit_mailer'))$$,
    '\df benefit.* lists only functions a benefit role may call');
SELECT is_empty($$
    SELECT p.proname::text FROM pg_proc p
     WHERE p.pronamespace = 'benefit'::regnamespace
       AND p.proname IN ('take_slots', 'take_limited', 'settle', 'lock_codes', 'release_codes', 'spread_slots',
                         'maintain_slots', 'price', 'price_guarded', 'eligibility', 'check_code_use', 'channel_id', 'check_order_ref',
                         'resolve_sale', 'read_codes', 'parse_call', 'units_left', 'is_throttled',
                         'record_code_failures', 'require_writable', 'check_benefit_update', 'record_status_change',
                         'check_benefit_child', 'check_live_complete', 'check_still_complete', 'check_live_references',
                         'list_validity_problems')$$,
    '\df benefit.* lists no internal helper nor trigger function');

-- what each role holds
SELECT table_privs_are('benefit', 'benefit', 'benefit_admin', ARRAY['SELECT', 'DELETE'],
    'admins insert and update benefits column by column (the audit columns are not theirs)');
SELECT column_privs_are('benefit', 'benefit', 'name', 'benefit_admin', ARRAY['SELECT', 'INSERT', 'UPDATE']);
SELECT column_privs_are('benefit', 'benefit', 'created_at', 'benefit_admin', ARRAY['SELECT']);
SELECT table_privs_are('benefit', 'benefit_status_history', 'benefit_admin', ARRAY['SELECT'], 'the history is read-only for admins');
SELECT table_privs_are('benefit', 'benefit', 'benefit_sales', ARRAY[]::text[], 'sales cannot touch configuration tables');
SELECT table_privs_are('benefit', 'contact', 'benefit_report', ARRAY[]::text[], 'report cannot read tables');
SELECT table_privs_are('benefit', 'benefit_overview', 'benefit_report', ARRAY['SELECT'], 'report reads the views');
SELECT function_privs_are('benefit', 'go_live', ARRAY['bigint'], 'benefit_admin', ARRAY['EXECUTE']);
SELECT function_privs_are('benefit', 'go_live', ARRAY['bigint'], 'benefit_sales', ARRAY[]::text[]);

-- from login roles granted only one role each
SET ROLE tap_admin;
SELECT lives_ok($$
    INSERT INTO benefit.season (code, name, starts_on, ends_on) VALUES ('s26', 'Season', '2026-09-01', '2027-06-30');
    INSERT INTO benefit.sales_channel (code, name, kind) VALUES ('box', 'Box office', 'box_office');
    INSERT INTO benefit.product_family (code, name) VALUES ('t', 'Tickets');
    INSERT INTO benefit.product (code, name, family_id, season_id)
        SELECT 'p', 'P', family_id, season_id FROM benefit.product_family, benefit.season WHERE product_family.code = 't' AND season.code = 's26';
    INSERT INTO benefit.benefit (code, name, season_id, target_type, all_channels) SELECT 'pub', 'Public', season_id, 'public', true FROM benefit.season WHERE code = 's26';
    INSERT INTO benefit.benefit_tariff (benefit_id, product_id, percent_off)
        SELECT benefit_id, product_id, 20 FROM benefit.benefit, benefit.product WHERE product.code = 'p';
    SELECT benefit.go_live(benefit_id) FROM benefit.benefit WHERE code = 'pub'$$,
    'an admin configures a benefit and takes it live');
-- the audit columns are written by the extension only
SELECT throws_ok($$UPDATE benefit.benefit SET created_at = '2000-01-01'$$, '42501', NULL,
                 'an admin cannot rewrite when a benefit was created');
SELECT throws_ok($$UPDATE benefit.benefit SET status_changed_at = '2000-01-01'$$, '42501', NULL,
                 'an admin cannot rewrite when its status changed');
SELECT throws_ok($$UPDATE benefit.benefit SET status_changed_by = 'someone_else'$$, '42501', NULL,
                 'an admin cannot rewrite who changed its status');
SELECT throws_ok($$UPDATE benefit.benefit SET revision = 0$$, '42501', NULL,
                 'an admin cannot reset the revision that makes edits conflict');
SELECT throws_ok($$INSERT INTO benefit.contact (kind, name, created_at) VALUES ('person', 'Backdated', '2000-01-01')$$,
                 '42501', NULL, 'an admin cannot backdate a new contact');
SELECT throws_ok($$UPDATE benefit.promo_code SET created_at = '2000-01-01'$$, '42501', NULL,
                 'an admin cannot rewrite when a promo code was created');
SELECT lives_ok($$UPDATE benefit.benefit SET name = 'Public tariff' WHERE code = 'pub';
                  INSERT INTO benefit.contact (kind, name) VALUES ('person', 'New');
                  UPDATE benefit.contact SET email = 'new@example.org' WHERE name = 'New'$$,
                'an admin still edits every other column');
RESET ROLE;
SELECT is((SELECT string_agg(to_status::text || ' by ' || (changed_by::text COLLATE "default"), ', ' ORDER BY history_id)
             FROM benefit.benefit_status_history),
          'draft by tap_admin, live by tap_admin',
          'the history records the role that made each change, not the function owner');

SET ROLE tap_report;
SELECT results_eq($$SELECT code, status::text FROM benefit.benefit_overview$$, $$VALUES ('pub', 'live')$$, 'report reads benefit_overview');
SELECT throws_ok($$SELECT * FROM benefit.benefit$$, '42501', NULL, 'report cannot read the benefit table');
RESET ROLE;

SET ROLE tap_sales;
SELECT throws_ok($$SELECT * FROM benefit.contact$$, '42501', NULL, 'sales cannot read contacts');
SELECT throws_ok($$SELECT benefit.suspend(1)$$, '42501', NULL, 'sales cannot change the lifecycle');
-- the sales role sells, but reads nothing of what selling writes
SELECT throws_ok($$SELECT * FROM benefit.counter$$, '42501', NULL, 'sales cannot read the counters');
SELECT throws_ok($$SELECT * FROM benefit.order_hold$$, '42501', NULL, 'sales cannot read the holds');
SELECT throws_ok($$SELECT * FROM benefit.order_line$$, '42501', NULL, 'sales cannot read the order lines');
SELECT throws_ok($$SELECT * FROM benefit.single_use_code$$, '42501', NULL, 'sales cannot list codes');
SELECT throws_ok($$SELECT * FROM benefit.code_batch$$, '42501', NULL, 'sales cannot list batches');
SELECT throws_ok($$SELECT * FROM benefit.contact$$, '42501', NULL, 'sales cannot list contacts');
SELECT throws_ok($$SELECT * FROM benefit.code_history$$, '42501', NULL, 'sales cannot read the code history');
SELECT throws_ok($$SELECT benefit_internal.take_slots('h1', 'benefit_slot', 1, 1)$$, '42501', NULL,
                 'sales cannot call the internal helper that writes counters');
SELECT throws_ok($$SELECT benefit_internal.settle_order('h1', 'released', NULL, now())$$, '42501', NULL, 'sales cannot give units back by hand');
SELECT throws_ok($$SELECT * FROM benefit.benefit_usage$$, '42501', NULL, 'sales cannot read the reporting views');
SELECT throws_ok($$SELECT * FROM benefit_internal.eligibility(NULL, 'box', NULL, NULL, NULL)$$, '42501', NULL,
                 'sales cannot call the eligibility its calls use');
SELECT throws_ok($$SELECT benefit.generate_codes(1, 1, 1, 'x', 'fr')$$, '42501', NULL, 'the sales role cannot generate codes');
RESET ROLE;

SET ROLE tap_report;
SELECT throws_ok($$SELECT * FROM benefit.order_hold$$, '42501', NULL, 'report cannot read the holds');
SELECT throws_ok($$SELECT benefit.hold('h2', NULL, NULL, 'box', now())$$, '42501', NULL, 'report cannot hold');
RESET ROLE;

SET ROLE tap_admin;
SELECT throws_ok($$SELECT benefit_internal.check_still_complete(ARRAY[1::bigint])$$, '42501', NULL,
                 'an admin cannot call the helper its lifecycle triggers use');
RESET ROLE;

SET ROLE tap_nobody;
SELECT throws_ok($$SELECT * FROM benefit.benefit_overview$$, '42501', NULL, 'a role without a benefit role sees nothing');
SELECT throws_ok($$SELECT benefit.price_basket('{}'::jsonb)$$, '42501', NULL, 'a role without a benefit role cannot even price');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
