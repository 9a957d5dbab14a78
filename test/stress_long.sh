#!/usr/bin/env bash
# test/stress_long.sh: the long stress test, its own command (not in bin/test).
# 64 clients x 60 s (STRESS_CLIENTS, STRESS_SECONDS) mixing every runtime call:
# hold, confirm, release, expire_holds, redeem_code, invalidate_code, available
# and price_basket, then the invariant checks of test/stress_holds.sh plus the
# single-use code checks.  Run it inside `pg_virtualenv -o shared_preload_libraries=benefit -t test/stress_long.sh`.
set -euo pipefail
export STRESS_CLIENTS=${STRESS_CLIENTS:-64} STRESS_SECONDS=${STRESS_SECONDS:-60} STRESS_MIX=all
exec "$(dirname "$0")/stress_holds.sh"
