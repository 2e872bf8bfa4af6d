"""What a person reads of a message in the exception queue: the type's label, the short
business reason, the record and its customer, the failure's heading in words, the attempts
made; and the bus notification that refreshes the forms open on a message (or on the
record it concerns) when its state changes."""

from odoo import api, fields, models

from ..handlers.base import MESSAGE_TYPE_LABELS
from ..tools.feedback import notification
from ..tools.wording import first_sentence

BUS_TYPE = "logistics.message/state"
BUS_SUBCHANNEL = "logistics.message"


class LogisticsMessage(models.Model):
    _inherit = "logistics.message"  # pylint: disable=consider-merging-classes-inherited

    # the code stays searchable and exported as it is; people read its label
    message_type = fields.Char(string="Type code")
    type_label = fields.Selection(
        selection="_selection_type_label",
        compute="_compute_type_label",
        store=True,
        index=True,
        string="Type",
        help="What a person calls the message type (e.g. Release to 3PL), as the module "
        "owning the type declares it.",
    )
    error_category = fields.Selection(
        selection=[
            ("technical", "Connection or system problem"),
            ("business", "Business rule"),
            ("validation", "Data to correct"),
            ("auth", "Access refused"),
        ],
    )
    error_heading = fields.Char(compute="_compute_error_heading", string="Failure")
    error_summary = fields.Char(
        compute="_compute_error_summary",
        store=True,
        string="What failed",
        help="The first sentence of the reason: what failed, in the partner's or the "
        "suite's words.",
    )
    record_name = fields.Char(compute="_compute_record_name", string="Record")
    partner_id = fields.Many2one(
        "res.partner",
        compute="_compute_partner_id",
        store=True,
        index="btree_not_null",
        string="Customer",
        help="The contact of the record the message concerns (the delivery's customer).",
    )
    attempt_count = fields.Integer(
        compute="_compute_attempt_count",
        string="Attempts made",
        help="Every attempt listed in the Attempts tab, before and after retries by hand.",
    )

    @api.model
    def _selection_type_label(self):
        return sorted(
            ((code, str(label)) for code, label in MESSAGE_TYPE_LABELS.items()),
            key=lambda item: item[1],
        )

    @api.depends("message_type")
    def _compute_type_label(self):
        for msg in self:
            msg.type_label = msg.message_type if msg.message_type in MESSAGE_TYPE_LABELS else False

    @api.depends("error_message")
    def _compute_error_summary(self):
        for msg in self:
            msg.error_summary = first_sentence(msg.error_message) or False

    @api.depends("error_category", "http_status", "direction", "backend_id")
    def _compute_error_heading(self):
        categories = dict(self._fields["error_category"]._description_selection(self.env))
        for msg in self:
            refused = (
                msg.direction == "out"
                and 400 <= (msg.http_status or 0) < 500
                and msg.error_category in ("validation", "business")
            )
            if refused:
                msg.error_heading = self.env._("Refused by %s", msg.backend_id.name)
            else:
                msg.error_heading = categories.get(msg.error_category) or False

    @api.depends("res_model", "res_id")
    def _compute_record_name(self):
        for msg in self:
            record = msg._related_record() if msg.id else None
            msg.record_name = record.display_name if record else False

    @api.depends("res_model", "res_id")
    def _compute_partner_id(self):
        for msg in self:
            record = msg._related_record() if msg.id else None
            msg.partner_id = record._logistics_exchange_customer() if record else False

    @api.depends("attempt_ids")
    def _compute_attempt_count(self):
        counts = dict(
            self.env["logistics.message.attempt"]
            .sudo()
            ._read_group([("message_id", "in", self.ids)], ["message_id"], ["__count"])
        )
        for msg in self:
            msg.attempt_count = counts.get(msg._origin, 0)

    # what Retry says it did -----------------------------------------------------------------
    def action_retry(self):
        result = super().action_retry()
        if result is True:  # every message retried (a skip is already told, in words)
            return self._retried_notification()
        return result

    def _retried_notification(self):
        if len(self) == 1:
            message = (
                self.env._(
                    "%(message)s is queued to %(partner)s again; this page shows the outcome "
                    "when the partner has answered.",
                    message=self.name,
                    partner=self.backend_id.name,
                )
                if self.direction == "out"
                else self.env._(
                    "%(message)s from %(partner)s is queued to be applied again; this page "
                    "shows the outcome when it is done.",
                    message=self.name,
                    partner=self.backend_id.name,
                )
            )
        else:
            message = self.env._(
                "%s messages are queued again; each one's page shows its outcome when it is done.",
                len(self),
            )
        return notification(self.env._("Retry started"), message)

    # the open forms follow the message's state ------------------------------------------
    def write(self, vals):
        result = super().write(vals)
        if "state" in vals:
            self._notify_state()
        return result

    def _notify_state(self):
        """Tell the web clients of the message's company that these messages changed state
        (ids, state and the record they concern: nothing a user of the company could not
        read): a form open on one of them, or on its record, reloads (see
        ``static/src/message_refresh``). Sent when the transaction commits."""
        Bus = self.env["bus.bus"].sudo()
        for company in self.company_id:
            messages = self.filtered(lambda m, c=company: m.company_id == c)
            Bus._sendone((company, BUS_SUBCHANNEL), BUS_TYPE, messages._state_notice())
        no_company = self.filtered(lambda m: not m.company_id)
        if no_company:
            group = self.env.ref("logistics_integration_base.group_logistics_user")
            Bus._sendone(group, BUS_TYPE, no_company._state_notice())

    def _state_notice(self):
        return [
            {"id": m.id, "state": m.state, "res_model": m.res_model, "res_id": m.res_id}
            for m in self
        ]


class Base(models.AbstractModel):
    _inherit = "base"  # pylint: disable=consider-merging-classes-inherited

    def _logistics_exchange_customer(self):
        """The contact shown beside a message about this record (its ``partner_id`` by
        default, e.g. a delivery's customer); modules override it where another contact is
        meant."""
        self.ensure_one()
        field = self._fields.get("partner_id")
        if field is None or field.type != "many2one" or field.comodel_name != "res.partner":
            return self.env["res.partner"]
        return self.partner_id


class IrWebsocket(models.AbstractModel):
    _inherit = "ir.websocket"

    def _build_bus_channel_list(self, channels):
        """Logistics users hear of the state changes of their companies' messages."""
        channels = super()._build_bus_channel_list(channels)
        user = self.env.user
        if user and user.has_group("logistics_integration_base.group_logistics_user"):
            channels.extend((company, BUS_SUBCHANNEL) for company in user.company_ids)
        return channels
