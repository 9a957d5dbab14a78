\echo Use "CREATE EXTENSION benefit" to load this file. \quit
/*
 * benefit: the full install script of the version in making (the release
 * freezes it as sql/benefit--<version>.sql).
 *
 * Built by make from one source file per concern, sql/src/NN_<concern>.sql,
 * joined in the order of their names (as pg_partman assembles its script):
 * edit the sources, never the built script.  Each source holds its objects
 * with their indexes, constraint comments, pg_dump registration, comments and
 * privileges beside them, in the same sub-sections in the same order: types,
 * tables, functions, triggers, views.
 *
 * Configuration is plain tables with named constraints: DBAs write INSERTs.
 * Money is always integer minor units (columns ending in _cents, bigint);
 * percentages are numeric with at most two decimals.  Every table holding
 * user data, and its identity sequence, is registered with
 * pg_extension_config_dump so that pg_dump keeps the rows.
 *
 * Two schemas: benefit holds what applications and DBAs use (the tables,
 * views and types, and the functions README documents for each role);
 * benefit_internal holds the helpers and trigger functions behind them,
 * usable by no role.  Nothing is granted to PUBLIC.
 */
