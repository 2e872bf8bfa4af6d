#!/usr/bin/env bash
# What releasing to a 3PL adds to confirming deliveries, measured in alternating rounds
# with and without the connector (see bench_3pl_release.py).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../setup/env.sh"
"$here/setup/pg_ensure.sh"
mkdir -p "$here/var"
conf="$here/var/bench-release.conf"
write_config "$conf" "workers = 0" "max_cron_threads = 0"
export ODOO_SRC
exec "$PY" "$here/tests/benchmarks/bench_3pl_release.py" --conf "$conf" "$@"
