"""Events waiting for an exception of their shipment from before an event remembered which:
the exception their reason names becomes the one holding them, so that superseding it
releases them (see logistics.billing.event._logistics_relink_holds). Run before the
integration's end script supersedes the failures already solved."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["logistics.billing.event"]._logistics_relink_holds()
