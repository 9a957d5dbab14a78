/*
 * The extension itself: its roles, its two schemas, the version of its
 * library.
 *
 * The roles are cluster-wide: created when missing, never dropped by the
 * extension.  Schema benefit (made by CREATE EXTENSION: schema = benefit in
 * benefit.control) is the public API, usable by the four roles.  Schema
 * benefit_internal holds the helpers and trigger functions: no role has USAGE
 * on it, so none can call them; the functions of the API that use them run as
 * the extension owner (SECURITY DEFINER, search_path pinned), and a trigger
 * function is fired by the table it is attached to, whoever edits it.
 */

--------------------------------------------------------------------------
-- Roles
--------------------------------------------------------------------------

DO $roles$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['benefit_admin', 'benefit_sales', 'benefit_report', 'benefit_mailer']
    LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN
            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
END
$roles$;

--------------------------------------------------------------------------
-- Schemas
--------------------------------------------------------------------------

COMMENT ON SCHEMA benefit IS 'benefit extension: ticketing benefits, single-use and partner codes, promo codes, quotas and their reporting';
REVOKE ALL ON SCHEMA benefit FROM PUBLIC;
GRANT USAGE ON SCHEMA benefit TO benefit_admin, benefit_sales, benefit_report, benefit_mailer;

CREATE SCHEMA benefit_internal;
COMMENT ON SCHEMA benefit_internal IS
    'benefit extension: the helpers and trigger functions behind the functions of schema benefit; no role may use it (the functions that call them run as the extension owner)';
REVOKE ALL ON SCHEMA benefit_internal FROM PUBLIC;

--------------------------------------------------------------------------
-- Functions
--------------------------------------------------------------------------

CREATE FUNCTION benefit.library_version()
RETURNS text
AS 'MODULE_PATHNAME', 'benefit_library_version'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION benefit.library_version() IS
    'Version the loaded shared library was built for; equals the installed extension version unless the library and the SQL objects are out of step';
REVOKE ALL ON FUNCTION benefit.library_version() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit.library_version() TO benefit_admin;
