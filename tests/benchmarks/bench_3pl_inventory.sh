#!/usr/bin/env bash
# Time and peak memory to reconcile a 10,000-SKU 3PL inventory snapshot (see bench_3pl_inventory.py).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../setup/env.sh"
"$here/setup/pg_ensure.sh"
mkdir -p "$here/var"
conf="$here/var/bench-inventory.conf"
write_config "$conf" "workers = 0" "max_cron_threads = 0"
export ODOO_SRC
exec "$PY" "$here/tests/benchmarks/bench_3pl_inventory.py" --conf "$conf" "$@"
