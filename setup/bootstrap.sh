#!/usr/bin/env bash
# Set up everything the suite needs to run and be tested, on a Debian/Ubuntu machine.
#
#   setup/bootstrap.sh
#
# - installs the Debian build packages (and PostgreSQL) when they are missing,
# - starts PostgreSQL when it is not running,
# - takes Odoo 18.0 from $ODOO_SRC (default /opt/odoo) or clones the official 18.0 branch there,
# - creates the git-ignored virtualenv .venv/ in the repository and installs Odoo's
#   requirements, Odoo itself, OCA queue_job 18.0 and requirements.txt into it.
#
# Running it again is quick: each step checks first and does nothing when already done.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ODOO_SRC=${ODOO_SRC:-/opt/odoo}
VENV=${VENV:-$here/.venv}
PYTHON=${PYTHON:-python3}
say() { printf '[bootstrap] %s\n' "$*"; }

# 1. Debian packages -------------------------------------------------------------------------
need_pkgs=()
for p in libpq-dev libldap2-dev libsasl2-dev git; do
    dpkg -s "$p" >/dev/null 2>&1 || need_pkgs+=("$p")
done
if ! command -v pg_ctlcluster >/dev/null 2>&1 && ! command -v pg_ctl >/dev/null 2>&1; then
    need_pkgs+=(postgresql)
fi
# headless Chromium for Odoo's browser tests (HttpCase tours)
if ! command -v chromium >/dev/null 2>&1 && ! command -v google-chrome >/dev/null 2>&1; then
    need_pkgs+=(chromium)
fi
# wkhtmltopdf for Odoo's PDF reports (the customs commercial invoice)
if ! command -v wkhtmltopdf >/dev/null 2>&1; then
    need_pkgs+=(wkhtmltopdf)
fi
# nginx and openssl for the deployment check (setup/deploy/check.sh runs the shipped site)
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
    need_pkgs+=(nginx)
fi
command -v openssl >/dev/null 2>&1 || need_pkgs+=(openssl)
if [ ${#need_pkgs[@]} -gt 0 ]; then
    say "installing Debian packages: ${need_pkgs[*]}"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

# 2. PostgreSQL running ----------------------------------------------------------------------
"$here/setup/pg_ensure.sh"

# 3. Odoo 18.0 source ------------------------------------------------------------------------
if [ ! -f "$ODOO_SRC/odoo/release.py" ]; then
    say "no Odoo at $ODOO_SRC: cloning the official 18.0 branch"
    git clone --depth 1 --branch 18.0 https://github.com/odoo/odoo.git "$ODOO_SRC"
fi
grep -q "^version_info = (18, 0" "$ODOO_SRC/odoo/release.py" \
    || { echo "[bootstrap] $ODOO_SRC is not Odoo 18.0" >&2; exit 1; }

# 4. Virtualenv and Python packages --------------------------------------------------------
if [ ! -x "$VENV/bin/python" ]; then
    say "creating virtualenv $VENV"
    "$PYTHON" -m venv "$VENV"
fi
queue_job_dir() {
    "$VENV/bin/python" - <<'PY' 2>/dev/null
import glob, sysconfig
print(next(iter(glob.glob(sysconfig.get_paths()["purelib"] + "/odoo/addons/queue_job/__manifest__.py")), ""))
PY
}
# A stamp of everything that decides the installed set: when it is unchanged, nothing to do.
stamp_src=$( { cat "$ODOO_SRC/requirements.txt" "$here/requirements.txt"; echo "$ODOO_SRC"; } | sha256sum | cut -d' ' -f1)
stamp_file="$VENV/.logistics-bootstrap-stamp"
if [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$stamp_src" ] \
        && "$VENV/bin/python" -c "import odoo, jsonschema, paramiko, pkg_resources
pkg_resources.get_distribution('zope.interface')" 2>/dev/null \
        && [ -n "$(queue_job_dir)" ]; then
    say "virtualenv up to date"
else
    constraint=$(mktemp)
    echo "setuptools<70" > "$constraint"
    export PIP_CONSTRAINT="$constraint"
    pip() {  # quiet pip; drop the warnings about local index folders that do not list a package
        local log rc=0
        log=$(mktemp)
        "$VENV/bin/python" -m pip install -q --disable-pip-version-check "$@" >"$log" 2>&1 || rc=$?
        grep -v "is ignored: it is neither a file nor a directory" "$log" || true
        rm -f "$log"
        return "$rc"
    }
    say "installing build tools"
    pip "setuptools<70" wheel
    say "installing Odoo requirements (first run: several minutes)"
    pip -r "$ODOO_SRC/requirements.txt"
    say "installing Odoo from $ODOO_SRC"
    pip --no-deps --no-build-isolation -e "$ODOO_SRC"
    say "installing OCA queue_job 18.0 and the suite's requirements"
    pip -r "$here/requirements.txt"
    rm -f "$constraint"
    unset PIP_CONSTRAINT
    # setuptools<70 was only needed to build old sdists. Its pkg_resources cannot find
    # distributions with normalised names (zope_interface-*.dist-info), which makes Odoo's
    # gevent process crash at start when running with workers: use a current one.
    say "updating setuptools"
    pip "setuptools>=70,<81"
    echo "$stamp_src" > "$stamp_file"
fi
say "ready: Odoo $("$VENV/bin/python" -c 'import odoo.release as r; print(r.version)') in $VENV"
