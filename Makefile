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
	src/generate.o \
	src/money.o \
	src/money_sql.o \
	src/pricing.o \
	src/promo_rule.o \
	src/quota.o \
	src/read_only.o \
	src/reason.o \
	src/redeem.o \
	src/sale.o \
	src/search_path.o \
	src/spi_util.o \
	src/tariff_choice.o \
	src/throttle.o \
	src/throttle_rule.o

# Released scripts are committed and frozen.  The script of the version in
# the making is joined from one part per concern (sql/<from>--<to>/NN_*.sql,
# in the order of their names, as pg_partman assembles its script); it is
# built, not committed (.gitignore), so a part is the only place to edit, and
# the release commits the joined script.
UPGRADE_0_2_0 = sql/$(EXTENSION)--0.1.0--0.2.0.sql
DATA = $(filter-out $(UPGRADE_0_2_0),$(wildcard sql/$(EXTENSION)--*.sql))
DATA_built = $(UPGRADE_0_2_0)

# pg_regress: plain SQL files and pgTAP files (tap_*.sql) run through pg_regress.
REGRESS = config_errors code_type tap_schema tap_roles tap_role_matrix tap_lifecycle tap_references tap_time_zones tap_promo_codes tap_code_generation tap_code_use tap_throttle tap_tickets tap_eligibility tap_pricing tap_orders tap_search_path tap_strict_input tap_json strict_input
REGRESS_OPTS = --inputdir=test --load-extension=pgtap

# isolationtester specs, one per race.
ISOLATION = golive_vs_tariff_edit golive_vs_reference_edit channel_edits_race redeem_race hold_race quota_race hold_lifecycle_race code_takeover_race throttle_race purge_race hold_same_order_rr expire_holds_rr order_calls_rr
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

$(UPGRADE_0_2_0): $(sort $(wildcard sql/0.1.0--0.2.0/*.sql))
	cat $^ > $@

# The library reports the version it was built for: rebuild when it changes.
src/benefit.o: $(EXTENSION).control

# Run the pgTAP files through pg_prove against $PGDATABASE (or contrib_regression).
.PHONY: prove
prove:
	pg_prove --ext .sql test/sql/tap_*.sql
