-- 0.3.0, throttling: the pg_dump configuration forgets 0.1.0's code_attempt.
--
-- The update to 0.2.0 moved the wrong-code counts into shared memory and
-- dropped benefit.code_attempt, but DROP TABLE left the table's OID in the
-- extension's pg_dump configuration (pg_extension.extconfig, with its
-- condition in extcondition): pg_dump skips an OID that names no table, so
-- nothing was lost, but the catalog differed from a fresh install.  The
-- configuration keeps the tables that exist, in their order.  (The update
-- scripts run as a superuser: benefit.control says superuser = true.)
UPDATE pg_catalog.pg_extension e
   SET extconfig = k.cfg, extcondition = k.cond
  FROM (SELECT array_agg(x.cfg ORDER BY x.n) AS cfg, array_agg(x.cond ORDER BY x.n) AS cond
          FROM pg_catalog.pg_extension e2,
               ROWS FROM (pg_catalog.unnest(e2.extconfig), pg_catalog.unnest(e2.extcondition)) WITH ORDINALITY x (cfg, cond, n)
         WHERE e2.extname = 'benefit'
           AND EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = x.cfg)) k
 WHERE e.extname = 'benefit';
