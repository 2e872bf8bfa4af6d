#!/usr/bin/env bash
# Quick iterations with pytest (pytest-odoo): run one module's or one file's tests, -k and
# all, against a database prepared once, instead of a fresh database each time.
#
#   setup/pytest.sh logistics_integration_base/tests/test_adapters.py -k error_parser
#   setup/pytest.sh logistics_3pl_connector/tests/test_release.py
#   setup/pytest.sh --prepare        # (re)create the database with the suite installed
#
# The database (PYTEST_DB, default logistics_pytest) is created with every suite module and
# the test-only addons on first use. HttpCase tests run too (an HTTP server is started).
# Odoo's own runner stays the reference: setup/test.sh, which CI runs.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$here/setup/pg_ensure.sh" || exit 2
ADDONS_PATH="$ADDONS_PATH,$here/tests/addons"
db=${PYTEST_DB:-logistics_pytest}
mkdir -p "$here/var"
conf="$here/var/pytest-$db.conf"  # one per database: runs side by side
write_config "$conf" "http_port = $(free_port)" "gevent_port = $(free_port)" "workers = 0" \
    "queue_job_channels = root:1"

prepare() {
    echo "[pytest] preparing database $db"
    dropdb --if-exists "$db" >/dev/null 2>&1
    "$PY" "$ODOO_SRC/odoo-bin" -c "$conf" -d "$db" -i "$SUITE_MODULES,logistics_example_partner,logistics_order_to_cash" \
        --without-demo=all --stop-after-init --log-level=warn --max-cron-threads=0 || exit 2
}
if [ "${1:-}" = "--prepare" ]; then
    prepare
    exit 0
fi
psql -lqt | cut -d'|' -f1 | grep -qw "$db" || prepare
cd "$here"
"$VENV/bin/python" -m pytest -p no:cacheprovider --odoo-config="$conf" --odoo-database="$db" \
    --odoo-http --odoo-log-level=warn "$@"
