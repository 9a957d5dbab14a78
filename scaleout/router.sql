-- scaleout/router.sql: the router database of a scale-out deployment of benefit.
--
-- Run as a superuser in the router database, after CREATE EXTENSION benefit
-- (the routed functions take and return the extension's types, so the router
-- has them; its tables stay empty and no role of the router is granted the
-- extension's roles) and CREATE EXTENSION plproxy.  Then scaleout/generate.sql
-- makes the routed functions.  Safe to run again.
--
-- What it makes (schema benefit_router):
--   institution       the map: institution -> connection string of its database
--                     (without user), the logins the router connects as, a pause flag
--   connstr(i, kind)  the connection string of a routed call: P0002 for an unknown
--                     institution, 55000 while it is paused (being moved)
--   the cluster functions of plproxy (schema plproxy): cluster 'benefit_platform'
--                     has one partition per institution (as its report login), for
--                     the platform report, which runs RUN ON ALL
--   platform_by_institution(), platform_totals()
--                     the platform report: per institution, and summed
-- Roles (NOLOGIN, created when missing): benefit_router_sales may run the routed
-- runtime calls, benefit_router_report the routed reporting calls and the
-- platform report.  Grant them to the router's logins.

SET client_min_messages = warning;

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'benefit_router_sales') THEN
        CREATE ROLE benefit_router_sales NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'benefit_router_report') THEN
        CREATE ROLE benefit_router_report NOLOGIN;
    END IF;
END
$$;

CREATE SCHEMA IF NOT EXISTS benefit_router;
COMMENT ON SCHEMA benefit_router IS
    'The router of a scale-out deployment of benefit: the map of institutions and one routed function per public runtime and reporting call (scaleout/README.md)';
REVOKE ALL ON SCHEMA benefit_router FROM PUBLIC;
GRANT USAGE ON SCHEMA benefit_router TO benefit_router_sales, benefit_router_report;

CREATE TABLE IF NOT EXISTS benefit_router.institution (
    institution text PRIMARY KEY,
    connstr     text NOT NULL,
    sales_user  text NOT NULL,
    report_user text NOT NULL,
    paused      boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE benefit_router.institution IS
    'The map: one row per institution, where its database is and which logins the router uses there';
COMMENT ON COLUMN benefit_router.institution.institution IS 'The institution, first argument of every routed call';
COMMENT ON COLUMN benefit_router.institution.connstr IS
    'libpq connection string of its database, without user: host, port, dbname, keepalives, tcp_user_timeout, passfile';
COMMENT ON COLUMN benefit_router.institution.sales_user IS 'Login of the institution granted only benefit_sales (runtime calls)';
COMMENT ON COLUMN benefit_router.institution.report_user IS 'Login of the institution granted only benefit_report (reporting calls)';
COMMENT ON COLUMN benefit_router.institution.paused IS 'True while the institution is moved: its calls fail with 55000';
REVOKE ALL ON TABLE benefit_router.institution FROM PUBLIC;

-- A value of a libpq connection string, quoted: 'it''s' becomes 'it\'s'.
CREATE OR REPLACE FUNCTION benefit_router.quote_value(value text)
    RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    RETURN '''' || replace(replace(value, '\', '\\'), '''', '\''') || '''';
COMMENT ON FUNCTION benefit_router.quote_value(text) IS 'A value of a libpq connection string, in single quotes, backslashes and quotes escaped';
REVOKE ALL ON FUNCTION benefit_router.quote_value(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit_router.quote_value(text) TO benefit_router_sales, benefit_router_report;

-- The connection string of one routed call: the map's, with the login of
-- the call's kind ('sales' or 'report').  SECURITY DEFINER: the callers do
-- not read the map.
CREATE OR REPLACE FUNCTION benefit_router.connstr(institution text, kind text)
    RETURNS text
    LANGUAGE plpgsql STABLE CALLED ON NULL INPUT PARALLEL SAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    m benefit_router.institution;
BEGIN
    SELECT * INTO m FROM benefit_router.institution i WHERE i.institution = connstr.institution;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown institution "%"', institution USING ERRCODE = 'P0002',
            DETAIL = 'The router maps no database to this institution.',
            HINT = 'The institutions are the rows of benefit_router.institution.';
    END IF;
    IF m.paused THEN
        RAISE EXCEPTION 'institution "%" is being moved', institution USING ERRCODE = '55000',
            DETAIL = 'Its calls are refused until its database answers on its new cluster.',
            HINT = 'Try the call again in a few seconds.';
    END IF;
    RETURN m.connstr || ' user=' || benefit_router.quote_value(CASE kind WHEN 'report' THEN m.report_user ELSE m.sales_user END);
END
$$;
COMMENT ON FUNCTION benefit_router.connstr(text, text) IS
    'Connection string of a routed call for an institution, as its sales or report login; P0002 for an unknown institution, 55000 while it is being moved';
REVOKE ALL ON FUNCTION benefit_router.connstr(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit_router.connstr(text, text) TO benefit_router_sales, benefit_router_report;

-- The cluster 'benefit_platform' of PL/Proxy: one partition per institution,
-- as its report login, for RUN ON ALL.  PL/Proxy wants a power of two
-- partitions: the list is padded with the first institution's string again,
-- and PL/Proxy runs a statement once per distinct connection string, so an
-- institution is never counted twice.
CREATE SCHEMA IF NOT EXISTS plproxy;
CREATE OR REPLACE FUNCTION plproxy.get_cluster_partitions(cluster_name text)
    RETURNS SETOF text
    LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    parts text[];
    n int := 1;
BEGIN
    IF cluster_name <> 'benefit_platform' THEN
        RAISE EXCEPTION 'unknown cluster "%"', cluster_name USING ERRCODE = 'P0002';
    END IF;
    SELECT array_agg(i.connstr || ' user=' || benefit_router.quote_value(i.report_user) ORDER BY i.institution) INTO parts
      FROM benefit_router.institution i;
    IF parts IS NULL THEN
        RAISE EXCEPTION 'no institution in the map' USING ERRCODE = 'P0002';
    END IF;
    WHILE n < cardinality(parts) LOOP n := n * 2; END LOOP;
    RETURN QUERY SELECT coalesce(parts[k], parts[1]) FROM generate_series(1, n) k;
END
$$;
CREATE OR REPLACE FUNCTION plproxy.get_cluster_version(cluster_name text)
    RETURNS integer
    LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    RETURN (SELECT hashtext(coalesce(string_agg(i.institution || ' ' || i.connstr || i.report_user, ',' ORDER BY i.institution), ''))
              FROM benefit_router.institution i);
CREATE OR REPLACE FUNCTION plproxy.get_cluster_config(cluster_name text, OUT key text, OUT val text)
    RETURNS SETOF record
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$ SELECT 'connection_lifetime'::text, '1800'::text $$;
REVOKE ALL ON FUNCTION plproxy.get_cluster_partitions(text), plproxy.get_cluster_version(text),
                       plproxy.get_cluster_config(text) FROM PUBLIC;
GRANT USAGE ON SCHEMA plproxy TO benefit_router_report;
GRANT EXECUTE ON FUNCTION plproxy.get_cluster_partitions(text), plproxy.get_cluster_version(text),
                          plproxy.get_cluster_config(text) TO benefit_router_report;

-- The platform report: every institution's figures, read through its
-- reporting views as its report login, all institutions at once (RUN ON ALL).
CREATE OR REPLACE FUNCTION benefit_router.platform_figures(
        OUT database text, OUT port integer, OUT codes_generated bigint, OUT codes_used bigint,
        OUT units_sold bigint, OUT discount_cents bigint, OUT promo_discount_cents bigint)
    RETURNS SETOF record
    LANGUAGE plproxy VOLATILE PARALLEL UNSAFE
AS $$
    CLUSTER 'benefit_platform';
    RUN ON ALL;
    SELECT current_database()::text AS database, inet_server_port() AS port,
           (SELECT coalesce(sum(d.codes_generated), 0) FROM benefit.code_dashboard d)::bigint AS codes_generated,
           (SELECT coalesce(sum(d.codes_used), 0) FROM benefit.code_dashboard d)::bigint AS codes_used,
           (SELECT coalesce(sum(u.units_sold), 0) FROM benefit.benefit_usage u)::bigint AS units_sold,
           (SELECT coalesce(sum(u.discount_cents), 0) FROM benefit.benefit_usage u)::bigint AS discount_cents,
           (SELECT coalesce(sum(p.discount_cents), 0) FROM benefit.promo_usage p)::bigint AS promo_discount_cents;
$$;
COMMENT ON FUNCTION benefit_router.platform_figures() IS
    'The platform report, one row per institution database (RUN ON ALL): codes generated and used, units sold, discount of the line benefits and of the promo codes (cents)';
REVOKE ALL ON FUNCTION benefit_router.platform_figures() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit_router.platform_figures() TO benefit_router_report;

CREATE OR REPLACE FUNCTION benefit_router.platform_by_institution()
    RETURNS TABLE (institution text, codes_generated bigint, codes_used bigint,
                   units_sold bigint, discount_cents bigint, promo_discount_cents bigint)
    LANGUAGE sql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT i.institution, f.codes_generated, f.codes_used, f.units_sold, f.discount_cents, f.promo_discount_cents
      FROM benefit_router.platform_figures() f
      JOIN benefit_router.institution i
        ON i.connstr ~ ('(^| )dbname=' || f.database || '( |$)') AND i.connstr ~ ('(^| )port=' || f.port || '( |$)')
     ORDER BY i.institution;
END;
COMMENT ON FUNCTION benefit_router.platform_by_institution() IS
    'The platform report per institution (named as in the map)';
REVOKE ALL ON FUNCTION benefit_router.platform_by_institution() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit_router.platform_by_institution() TO benefit_router_report;

CREATE OR REPLACE FUNCTION benefit_router.platform_totals()
    RETURNS TABLE (institutions bigint, codes_generated numeric, codes_used numeric,
                   units_sold numeric, discount_cents numeric, promo_discount_cents numeric)
    LANGUAGE sql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT count(*), sum(f.codes_generated), sum(f.codes_used), sum(f.units_sold),
           sum(f.discount_cents), sum(f.promo_discount_cents)
      FROM benefit_router.platform_figures() f;
END;
COMMENT ON FUNCTION benefit_router.platform_totals() IS
    'The platform report summed over every institution';
REVOKE ALL ON FUNCTION benefit_router.platform_totals() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION benefit_router.platform_totals() TO benefit_router_report;
