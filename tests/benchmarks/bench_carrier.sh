#!/usr/bin/env bash
# What the carrier connector adds to a rate request, and how fast tracking events are applied
# (see bench_carrier.py).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../setup/env.sh"
"$here/setup/pg_ensure.sh"
mkdir -p "$here/var"
conf="$here/var/bench-carrier.conf"
write_config "$conf" "workers = 0" "max_cron_threads = 0"
export ODOO_SRC
exec "$PY" "$here/tests/benchmarks/bench_carrier.py" --conf "$conf" "$@"
