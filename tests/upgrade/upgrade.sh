#!/usr/bin/env bash
# Upgrade a database of the suite's previous release to the current code, as an
# administrator would (`odoo -u`), and check that nothing was lost:
#
# 1. checks out the previous release (tests/upgrade/FROM: tag, else its commit) into a
#    temporary git worktree;
# 2. installs every suite module of that release into a new database, and seeds it with
#    that release's code (seed.py: a backend with encrypted secrets, a failure a later
#    success solved, an open failure, an inbound event);
# 3. runs `odoo-bin -u <suite modules>` on the current checkout (the modules' migrations/
#    scripts run);
# 4. verify.py on the current code: messages, backends (secrets still decrypt), exceptions
#    kept; the solved failure superseded; versions current. Ends with "N passed, N failed".
#
#   tests/upgrade/upgrade.sh          KEEP_DB=1 tests/upgrade/upgrade.sh
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../setup/env.sh"
"$here/setup/pg_ensure.sh" || exit 2
tag=18.0-2026.12.07
from=$(git -C "$here" rev-parse -q --verify "$tag^{commit}" 2>/dev/null \
    || grep -v '^#' "$here/tests/upgrade/FROM" | head -1)
db="logistics_upgrade_$$"
old=$(mktemp -d)/previous
conf="$here/var/upgrade-$$.conf"
log="$here/var/upgrade-$$.log"
mkdir -p "$here/var"
cleanup() {
    git -C "$here" worktree remove --force "$old" >/dev/null 2>&1
    rm -rf "$(dirname "$old")"
    if [ "${KEEP_DB:-0}" != 1 ]; then
        dropdb --if-exists --force "$db" >/dev/null 2>&1
        rm -rf "$here/var/data/filestore/$db"
    fi
    rm -f "$conf"
}
trap cleanup EXIT
fail() { echo "[upgrade] $1 (log: $log)" >&2; tail -30 "$log" >&2; echo "0 passed, 1 failed"; exit 1; }

echo "[upgrade] previous release: $from"
git -C "$here" worktree add -q --detach "$old" "$from" || fail "cannot check out $from"
old_modules=$(cd "$old" && for m in logistics_*/__manifest__.py; do dirname "$m"; done | paste -sd, -)
addons_old="$old,$ODOO_SRC/addons,$ODOO_SRC/odoo/addons,$SITE_ADDONS"
write_config "$conf" "http_port = $(free_port)" "gevent_port = $(free_port)" "workers = 0" \
    "max_cron_threads = 0"
sed -i "s|^addons_path = .*|addons_path = $addons_old|" "$conf"
dropdb --if-exists --force "$db" >/dev/null 2>&1

echo "[upgrade] installing the previous release's modules: $old_modules"
"$PY" "$ODOO_SRC/odoo-bin" -c "$conf" -d "$db" -i "$old_modules" --without-demo=all \
    --stop-after-init >"$log" 2>&1 || fail "the previous release did not install"
"$PY" "$ODOO_SRC/odoo-bin" shell -c "$conf" -d "$db" --no-http <"$here/tests/upgrade/seed.py" \
    >>"$log" 2>&1
grep -q "^SEEDED" "$log" || fail "seeding the previous release's database failed"

echo "[upgrade] odoo-bin -u on the current code"
sed -i "s|^addons_path = .*|addons_path = $ADDONS_PATH|" "$conf"
"$PY" "$ODOO_SRC/odoo-bin" -c "$conf" -d "$db" -u "$old_modules" -i "$SUITE_MODULES" \
    --stop-after-init >>"$log" 2>&1 || fail "the upgrade failed"
grep -E " (ERROR|CRITICAL) " "$log" | grep -v "^.*odoo.sql_db: bad query" && fail "errors in the upgrade's log"
grep -iE "running migration" "$log" | sed 's/^.*INFO [^ ]* //' | sort -u | head -20

out=$("$PY" "$ODOO_SRC/odoo-bin" shell -c "$conf" -d "$db" --no-http \
    <"$here/tests/upgrade/verify.py" 2>>"$log")
echo "$out" | grep -E "^(PASS|FAIL) "
line=$(echo "$out" | grep -E "^[0-9]+ passed, [0-9]+ failed$" | tail -1)
[ -n "$line" ] || fail "verify.py did not finish"
echo "$line"
case $line in *" 0 failed") rm -f "$log"; exit 0 ;; *) exit 1 ;; esac
