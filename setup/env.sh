# Shared settings of the setup scripts (sourced, not run).
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ODOO_SRC=${ODOO_SRC:-/opt/odoo}
VENV=${VENV:-$here/.venv}
PY="$VENV/bin/python"
if [ ! -x "$PY" ] || [ ! -f "$ODOO_SRC/odoo-bin" ]; then
    echo "Run setup/bootstrap.sh first (no virtualenv at $VENV or no Odoo at $ODOO_SRC)." >&2
    exit 2
fi
SITE_ADDONS=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"] + "/odoo/addons")')
ADDONS_PATH="$here,$ODOO_SRC/addons,$ODOO_SRC/odoo/addons,$SITE_ADDONS"
# Every folder at the repository root with a manifest is a suite module.
SUITE_MODULES=$(cd "$here" && for m in logistics_*/__manifest__.py; do dirname "$m"; done | paste -sd, -)
export PYTHONPATH="$here/tests${PYTHONPATH:+:$PYTHONPATH}"

free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# write_config FILE [extra option lines...]
write_config() {
    local file=$1; shift
    {
        echo "[options]"
        echo "addons_path = $ADDONS_PATH"
        echo "data_dir = $here/var/data"
        echo "logistics_secret_key = ${LOGISTICS_SECRET_KEY:-dev-only-key-change-me}"
        echo "server_wide_modules = base,web,queue_job"
        for line in "$@"; do echo "$line"; done
    } > "$file"
}

# write_server_config FILE DB [OPTION...]: an Odoo server on loopback serving only DB as a
# deployment runs it (prefork, 2 HTTP workers, no cron thread, queue_job's runner on 2
# channels), for the benchmarks and the scale-out scenario; OPTIONs go to [options].
write_server_config() {
    local file=$1 db=$2; shift 2
    write_config "$file" \
        "workers = 2" \
        "max_cron_threads = 0" \
        "http_interface = 127.0.0.1" \
        "http_port = $(free_port)" \
        "gevent_port = $(free_port)" \
        "db_name = $db" \
        "dbfilter = ^$db\$" \
        "list_db = False" \
        "log_level = warn" \
        "$@" \
        "" \
        "[queue_job]" \
        "channels = root:2"
}
