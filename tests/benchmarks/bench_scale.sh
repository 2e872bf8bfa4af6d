#!/usr/bin/env bash
# The integration base with 1,000,000 messages (SCALE_ROWS): retention purge against a plain
# SQL DELETE, webhook intake against an empty table, and the operator's screens (see
# bench_scale.py). About 15 minutes on 2 cores at the default size.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../setup/env.sh"
"$here/setup/pg_ensure.sh"
mkdir -p "$here/var"
db="logistics_bench_scale_$$"
conf="$here/var/bench-scale-$$.conf"
trap 'rm -f "$conf"' EXIT
write_server_config "$conf" "$db" \
    "log_handler = werkzeug:INFO" \
    "limit_time_real = 600" \
    "limit_time_cpu = 300" \
    "logistics_metrics_token = bench-scale-metrics-token"
export ODOO_SRC
"$PY" "$here/tests/benchmarks/bench_scale.py" --conf "$conf" "$@"
