#!/usr/bin/env bash
# Run every test of the suite in Odoo's test framework on a fresh database.
#
#   setup/test.sh                 # all suite modules and the test-only example partner
#   setup/test.sh logistics_integration_base   # some modules (comma-separated)
#   TEST_TAGS=/logistics_3pl_connector:TestRelease setup/test.sh logistics_3pl_connector
#
# Prints one closing line "N passed, N failed" and exits non-zero on any failure.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$here/setup/pg_ensure.sh" || exit 2

# Test-only addons (tests/addons/): the example partner proves the extension points.
ADDONS_PATH="$ADDONS_PATH,$here/tests/addons"
modules=${1:-$SUITE_MODULES,logistics_example_partner}
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
echo "$((total - bad)) passed, $bad failed"
if [ "$rc" -ne 0 ] || [ "$bad" -ne 0 ] || [ "$total" -eq 0 ]; then
    echo "[test] failures are detailed in $log" >&2
    exit 1
fi
rm -f "$log"
