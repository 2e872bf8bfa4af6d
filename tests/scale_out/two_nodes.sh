#!/usr/bin/env bash
# Two Odoo nodes on one database with the queue_job runner; node A is killed mid-way and
# restarted: nothing may be lost or duplicated (see two_nodes.py).
#
#   tests/scale_out/two_nodes.sh [--webhooks 300] [--messages 100] [--threads 3]
#                                [--twin-every 10] [--kill-at 0.4] [--down 3] [--deadline 180]
#   KEEP_DB=1 tests/scale_out/two_nodes.sh     # keep the database afterwards
#
# Creates a fresh database with logistics_integration_base, writes one configuration per
# node (same database, own HTTP and gevent ports, 2 workers, the job runner on), runs
# two_nodes.py and, on any exit (success, failure, Ctrl-C, kill), stops what it started and
# drops the database. Ends with "N passed, N failed"; exits non-zero on failure.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../setup/env.sh"
"$here/setup/pg_ensure.sh" || exit 2
mkdir -p "$here/var"
db="logistics_twonode_$$"
conf_a="$here/var/two-nodes-$$-a.conf"
conf_b="$here/var/two-nodes-$$-b.conf"
pidfile="$here/var/two-nodes-$$.pids"  # process groups of the nodes, kept by two_nodes.py
log="$here/var/two-nodes-$$-install.log"
py_pid=""

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$py_pid" ] && kill -0 "$py_pid" 2>/dev/null; then
        kill -TERM "$py_pid" 2>/dev/null  # its finally clauses stop the nodes
        for _ in $(seq 1 40); do kill -0 "$py_pid" 2>/dev/null || break; sleep 0.5; done
        kill -KILL "$py_pid" 2>/dev/null
    fi
    # A node two_nodes.py could not stop (it was killed itself): its whole process group,
    # only when that group still runs an odoo-bin with this run's configuration.
    if [ -s "$pidfile" ]; then
        while read -r pgid; do
            [ -n "$pgid" ] || continue
            if pgrep -g "$pgid" -f "two-nodes-$$-" >/dev/null 2>&1; then
                kill -KILL -- "-$pgid" 2>/dev/null
            fi
        done <"$pidfile"
    fi
    if [ "${KEEP_DB:-0}" = 1 ]; then
        echo "[two-nodes] kept database $db (configurations: $conf_a $conf_b)"
    else
        dropdb --if-exists --force "$db" >/dev/null 2>&1
        rm -rf "$here/var/data/filestore/$db"
        rm -f "$conf_a" "$conf_b"
    fi
    rm -f "$pidfile"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# both nodes serve the same database, each on its own ports
write_server_config "$conf_a" "$db"
write_server_config "$conf_b" "$db"
: >"$pidfile"

echo "[two-nodes] installing logistics_integration_base into $db..."
t0=$SECONDS
dropdb --if-exists --force "$db" >/dev/null 2>&1
if ! "$PY" "$ODOO_SRC/odoo-bin" -c "$conf_a" -d "$db" -i logistics_integration_base \
    --without-demo=all --stop-after-init --log-level=warn >"$log" 2>&1; then
    echo "[two-nodes] the installation failed (log: $log):" >&2
    grep -A30 -m1 "Traceback" "$log" | tail -20 >&2
    echo "0 passed, 1 failed"
    exit 1
fi
rm -f "$log"
echo "[two-nodes]   installed in $((SECONDS - t0)) s"

export ODOO_SRC
export PYTHONPATH="$here/tests/benchmarks:$PYTHONPATH"  # bench_base.py: the server helpers
"$PY" "$here/tests/scale_out/two_nodes.py" --conf-a "$conf_a" --conf-b "$conf_b" \
    --pidfile "$pidfile" "$@" &
py_pid=$!
wait "$py_pid"
rc=$?
py_pid=""
exit "$rc"
