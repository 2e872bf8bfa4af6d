#!/usr/bin/env bash
# Linters of the suite: ruff (format and lint), pylint with the Odoo 18.0 checks
# (pylint-odoo), and each addon's README.rst and static/description/index.html matching its
# readme/*.md fragments (setup/readme_gen.py --check). Exits non-zero when any of them finds
# something.
#
#   setup/lint.sh
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$here"
rc=0
echo "[lint] ruff check"
"$VENV/bin/ruff" check . || rc=1
echo "[lint] ruff format --check"
"$VENV/bin/ruff" format --check . || rc=1
echo "[lint] pylint-odoo"
addons=$(for m in logistics_*/__manifest__.py tests/addons/*/__manifest__.py; do dirname "$m"; done)
# shellcheck disable=SC2086
"$VENV/bin/pylint" --rcfile=.pylintrc $addons || rc=1
echo "[lint] README.rst and index.html generated from readme/*.md"
"$PY" setup/readme_gen.py --check || rc=1
echo "[lint] translation templates hold every sentence of the code; French translation complete"
"$PY" setup/i18n_check.py --all-modules || rc=1
if [ "$rc" -ne 0 ]; then
    echo "[lint] failed" >&2
else
    echo "[lint] clean"
fi
exit "$rc"
