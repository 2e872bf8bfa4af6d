#!/usr/bin/env bash
# What the integration base costs on its hot paths: webhook intake and outbound through
# queue_job, each against a bare Odoo baseline (see bench_base.py).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../setup/env.sh"
"$here/setup/pg_ensure.sh"
ADDONS_PATH="$ADDONS_PATH,$here/tests/addons"  # the test-only logistics_bench addon
mkdir -p "$here/var"
db="logistics_bench_base_$$"
conf="$here/var/bench-base-$$.conf"
trap 'rm -f "$conf"' EXIT
write_server_config "$conf" "$db"
export ODOO_SRC
"$PY" "$here/tests/benchmarks/bench_base.py" --conf "$conf" "$@"
