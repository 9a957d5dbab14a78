-- scaleout/generate.sql: makes the routed functions of the router from the
-- catalog of the benefit extension installed in the router database.
--
-- Run with psql as a superuser in the router database, after
-- scaleout/router.sql, and again after every ALTER EXTENSION benefit UPDATE
-- (of the router and of every institution): it drops the routed functions it
-- made before (those whose comment starts with "routed:") and makes them
-- again from the catalog, so they follow the public API.
--
-- One PL/Proxy function benefit_router.<name>(institution text, <the
-- arguments of benefit.<name>, names, types and defaults>) for:
--   - every function of schema benefit granted to benefit_sales or
--     benefit_report, except the support functions of the type benefit.code
--     (input, output, operators, btree and hash support: they run wherever
--     the type is used, the router included); overloads stay overloads
--     (price_basket(basket_line[], ...) and price_basket(jsonb));
--   - every view of schema benefit granted to one of them, as a set-returning
--     function benefit_router.<view>(institution text) RETURNS SETOF benefit.<view>.
-- Each routed function connects (CONNECT benefit_router.connstr(institution,
-- kind)) as the institution's sales login when benefit_sales may run the
-- call, as its report login otherwise, and runs the same call there.  Its
-- result type is the original one: composite results, arrays of composites
-- and enums travel as text and are read back with the router's copy of the
-- extension's types.  Defaults are evaluated on the router (now() is the
-- router's clock: the clusters keep time with NTP).  Granted to
-- benefit_router_sales or benefit_router_report in the same way.

SET client_min_messages = warning;

-- drop what an earlier run made
SELECT format('DROP FUNCTION %s', p.oid::regprocedure)
  FROM pg_catalog.pg_proc p
 WHERE p.pronamespace = 'benefit_router'::regnamespace
   AND pg_catalog.obj_description(p.oid, 'pg_proc') LIKE 'routed:%'
\gexec

WITH granted AS (
    SELECT p.oid, p.proname, p.proretset, p.prorettype, p.pronargs,
           bool_or(r.rolname = 'benefit_sales') AS sales
      FROM pg_catalog.pg_proc p
     CROSS JOIN LATERAL pg_catalog.aclexplode(p.proacl) a
      JOIN pg_catalog.pg_roles r ON r.oid = a.grantee
     WHERE p.pronamespace = 'benefit'::regnamespace
       AND a.privilege_type = 'EXECUTE'
       AND r.rolname IN ('benefit_sales', 'benefit_report')
       AND p.prokind = 'f'
       -- not a support function of a type, an operator or an operator class
       AND NOT EXISTS (SELECT FROM pg_catalog.pg_type t
                        WHERE p.oid IN (t.typinput, t.typoutput, t.typreceive, t.typsend,
                                        t.typmodin, t.typmodout, t.typanalyze, t.typsubscript))
       AND NOT EXISTS (SELECT FROM pg_catalog.pg_operator o WHERE o.oprcode = p.oid)
       AND NOT EXISTS (SELECT FROM pg_catalog.pg_amproc ap WHERE ap.amproc = p.oid)
     GROUP BY p.oid, p.proname, p.proretset, p.prorettype, p.pronargs
), routed AS (
    SELECT g.oid, g.proname, g.sales,
           pg_catalog.pg_get_function_arguments(g.oid) AS args,
           pg_catalog.pg_get_function_identity_arguments(g.oid) AS identity_args,
           pg_catalog.pg_get_function_result(g.oid) AS result,
           -- SELECT * FROM f(...) for a composite or a set of rows, SELECT f(...) for a scalar
           (g.proretset OR t.typtype = 'c') AS rows,
           (SELECT pg_catalog.string_agg('$' || k, ', ' ORDER BY k) FROM pg_catalog.generate_series(2, g.pronargs + 1) k) AS refs
      FROM granted g
      JOIN pg_catalog.pg_type t ON t.oid = g.prorettype
)
SELECT pg_catalog.format(
           $f$CREATE FUNCTION benefit_router.%I(institution text%s) RETURNS %s LANGUAGE plproxy VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE AS %L$f$,
           proname, CASE WHEN args = '' THEN '' ELSE ', ' || args END, result,
           pg_catalog.format(E'\n    CONNECT benefit_router.connstr(institution, %L);\n    %s benefit.%I(%s);\n',
                             CASE WHEN sales THEN 'sales' ELSE 'report' END,
                             CASE WHEN rows THEN 'SELECT * FROM' ELSE 'SELECT' END, proname, coalesce(refs, '')))
    || pg_catalog.format(E';\nCOMMENT ON FUNCTION benefit_router.%I(text%s) IS %L',
           proname, CASE WHEN identity_args = '' THEN '' ELSE ', ' || identity_args END,
           pg_catalog.format('routed: benefit.%s(%s) on the institution''s database, as its %s login',
                             proname, identity_args, CASE WHEN sales THEN 'sales' ELSE 'report' END))
    || pg_catalog.format(E';\nREVOKE ALL ON FUNCTION benefit_router.%I(text%s) FROM PUBLIC',
           proname, CASE WHEN identity_args = '' THEN '' ELSE ', ' || identity_args END)
    || pg_catalog.format(E';\nGRANT EXECUTE ON FUNCTION benefit_router.%I(text%s) TO %I',
           proname, CASE WHEN identity_args = '' THEN '' ELSE ', ' || identity_args END,
           CASE WHEN sales THEN 'benefit_router_sales' ELSE 'benefit_router_report' END)
  FROM routed
 ORDER BY proname, identity_args
\gexec

-- the router's roles use the extension's types (arguments and results of the
-- routed calls: benefit.basket_line[], benefit.code, benefit.reason...), not
-- its tables, views or functions
GRANT USAGE ON SCHEMA benefit TO benefit_router_sales, benefit_router_report;
SELECT pg_catalog.format('GRANT USAGE ON TYPE %s TO benefit_router_sales, benefit_router_report', t.oid::regtype)
  FROM pg_catalog.pg_type t
 WHERE t.typnamespace = 'benefit'::regnamespace AND t.typelem = 0
   AND (t.typtype IN ('b', 'e', 'd')
        OR (t.typtype = 'c' AND (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid) = 'c'))
 ORDER BY 1
\gexec

-- the views, as set-returning functions
WITH granted AS (
    SELECT c.relname, bool_or(r.rolname = 'benefit_sales') AS sales
      FROM pg_catalog.pg_class c
     CROSS JOIN LATERAL pg_catalog.aclexplode(c.relacl) a
      JOIN pg_catalog.pg_roles r ON r.oid = a.grantee
     WHERE c.relnamespace = 'benefit'::regnamespace AND c.relkind IN ('v', 'm')
       AND a.privilege_type = 'SELECT' AND r.rolname IN ('benefit_sales', 'benefit_report')
     GROUP BY c.relname
)
SELECT pg_catalog.format(
           $f$CREATE FUNCTION benefit_router.%I(institution text) RETURNS SETOF benefit.%I LANGUAGE plproxy VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE AS %L$f$,
           relname, relname,
           pg_catalog.format(E'\n    CONNECT benefit_router.connstr(institution, %L);\n    SELECT * FROM benefit.%I;\n',
                             CASE WHEN sales THEN 'sales' ELSE 'report' END, relname))
    || pg_catalog.format(E';\nCOMMENT ON FUNCTION benefit_router.%I(text) IS %L', relname,
           pg_catalog.format('routed: the rows of the view benefit.%s on the institution''s database, as its %s login',
                             relname, CASE WHEN sales THEN 'sales' ELSE 'report' END))
    || pg_catalog.format(E';\nREVOKE ALL ON FUNCTION benefit_router.%I(text) FROM PUBLIC', relname)
    || pg_catalog.format(E';\nGRANT EXECUTE ON FUNCTION benefit_router.%I(text) TO %I', relname,
           CASE WHEN sales THEN 'benefit_router_sales' ELSE 'benefit_router_report' END)
  FROM granted
 ORDER BY relname
\gexec
