"""Personal values of stored messages move out of the texts every Logistics user reads:
each payload, body and answer is stored again masked, its clear text in the field only the
personal-data group reads (see logistics.message._split_personal). The circuit breaker's
state moves to its own table."""

from odoo import SUPERUSER_ID, api
from odoo.tools import split_every


def migrate(cr, version):
    if not version:
        return
    migrate_circuit(cr)
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


def migrate_circuit(cr):
    """The circuit breaker's state moves to a table of its own (logistics_backend_circuit,
    created by the model): the counts stored on the backends are carried over."""
    cr.execute(
        "SELECT 1 FROM information_schema.columns WHERE table_name = 'logistics_backend' "
        "AND column_name = 'circuit_failures'"
    )
    if cr.fetchone():
        cr.execute(
            "INSERT INTO logistics_backend_circuit (backend_id, failures, open_until) "
            "SELECT id, COALESCE(circuit_failures, 0), circuit_open_until FROM logistics_backend "
            "WHERE COALESCE(circuit_failures, 0) > 0 OR circuit_open_until IS NOT NULL "
            "ON CONFLICT (backend_id) DO NOTHING"
        )
