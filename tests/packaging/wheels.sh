#!/usr/bin/env bash
# Install the suite the way an Odoo administrator installs OCA addons, and prove it works:
#
# 1. builds one wheel per addon (odoo-addon-<name>, whool build backend, pyproject.toml
#    beside each __manifest__.py) into var/wheels/;
# 2. creates a fresh virtualenv (outside the checkout) holding only Odoo 18.0 ($ODOO_SRC,
#    installed with pip as OCA's own CI does) and its requirements;
# 3. pip-installs the suite's wheels there: pip takes odoo-addon-queue_job and the external
#    Python dependencies from the package index, per the wheels' metadata;
# 4. runs tests/packaging/smoke.py with that virtualenv's Python: Odoo's own `odoo -i`
#    installs every suite module into a new database with NO addons_path naming this
#    checkout (the addons come from the wheels only), then a server takes a release to a
#    3PL and the 3PL's signed webhook.
#
#   tests/packaging/wheels.sh          # ends with "N passed, N failed"
#   KEEP_DB=1 tests/packaging/wheels.sh
#   REUSE_VENV=1 tests/packaging/wheels.sh   # keep the fresh virtualenv's Odoo (iterating only)
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../setup/env.sh"
"$here/setup/pg_ensure.sh" || exit 2
dist="$here/var/wheels"
# outside the checkout: nothing of it may be where Odoo finds the suite
fresh="${WHEELS_VENV:-${TMPDIR:-/tmp}/logistics-wheel-venv}"
log="$here/var/wheels-$$.log"
mkdir -p "$here/var"
: >"$log"
quiet_pip() {  # pip's output goes to the log; its warnings about local index folders are noise
    "$@" -q --disable-pip-version-check >>"$log" 2>&1 || {
        grep -v "is ignored: it is neither a file nor a directory" "$log" | tail -30 >&2
        echo "0 passed, 1 failed"
        exit 1
    }
}

echo "[wheels] building one wheel per addon into $dist"
rm -rf "$dist"
mkdir -p "$dist"
addons=$(cd "$here" && for m in logistics_*/__manifest__.py; do dirname "$m"; done)
# Versions are the manifests' (OCA's CI adds .postN/.devN from git history: not needed here).
export WHOOL_POST_VERSION_STRATEGY_OVERRIDE=none
# shellcheck disable=SC2086
quiet_pip "$VENV/bin/python" -m pip wheel --no-deps -w "$dist" $(for a in $addons; do echo "$here/$a"; done)
ls "$dist"

if [ "${REUSE_VENV:-0}" = 1 ] && [ -x "$fresh/bin/odoo" ]; then
    echo "[wheels] reusing $fresh; removing the suite's wheels from it"
    "$fresh/bin/python" -m pip uninstall -y -q $(for a in $addons; do echo "odoo-addon-$a"; done) \
        >>"$log" 2>&1
else
echo "[wheels] a fresh virtualenv with Odoo only: $fresh"
rm -rf "$fresh"
"$PY" -m venv "$fresh"
constraint=$(mktemp)
echo "setuptools<70" >"$constraint"  # as setup/bootstrap.sh: old sdists among Odoo's pins
PIP_CONSTRAINT="$constraint" quiet_pip "$fresh/bin/python" -m pip install "setuptools<70" wheel
PIP_CONSTRAINT="$constraint" quiet_pip "$fresh/bin/python" -m pip install -r "$ODOO_SRC/requirements.txt"
quiet_pip "$fresh/bin/python" -m pip install --no-deps --no-build-isolation -e "$ODOO_SRC"
quiet_pip "$fresh/bin/python" -m pip install "setuptools>=70,<81"
rm -f "$constraint"
fi

echo "[wheels] pip install the suite's wheels (dependencies from the index)"
# shellcheck disable=SC2046
quiet_pip "$fresh/bin/python" -m pip install --find-links "$dist" \
    $(for a in $addons; do echo "odoo-addon-$a"; done)
"$fresh/bin/python" -m pip list 2>/dev/null | grep -E "^(odoo|odoo-addon-|jsonschema|paramiko|pydifact)" 

# The partner stand-ins (tests/logistics_simulators) are not part of the product: the smoke
# test imports them from the checkout; the Odoo it starts never sees the checkout.
PYTHONPATH="$here/tests" "$PY" "$here/tests/packaging/smoke.py" \
    --odoo-bin "$fresh/bin/odoo" --python "$fresh/bin/python" --modules "$(echo $addons | tr ' ' ',')" \
    --checkout "$here" --workdir "$here/var"
rc=$?
[ "$rc" -eq 0 ] && rm -f "$log"
exit "$rc"
