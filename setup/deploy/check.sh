#!/usr/bin/env bash
# Checks the shipped production configuration (setup/deploy/): nginx -t on the nginx site,
# the site run on loopback in front of a recording upstream (what the public door forwards
# and refuses), odoo.conf rendered from the environment and read by Odoo's parser, and the
# systemd unit and logrotate file when their tools are on the machine. Installs nothing
# (nginx comes from setup/bootstrap.sh). Ends with "deploy: N passed, N failed".
#
#   setup/deploy/check.sh            # about 5 seconds
#   setup/deploy/check.sh --odoo     # also a real Odoo with that configuration behind the
#                                    # site, on a fresh database dropped afterwards (2 minutes)
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../env.sh"
export ADDONS_PATH ODOO_SRC
if [[ " $* " == *" --odoo "* ]]; then
    "$here/setup/pg_ensure.sh" || exit 2
fi
exec "$PY" "$here/setup/deploy/check.py" "$@"
