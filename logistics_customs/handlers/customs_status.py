"""``customs.status``: what the broker or customs say about a declaration."""

from odoo.addons.logistics_integration_base.exceptions import NeedsAttention
from odoo.addons.logistics_integration_base.handlers import MessageHandler, register_handler

from ..models.logistics_customs_declaration import NEEDS_SOMEONE


@register_handler("customs.status")
class CustomsStatusHandler(MessageHandler):
    """An unknown declaration is a business error, processed again by itself once the
    declaration is sent (see ``_logistics_replay_waiting_statuses``); a status that
    arrives after a later one is kept in the history only. A broker speaks only of the
    declarations sent to it."""

    out_of_order = "fail"

    def find_record(self, data):
        return (
            self.env["logistics.customs.declaration"]
            .sudo()
            # a draft was never sent: the broker cannot be speaking of it yet; another
            # broker (of this company or another) does not speak for this one
            .search(
                [
                    ("name", "=", data["reference"]),
                    ("backend_id", "=", self.backend.id),
                    ("state", "!=", "draft"),
                ],
                limit=1,
            )
        )

    def missing_reason(self, data):
        return self.env._(
            "Customs broker %(backend)s sent %(status)s for declaration %(ref)s, which Odoo "
            "does not know (yet). It is processed again by itself once the declaration is "
            "sent; if it never is, ignore this message.",
            backend=self.backend.name,
            status=data["status"],
            ref=data["reference"],
        )

    def process(self, data, record):
        declaration = record
        self.link(declaration)
        applied = declaration._logistics_apply_status(data, self.message)
        if applied and declaration.state in NEEDS_SOMEONE:
            raise NeedsAttention(declaration._logistics_todo())
        return self.env._(
            "%(name)s: %(status)s%(late)s",
            name=declaration.name,
            status=data["status"],
            late="" if applied else self.env._(" (late, history only)"),
        )
