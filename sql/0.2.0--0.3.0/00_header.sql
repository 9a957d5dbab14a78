\echo Use "ALTER EXTENSION benefit UPDATE TO '0.3.0'" to load this file. \quit
/*
 * benefit 0.2.0 -> 0.3.0
 *
 * Run by ALTER EXTENSION benefit UPDATE (from 0.1.0 after the frozen upgrade
 * to 0.2.0).  Built by make: the parts in sql/0.2.0--0.3.0/ joined in the
 * order of their names, each numbered as the concern file of sql/src/ whose
 * objects it changes, then every routine and view of sql/src/ restated by
 * sql/routines.awk (CREATE OR REPLACE FUNCTION / VIEW with their comments and
 * privileges), then the parts in sql/0.2.0--0.3.0/after/ (what needs the
 * new routines); the release freezes the joined script.  A function is so
 * written once, in its concern source: a part only drops what cannot be
 * replaced (a changed result type, argument names or defaults).  CREATE
 * EXTENSION benefit runs the full script built from sql/src/ instead:
 * test/upgrade.sh proves that both leave the same catalog.
 *
 * 0.3.0 changes the layout, not the behaviour: the internal helpers and
 * trigger functions move to schema benefit_internal, which no role may use,
 * so that \df benefit.* shows the public API.  A function moves with ALTER
 * FUNCTION ... SET SCHEMA: the same object, with its privileges, comment,
 * dependencies and the triggers that fire it; every routine is then
 * replaced by its definition in sql/src/ (an extension script may replace
 * objects of its own extension).
 */
