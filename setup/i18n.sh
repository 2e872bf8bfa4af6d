#!/usr/bin/env bash
# Export the suite's translation templates with Odoo's own exporter and merge the
# translations with them:
#
#   setup/i18n.sh            # a fresh database with every suite module, then for each module:
#                            #   i18n/<module>.pot  <- odoo-bin --i18n-export
#                            #   i18n/<lang>.po     <- msgmerge with the new template
#   I18N_DB=name setup/i18n.sh   # use (and keep) that database instead, if it has the suite
#
# New sentences arrive untranslated in each .po: translate them, then
# `.venv/bin/python setup/i18n_check.py` (part of setup/lint.sh) says what is missing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$here/setup/pg_ensure.sh"
db=${I18N_DB:-logistics_i18n_$$}
conf="$here/var/i18n-$$.conf"
mkdir -p "$here/var"
write_config "$conf" "http_port = $(free_port)" "gevent_port = $(free_port)"
cleanup() {
    rm -f "$conf"
    [ -n "${I18N_DB:-}" ] || dropdb --if-exists --force "$db" >/dev/null 2>&1
}
trap cleanup EXIT
installed() {
    psql -d "$db" -tAc "select count(*) from ir_module_module where state = 'installed' \
        and name like 'logistics\_%'" 2>/dev/null || echo 0
}
if [ "$(installed)" -lt "$(echo "$SUITE_MODULES" | tr ',' '\n' | wc -l)" ]; then
    echo "[i18n] installing the suite into $db"
    "$PY" "$ODOO_SRC/odoo-bin" -c "$conf" -d "$db" -i "$SUITE_MODULES" --without-demo=all \
        --stop-after-init --log-level=warn
fi
for module in ${SUITE_MODULES//,/ }; do
    pot="$here/$module/i18n/$module.pot"
    mkdir -p "$(dirname "$pot")"
    "$PY" "$ODOO_SRC/odoo-bin" -c "$conf" -d "$db" --i18n-export="$pot" --modules="$module" \
        --stop-after-init --log-level=warn
    for po in "$here/$module"/i18n/*.po; do
        [ -e "$po" ] || continue
        msgmerge --quiet --no-fuzzy-matching --no-wrap --update --backup=none "$po" "$pot"
    done
    echo "[i18n] $module: $(grep -c '^msgid' "$pot") entries"
done
