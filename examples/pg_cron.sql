-- examples/pg_cron.sql: benefit's maintenance jobs, scheduled with pg_cron
-- (1.4 or later: Debian and Ubuntu package postgresql-15-cron).
--
-- postgresql.conf, then restart:
--     shared_preload_libraries = 'benefit,pg_cron'
--     cron.database_name = 'postgres'      -- where pg_cron keeps its jobs
-- Run this file as a superuser in that database (cron.database_name), after
-- replacing 'ticketing' below with the database where benefit is installed.
-- pg_cron opens a connection to that database as the job's user: let the
-- role benefit_cron in from the server itself (pg_hba.conf, or a .pgpass of
-- the server's postgres account), or set cron.use_background_workers = on.
--
--   every minute      expire_holds(): gives back the holds past their deadline
--                     (1,000 a call), expire_code_holds() the same for codes
--                     held by hold_code
--   every 15 minutes  purge_code_attempts(): forgets the wrong-code counts of
--                     ended windows (optional)
--   every night       purge_orders(): deletes the orders closed (released or
--                     expired) more than 90 days ago, 10,000 a call, twelve
--                     calls between 03:00 and 03:55; pass include_confirmed
--                     => true to purge confirmed and refunded orders too
--
-- Every job is safe next to buyers and next to another run of itself.
\set ON_ERROR_STOP true

CREATE EXTENSION IF NOT EXISTS pg_cron;

-- the jobs' login: benefit_admin may run every maintenance call (roles are
-- cluster-wide: this makes it for the database of benefit too)
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'benefit_cron') THEN
        CREATE ROLE benefit_cron LOGIN IN ROLE benefit_admin;
    END IF;
END
$$;

SELECT cron.schedule_in_database('benefit-expire-holds', '* * * * *',
                                 'SELECT benefit.expire_holds(); SELECT benefit.expire_code_holds()',
                                 'ticketing', 'benefit_cron');
SELECT cron.schedule_in_database('benefit-purge-attempts', '*/15 * * * *',
                                 'SELECT benefit.purge_code_attempts()',
                                 'ticketing', 'benefit_cron');
SELECT cron.schedule_in_database('benefit-purge-orders', '*/5 3 * * *',
                                 $$SELECT benefit.purge_orders(older_than => '90 days', batch => 10000)$$,
                                 'ticketing', 'benefit_cron');

-- what is scheduled, and how the last runs went
SELECT jobid, jobname, schedule, database, username, command FROM cron.job WHERE jobname LIKE 'benefit-%' ORDER BY jobid;
-- SELECT jobid, status, return_message, start_time FROM cron.job_run_details ORDER BY start_time DESC LIMIT 20;
-- to stop a job: SELECT cron.unschedule('benefit-purge-orders');
