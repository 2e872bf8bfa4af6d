#!/usr/bin/env bash
# Milestones turned into billing events and invoiced, and freight invoices audited: time and
# memory against plain ORM creation of the same records (see bench_billing.py).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../setup/env.sh"
"$here/setup/pg_ensure.sh"
mkdir -p "$here/var"
conf="$here/var/bench-billing.conf"
write_config "$conf" "workers = 0" "max_cron_threads = 0"
export ODOO_SRC
exec "$PY" "$here/tests/benchmarks/bench_billing.py" --conf "$conf" "$@"
