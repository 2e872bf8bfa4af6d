"""Personal values of stored messages move out of the texts every Logistics user reads:
each payload, body and answer is stored again masked, its clear text in the field only the
personal-data group reads (see logistics.message._split_personal)."""

from odoo import SUPERUSER_ID, api
from odoo.tools import split_every


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    from odoo.addons.logistics_integration_base.models.logistics_message import PERSONAL_TEXTS

    cr.execute(
        "SELECT id FROM logistics_message WHERE payload IS NOT NULL "
        "OR raw_payload IS NOT NULL OR response_payload IS NOT NULL ORDER BY id"
    )
    ids = [row[0] for row in cr.fetchall()]
    Message = env["logistics.message"].with_context(tracking_disable=True)
    for batch in split_every(1000, ids):
        for message in Message.browse(batch):
            vals = {name: message[name] for name in PERSONAL_TEXTS if message[name]}
            if vals:
                message.write(vals)
        env.flush_all()
        env.invalidate_all()
