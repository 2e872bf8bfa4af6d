"""``customs.status``: what the broker or customs say about a declaration."""

from odoo.addons.logistics_integration_base.exceptions import BusinessError, NeedsAttention
from odoo.addons.logistics_integration_base.handlers import MessageHandler, register_handler

from ..formats import edifact
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
            status=self.missing_reason_status(data),
            ref=data["reference"],
        )

    def missing_reason_status(self, data):
        return data["status"] or ", ".join(
            edifact.describe_code(code) for code in data.get("codes") or []
        )

    def status_of(self, data, declaration):
        """The status the partner's codes say under the backend's mapping as it is now (a
        message failed for an unknown code reads it again on Retry); the payload's own
        status when it carries no codes."""
        if not data.get("codes"):
            if not data.get("status"):
                raise BusinessError(
                    self.env._(
                        "Customs broker %(backend)s sent a response for declaration %(name)s "
                        "without a status. Ask the broker what it meant, then ignore this "
                        "message.",
                        backend=self.backend.name,
                        name=declaration.name,
                    )
                )
            return data["status"]
        status, unknown = edifact.resolve_status(data["codes"], self.backend._customs_status_map())
        if unknown:
            raise BusinessError(
                self.env._(
                    "Customs broker %(backend)s answered declaration %(name)s with %(codes)s, "
                    "which its response codes do not map. Add the code to the backend's "
                    "Customs response codes (Logistics > Customs > Response codes) with the "
                    "status it means in the broker's guide, then press Retry.",
                    backend=self.backend.name,
                    name=declaration.name,
                    codes=", ".join(edifact.describe_code(code) for code in unknown),
                )
            )
        if status is None:
            raise BusinessError(
                self.env._(
                    "Customs broker %(backend)s answered declaration %(name)s with %(codes)s, "
                    "none of which says a status in the backend's Customs response codes. "
                    "Map the one that does (Logistics > Customs > Response codes), then "
                    "press Retry.",
                    backend=self.backend.name,
                    name=declaration.name,
                    codes=", ".join(edifact.describe_code(code) for code in data["codes"])
                    or self.env._("no status code"),
                )
            )
        return status

    def process(self, data, record):
        declaration = record
        self.link(declaration)
        data = dict(data, status=self.status_of(data, declaration))
        applied = declaration._logistics_apply_status(data, self.message)
        if applied and declaration.state in NEEDS_SOMEONE:
            raise NeedsAttention(declaration._logistics_todo())
        return self.env._(
            "%(name)s: %(status)s%(late)s",
            name=declaration.name,
            status=data["status"],
            late="" if applied else self.env._(" (late, history only)"),
        )
