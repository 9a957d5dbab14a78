/*
 * benefit 0.1.0 -> 0.2.0
 *
 * Run by ALTER EXTENSION benefit UPDATE, and by CREATE EXTENSION benefit
 * after the frozen 0.1.0 install script.  Built by make: the parts in
 * sql/0.1.0--0.2.0/ joined in the order of their names (one concern each;
 * the release freezes the joined script).  Functions whose body changes are
 * replaced with CREATE OR REPLACE: PostgreSQL only lets an extension script
 * replace objects that already belong to the extension.
 */
\echo Use "ALTER EXTENSION benefit UPDATE TO '0.2.0'" to load this file. \quit

