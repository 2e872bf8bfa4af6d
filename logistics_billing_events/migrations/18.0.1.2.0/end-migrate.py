"""Events still waiting for an exception that is superseded (superseded before its events
were released on superseding) are released, or held by another exception of their shipment
still open (see logistics.billing.event._logistics_release_superseded_holds). Runs after the
integration's end script, which supersedes the failures already solved."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["logistics.billing.event"]._logistics_release_superseded_holds()
