#!/bin/bash
# Entrypoint of the suite's container: writes Odoo's configuration ($ODOO_RC) from the
# template and the container's environment (the secrets), then hands over to the official
# image's entrypoint, which waits for PostgreSQL and passes it HOST, USER and PASSWORD.
set -euo pipefail
python3 /usr/local/bin/render_conf.py /etc/odoo/odoo.conf.template "${ODOO_RC:-/etc/odoo/odoo.conf}"
exec /entrypoint.sh "$@"
