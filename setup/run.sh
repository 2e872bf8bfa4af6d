#!/usr/bin/env bash
# Start Odoo on http://localhost:8069 with the suite, demo partners and live demo traffic.
#
#   setup/run.sh            # database logistics_demo, recreated at each start, login admin / admin
#   KEEP_DEMO_DB=1 setup/run.sh   # (or --keep) keep the database of the previous run
#   DEMO_DB=other HTTP_PORT=8169 setup/run.sh
#   DEMO_TRAFFIC=0 setup/run.sh   # no simulator / generated orders
#
# Odoo runs threaded with the queue_job runner (server-wide module), so messages flow
# without any other process. The demo driver (setup/demo.py) runs a 3PL simulator on port
# 8070, a parcel carrier on 8071 and a customs broker on 8072, and creates an order every
# few seconds; one in five is refused once by the 3PL so that Logistics › Exceptions has
# something to replay within a minute, and one export is held once by customs.
set -euo pipefail
keep=${KEEP_DEMO_DB:-0}
for arg in "$@"; do
    case $arg in
        --keep) keep=1 ;;
        *) echo "usage: setup/run.sh [--keep]" >&2; exit 2 ;;
    esac
done
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$here/setup/pg_ensure.sh"

db=${DEMO_DB:-logistics_demo}
port=${HTTP_PORT:-8069}
mkdir -p "$here/var"
conf="$here/var/demo.conf"
write_config "$conf" "http_port = $port" "gevent_port = $(free_port)" "db_name = $db" \
    "dbfilter = ^$db\$" "workers = 0" "max_cron_threads = 1" \
    "" "[queue_job]" "channels = root:2,root.logistics:2"

exists() { psql -d postgres -tAc "select 1 from pg_database where datname = '$db'" | grep -q 1; }
if exists && [ "$keep" != 1 ]; then
    echo "[run] dropping database $db: the demo starts clean (KEEP_DEMO_DB=1 or --keep keeps it)"
    dropdb --if-exists --force "$db"
    rm -rf "$here/var/data/filestore/$db"
fi
if ! exists; then
    echo "[run] creating database $db with the suite and demo data (a few minutes)"
    "$PY" "$ODOO_SRC/odoo-bin" -c "$conf" -d "$db" -i "$SUITE_MODULES" --stop-after-init \
        --log-level=warn
fi

driver_pid=""
cleanup() { [ -n "$driver_pid" ] && kill "$driver_pid" 2>/dev/null || true; }
trap cleanup EXIT INT TERM
if [ "${DEMO_TRAFFIC:-1}" = 1 ]; then
    "$PY" "$here/setup/demo.py" --odoo "http://localhost:$port" --db "$db" \
        --addons-path "$ADDONS_PATH" &
    driver_pid=$!
fi
echo "[run] Odoo on http://localhost:$port (database $db, login admin / admin)"
"$PY" "$ODOO_SRC/odoo-bin" -c "$conf" -d "$db"
