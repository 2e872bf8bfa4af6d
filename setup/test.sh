#!/usr/bin/env bash
# Run every test of the suite in Odoo's test framework on a fresh database.
#
#   setup/test.sh                 # all suite modules and the test-only addons
#   setup/test.sh logistics_integration_base   # some modules (comma-separated)
#   TEST_TAGS=/logistics_3pl_connector:TestRelease setup/test.sh logistics_3pl_connector
#
# A full run (no arguments, no TEST_TAGS) also runs the scale-out scenario
# (tests/scale_out/two_nodes.sh; SKIP_SCALE_OUT=1 leaves it out).
# Prints one closing line "N passed, N failed" and exits non-zero on any failure.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$here/setup/pg_ensure.sh" || exit 2

# Test-only addons (tests/addons/): the example partner proves the extension points; the
# order-to-cash addon runs the whole chain across the modules.
ADDONS_PATH="$ADDONS_PATH,$here/tests/addons"
modules=${1:-$SUITE_MODULES,logistics_example_partner,logistics_order_to_cash}
db=${TEST_DB:-logistics_test_$$}
mkdir -p "$here/var"
conf="$here/var/test-$$.conf"
log="$here/var/test-$$.log"
write_config "$conf" "http_port = $(free_port)" "gevent_port = $(free_port)" "workers = 0" \
    "queue_job_channels = root:1"
dropdb --if-exists "$db" >/dev/null 2>&1

tags=$(echo "$modules" | tr ',' '\n' | sed 's|^|/|' | paste -sd, -)
tags=${TEST_TAGS:-$tags}  # e.g. TEST_TAGS=/logistics_3pl_connector:TestRelease
echo "[test] database $db, modules $modules (log: $log)"
"$PY" "$ODOO_SRC/odoo-bin" -c "$conf" -d "$db" -i "$modules" --without-demo=all \
    --test-enable --test-tags "$tags" --stop-after-init --log-level=test \
    --max-cron-threads=0 2>&1 | tee "$log" | grep -E --line-buffered \
    "(ERROR|CRITICAL|FAIL:|ERROR:|tests when loading database| post-tests in | tests in )" 
rc=${PIPESTATUS[0]}

summary=$(grep -Eo "[0-9]+ failed, [0-9]+ error\(s\) of [0-9]+ tests when loading database" "$log" | tail -1)
[ "${KEEP_DB:-0}" = 1 ] || dropdb --if-exists "$db" >/dev/null 2>&1
rm -f "$conf"
if [ -z "$summary" ]; then
    echo "[test] no test summary found: Odoo did not finish (exit $rc); see $log" >&2
    grep -A40 -m1 "Traceback" "$log" | tail -25 >&2
    echo "0 passed, 1 failed"
    exit 1
fi
read -r failed errors total <<<"$(echo "$summary" | sed -E 's/([0-9]+) failed, ([0-9]+) error\(s\) of ([0-9]+) tests.*/\1 \2 \3/')"
bad=$((failed + errors))
passed=$((total - bad))
odoo_ok=1
if [ "$rc" -ne 0 ] || [ "$bad" -ne 0 ] || [ "$total" -eq 0 ]; then
    echo "[test] failures are detailed in $log" >&2
    odoo_ok=0
else
    [ "${KEEP_LOG:-0}" = 1 ] || rm -f "$log"  # KEEP_LOG=1 keeps it
fi
echo "[test] Odoo test framework: $passed passed, $bad failed"

# Scale-out scenario (full runs only): two Odoo nodes on one database, one killed mid-way;
# nothing lost, nothing stored or delivered twice (tests/scale_out/two_nodes.sh).
if [ -z "${1:-}" ] && [ -z "${TEST_TAGS:-}" ] && [ "${SKIP_SCALE_OUT:-0}" != 1 ]; then
    echo "[test] scale-out scenario: tests/scale_out/two_nodes.sh"
    scale_log="$here/var/two-nodes-$$.out"
    "$here/tests/scale_out/two_nodes.sh" >"$scale_log" 2>&1
    scale_rc=$?
    grep -E "^(PASS|FAIL) " "$scale_log"
    line=$(grep -E "^[0-9]+ passed, [0-9]+ failed$" "$scale_log" | tail -1)
    if [ -n "$line" ]; then
        read -r s_passed s_failed <<<"$(echo "$line" | sed -E 's/([0-9]+) passed, ([0-9]+) failed/\1 \2/')"
    else
        s_passed=0 s_failed=1
    fi
    passed=$((passed + s_passed))
    bad=$((bad + s_failed))
    if [ "$scale_rc" -ne 0 ] || [ "$s_failed" -ne 0 ]; then
        echo "[test] scale-out scenario failed: see $scale_log" >&2
        tail -20 "$scale_log" >&2
        odoo_ok=0
    else
        rm -f "$scale_log"
    fi
fi
echo "$passed passed, $bad failed"
[ "$odoo_ok" = 1 ] || exit 1
