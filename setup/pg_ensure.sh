#!/usr/bin/env bash
# Start the local PostgreSQL server if it is not accepting connections, and make sure the
# current OS user has a superuser role (Odoo connects over the local socket as that user).
set -euo pipefail
if ! pg_isready -q 2>/dev/null; then
    echo "[pg] PostgreSQL is not running: starting it"
    if command -v pg_ctlcluster >/dev/null 2>&1; then
        for v in /etc/postgresql/*; do
            ver=$(basename "$v")
            pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
        done
    else
        service postgresql start
    fi
    for _ in $(seq 1 30); do pg_isready -q && break; sleep 1; done
    pg_isready -q || { echo "[pg] PostgreSQL did not start" >&2; exit 1; }
fi
me=$(id -un)
if ! psql -d postgres -tAc "select 1" >/dev/null 2>&1; then
    echo "[pg] creating superuser role $me"
    if [ "$(id -u)" -eq 0 ]; then
        su postgres -c "createuser -s $me" || true
    else
        sudo -u postgres createuser -s "$me" || true
    fi
fi
