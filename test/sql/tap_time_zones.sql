-- tap_time_zones: completeness is judged in one time zone, UTC, never the
-- session's.  The same lifecycle (create, validate, go live, rename and
-- edit a live benefit, edit its season, suspend, go live again, promo-code
-- problems, benefit_overview and promo_usage) runs under four TimeZone
-- settings, with validities a few hours from the season's boundaries, so
-- that reading the season's days in the session's zone would change the
-- answer of at least one pass (Europe/Zurich and Pacific/Kiritimati east
-- of UTC, America/Los_Angeles west); every pass expects the same answers.
-- Each pass adds its season to the shared catalogue (test/fixtures/
-- catalogue.sql); configuration runs as an admin login, the reports as a
-- report login (test/fixtures/logins.sql).
\set ECHO none
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
\set ON_ERROR_STOP true
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION benefit;
SELECT plan(69);

\i test/fixtures/logins.sql
\i test/fixtures/catalogue.sql

SET TimeZone = 'Pacific/Kiritimati';
SELECT is(benefit.season_day_start('2090-09-01'), '2090-09-01 00:00+00'::timestamptz,
          'a season day starts at its midnight UTC, whatever the session''s zone');

\set n 1
\set zone UTC
\i test/fixtures/time_zone_pass.sql
\set n 2
\set zone Europe/Zurich
\i test/fixtures/time_zone_pass.sql
\set n 3
\set zone Pacific/Kiritimati
\i test/fixtures/time_zone_pass.sql
\set n 4
\set zone America/Los_Angeles
\i test/fixtures/time_zone_pass.sql

SELECT * FROM finish();
ROLLBACK;
