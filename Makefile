# Makefile for the benefit extension (PGXS).
#
# Test layout: PG15's pg_regress has no --expecteddir, but it looks for the
# expected file in the output directory first.  With --inputdir=test it reads
# test/sql/N.sql (regress) or test/specs/N.spec (isolation) and compares the
# result with ./expected/N.out.  So expected/ is the only home of .out files:
# never create test/expected/, never give a test the stem of a file in sql/,
# and keep test names unique across regress and isolation.

EXTENSION = benefit
EXTVERSION = $(shell sed -n "s/^default_version[[:space:]]*=[[:space:]]*'\([^']*\)'.*/\1/p" $(EXTENSION).control)

MODULE_big = benefit
OBJS = \
	src/basket.o \
	src/benefit.o \
	src/code.o \
	src/code_format.o \
	src/config.o \
	src/eligibility.o \
	src/generate.o \
	src/money.o \
	src/money_sql.o \
	src/order.o \
	src/order_open.o \
	src/pricing.o \
	src/promo_rule.o \
	src/quota.o \
	src/read_only.o \
	src/reason.o \
	src/redeem.o \
	src/refund.o \
	src/refund_rule.o \
	src/sale.o \
	src/search_path.o \
	src/spi_util.o \
	src/tariff_choice.o \
	src/use_rule.o \
	src/use_rule_sql.o \
	src/throttle.o \
	src/throttle_rule.o

# SQL scripts.  Released scripts are committed and frozen: 0.1.0's install
# script, the upgrade to 0.2.0 (joined from parts while 0.2.0 was in the
# making), and each later release's full install script and upgrade script.
#
# The version in the making (default_version in benefit.control) has two
# scripts built by make, both git-ignored until its release commits them:
#   - its full install script, joined from one source per concern,
#     sql/src/NN_<concern>.sql, in the order of their names (as pg_partman
#     assembles its script): a concern's tables, indexes, constraint
#     comments, pg_dump registration, functions, triggers, views, comments
#     and privileges are in one file, and a newcomer reads what is installed
#     today there, not in a chain of upgrade scripts;
#   - its upgrade script from the last release, joined from one part per
#     concern, sql/<from>--<to>/NN_<concern>.sql (tables, data, drops), every
#     routine of sql/src restated by sql/routines.awk, then the parts of
#     sql/<from>--<to>/after/ (data moves that call the new routines).
# Built and ignored rather than committed while the version is in the
# making, so that a source or a part is the only place to edit and no
# committed copy can drift from it; test/upgrade.sh proves that the upgrade
# from every release leaves the same catalog as the full script.  The release
# commits both built scripts (git add -f, and out of .gitignore): they are
# frozen from then on, and sql/src/ goes on as the source of the next version.
FULL_SCRIPT = sql/$(EXTENSION)--$(EXTVERSION).sql
UPGRADE_0_3_0 = sql/$(EXTENSION)--0.2.0--0.3.0.sql
DATA_built = $(FULL_SCRIPT) $(UPGRADE_0_3_0)
DATA = $(filter-out $(DATA_built),$(wildcard sql/$(EXTENSION)--*.sql))

# pg_regress: plain SQL files and pgTAP files (tap_*.sql) run through pg_regress.
REGRESS = config_errors code_type tap_schema tap_roles tap_role_matrix tap_lifecycle tap_references tap_time_zones tap_promo_codes tap_promo_budget tap_code_generation tap_code_use tap_code_paths tap_throttle tap_tickets tap_eligibility tap_pricing tap_orders tap_refunds tap_order_maintenance tap_search_path tap_strict_input tap_json tap_config_cache strict_input
REGRESS_OPTS = --inputdir=test --load-extension=pgtap

# isolationtester specs, one per race.
ISOLATION = golive_vs_tariff_edit golive_vs_reference_edit channel_edits_race redeem_race hold_race quota_race promo_budget_race hold_lifecycle_race code_takeover_race redeem_vs_basket code_order_race throttle_race purge_race hold_same_order_rr expire_holds_rr order_calls_rr refund_race purge_orders_race operator_quota_race config_cache_stale refund_ref_race late_config_rr
ISOLATION_OPTS = --inputdir=test --outputdir=.

PG_CONFIG ?= pg_config

# Warnings on; CI adds -Werror through PG_WERROR=1.
PG_CPPFLAGS = -DBENEFIT_EXTVERSION='"$(EXTVERSION)"'
PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
ifdef PG_WERROR
PG_CFLAGS += -Werror
endif

EXTRA_CLEAN = results regression.diffs regression.out output_iso

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(FULL_SCRIPT): $(sort $(wildcard sql/src/*.sql))
	cat $^ > $@

# The upgrade: its parts, every routine of sql/src restated (sql/routines.awk),
# then the parts that need the new routines (after/).
UPGRADE_0_3_0_PARTS = $(sort $(wildcard sql/0.2.0--0.3.0/*.sql))
UPGRADE_0_3_0_AFTER = $(sort $(wildcard sql/0.2.0--0.3.0/after/*.sql))
$(UPGRADE_0_3_0): $(UPGRADE_0_3_0_PARTS) $(UPGRADE_0_3_0_AFTER) $(sort $(wildcard sql/src/*.sql)) sql/routines.awk
	{ cat $(UPGRADE_0_3_0_PARTS); \
	  awk -f sql/routines.awk $(sort $(wildcard sql/src/*.sql)); \
	  cat /dev/null $(UPGRADE_0_3_0_AFTER); } > $@

# The library reports the version it was built for: rebuild when it changes.
src/benefit.o: $(EXTENSION).control

# Run the pgTAP files through pg_prove against $PGDATABASE (or contrib_regression).
.PHONY: prove
prove:
	pg_prove --ext .sql test/sql/tap_*.sql
