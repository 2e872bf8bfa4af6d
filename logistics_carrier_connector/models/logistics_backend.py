import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.logistics_integration_base.adapters import POLL, get_adapter_class
from odoo.addons.logistics_integration_base.exceptions import TransportError
from odoo.addons.logistics_integration_base.tools import secrets as secret_box
from odoo.addons.logistics_integration_base.tools.own_transaction import in_a_test

from .logistics_carrier_tracking_event import TERMINAL

_logger = logging.getLogger(__name__)


class LogisticsBackend(models.Model):
    _inherit = "logistics.backend"

    provider = fields.Selection(
        selection_add=[
            ("easypost", "EasyPost (REST)"),
            ("classic_soap", "Classic carrier web service (SOAP)"),
        ],
        ondelete={"easypost": "set default", "classic_soap": "set default"},
    )
    webhook_scheme = fields.Selection(
        selection_add=[("easypost_hmac", "EasyPost (X-Hmac-Signature)")],
        ondelete={"easypost_hmac": "set default"},
    )
    carrier_followed_codes = fields.Char(
        string="Follows carriers",
        help="Carrier codes (comma-separated, e.g. USPS, UPS) whose parcels this backend "
        "can track when Odoo did not book them, e.g. parcels a 3PL shipped.",
    )
    carrier_poll_stop_days = fields.Integer(
        string="Stop polling after (days without news)",
        default=30,
        help="Parcels the carrier says nothing about for this long are no longer polled.",
    )
    carrier_label_format = fields.Selection(
        [("PDF", "PDF"), ("ZPL", "ZPL (thermal printers)")],
        string="Label format",
        default="PDF",
        help="Format of the shipping labels the carrier returns, one per package.",
    )
    carrier_booking_mode = fields.Selection(
        [
            ("on_validation", "When the delivery is validated (the user waits for the label)"),
            ("queued", "Queued after validation (validation never waits on the carrier)"),
        ],
        string="Booking",
        default="on_validation",
        required=True,
        help="Queued: validating a delivery queues its booking as a message, sent and retried "
        "like any other; the tracking number and labels appear on the delivery once the "
        "carrier has booked, and a refused booking lands in the exception queue, linked to "
        "the delivery.",
    )
    carrier_last_poll_at = fields.Datetime(string="Last tracking poll", readonly=True, copy=False)
    carrier_last_poll_error = fields.Text(
        string="Last tracking poll error",
        readonly=True,
        copy=False,
        help="Why the last time Odoo asked this carrier for tracking news failed; empty once "
        "it works again.",
    )
    carrier_parcel_ids = fields.One2many(
        "logistics.carrier.parcel", "backend_id", string="Booked parcels"
    )
    carrier_parcel_count = fields.Integer(
        compute="_compute_carrier_parcel_count", string="Number of booked parcels"
    )

    def _compute_carrier_parcel_count(self):
        counts = {
            backend.id: count
            for backend, count in self.env["logistics.carrier.parcel"]._read_group(
                [("backend_id", "in", self.ids)], ["backend_id"], ["__count"]
            )
        }
        for backend in self:
            backend.carrier_parcel_count = counts.get(backend.id, 0)

    # dashboard tiles (also metrics gauges) ------------------------------------------------
    tile_never_scanned = fields.Integer(
        compute="_compute_tile_fields", string="Parcels never scanned after a day"
    )
    tile_tracking_exceptions = fields.Integer(
        compute="_compute_tile_fields", string="Parcels in delivery exception"
    )
    tile_silent = fields.Integer(compute="_compute_tile_fields", string="Parcels silent for 3 days")

    def _logistics_dashboard_capabilities(self):
        caps = super()._logistics_dashboard_capabilities()
        if self.kind == "carrier":
            caps.add("parcels")
        return caps

    def _logistics_business_tiles(self):
        now = fields.Datetime.now()
        day_ago = fields.Datetime.to_string(now - timedelta(days=1))
        three_days_ago = fields.Datetime.to_string(now - timedelta(days=3))
        on_the_way = ("label_created", "picked_up", "in_transit", "out_for_delivery")
        return super()._logistics_business_tiles() + [
            {
                "key": "never_scanned",
                "label": self.env._("Parcels never scanned after a day"),
                "model": "logistics.carrier.parcel",
                "domain": [
                    ("state", "in", ("booked", "followed")),
                    ("is_return", "=", False),  # a return label waits for the customer
                    ("create_date", "<", day_ago),
                    "|",
                    ("tracking_state", "=", False),
                    ("tracking_state", "=", "label_created"),
                ],
                "filters": ["in_carrier_hands", "never_scanned"],
                "backend_field": "backend_id",
            },
            {
                "key": "tracking_exceptions",
                "label": self.env._("Parcels in delivery exception"),
                "model": "logistics.carrier.parcel",
                "domain": [
                    ("state", "in", ("booked", "followed")),
                    ("tracking_state", "=", "exception"),
                ],
                "filters": ["in_carrier_hands", "tracking_exception"],
                "backend_field": "backend_id",
            },
            {
                "key": "silent",
                "label": self.env._("Parcels silent for 3 days"),
                "model": "logistics.carrier.parcel",
                "domain": [
                    ("state", "in", ("booked", "followed")),
                    ("tracking_state", "in", on_the_way),
                    ("last_event_at", "<", three_days_ago),
                ],
                "filters": ["in_carrier_hands", "silent"],
                "backend_field": "backend_id",
            },
        ]

    # tracking by polling -------------------------------------------------------------------------
    POLL_BATCH = 100

    def _carrier_followed_codes(self):
        self.ensure_one()
        return {
            c.strip().upper() for c in (self.carrier_followed_codes or "").split(",") if c.strip()
        }

    def _cron_poll_carrier_tracking(self):
        """Ask each carrier backend about its parcels still on their way, a batch per
        backend and run (oldest news first); the news goes through the one inbound path.
        Parcels that reached a final milestone or stayed silent too long stop being
        polled. Each backend's poll stands on its own: its news is committed (a savepoint
        in tests) before the next backend is asked, and a backend that fails (down,
        refusing, timing out) is recorded on it and its chatter while the others go on;
        the cron itself never fails for a carrier."""
        commit = not in_a_test(self.env.cr)  # tests run in one transaction
        polled = 0
        for backend in self.sudo().search([("kind", "=", "carrier")]):
            try:
                adapter_class = get_adapter_class(backend.provider, backend.protocol, self.env)
            except TransportError:
                continue  # no adapter installed for its provider: nothing to ask
            if not adapter_class.supports(POLL):
                continue
            error = None
            try:
                with self.env.cr.savepoint():
                    polled += backend._carrier_poll_tracking()
            except (TransportError, UserError) as exc:
                error = str(exc)
            except (secret_box.SecretKeyMissing, secret_box.SecretUndecryptable) as exc:
                error = str(exc)
            except Exception as exc:
                _logger.exception("tracking poll of carrier backend %s", backend.code)
                error = f"{type(exc).__name__}: {exc}"
            backend._carrier_record_poll(error)
            if commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit
        return polled

    def _carrier_poll_tracking(self):
        """One backend's poll (see ``_cron_poll_carrier_tracking``): the number of parcels
        asked about."""
        self.ensure_one()
        Parcel = self.env["logistics.carrier.parcel"].sudo()
        now = fields.Datetime.now()
        Parcel.search(
            [
                ("backend_id", "=", self.id),
                ("state", "=", "followed"),
                ("tracker_ref", "=", False),
            ],
            limit=self.POLL_BATCH,
        )._logistics_register_tracker()
        open_parcels = Parcel.search(
            [
                ("backend_id", "=", self.id),
                ("state", "in", ("booked", "followed")),
                ("tracking_stopped", "=", False),
                ("tracker_ref", "!=", False),
            ],
            order="last_event_at asc nulls first, id",
            limit=self.POLL_BATCH,
        )
        final = open_parcels.filtered(lambda p: p.tracking_state in TERMINAL)
        silent_since = now - timedelta(days=self.carrier_poll_stop_days or 30)
        silent = open_parcels.filtered(
            lambda p, since=silent_since: (p.last_event_at or p.create_date) < since
        )
        (final | silent).write({"tracking_stopped": True})
        due = open_parcels - final - silent
        if due:
            self._poll_inbound(trackers=[(p.tracker_ref, p.tracking_number) for p in due])
        return len(due) + self._carrier_poll_refunds()

    def _carrier_poll_refunds(self):
        """Ask the carrier what became of the voids still requested (when its adapter
        polls refunds): the number of parcels asked about."""
        self.ensure_one()
        if not getattr(type(self._get_adapter()), "polls_refunds", False):
            return 0
        pending = (
            self.env["logistics.carrier.parcel"]
            .sudo()
            .search(
                [("backend_id", "=", self.id), ("state", "=", "void_requested")],
                order="void_requested_at, id",
                limit=self.POLL_BATCH,
            )
        )
        if pending:
            self._poll_inbound(
                refunds=[
                    (
                        p.shipment_ref,
                        # an hour early: the carrier's clock is not Odoo's
                        ((p.void_requested_at or p.create_date) - timedelta(hours=1)).strftime(
                            "%Y-%m-%dT%H:%M:%SZ"
                        ),
                    )
                    for p in pending
                ]
            )
        return len(pending)

    def _carrier_record_poll(self, error):
        """Remember the tracking poll on the backend; its chatter says when polling starts
        failing (once per distinct error, not every half hour) and when it works again."""
        vals = {"carrier_last_poll_at": fields.Datetime.now()}
        if error:
            _logger.warning("tracking poll of carrier backend %s failed: %s", self.code, error)
            if error != self.carrier_last_poll_error:
                self.message_post(
                    body=self.env._(
                        "Asking %(backend)s for tracking news failed: %(error)s. The other "
                        "carriers were asked all the same; this one is asked again at the next "
                        "poll.",
                        backend=self.name,
                        error=error,
                    )
                )
            vals["carrier_last_poll_error"] = error
        elif self.carrier_last_poll_error:
            self.message_post(body=self.env._("Asking for tracking news works again."))
            vals["carrier_last_poll_error"] = False
        self.sudo().write(vals)

    @api.model
    def _demo_carrier_warehouse(self, product_ids):
        """Demo data: the main warehouse prints carrier labels and has the demo parcels'
        products in stock."""
        warehouse = self.env["stock.warehouse"].search(
            [("company_id", "=", self.env.company.id)], limit=1
        )
        warehouse.out_type_id.print_label = True
        for product in self.env["product.product"].browse(product_ids):
            self.env["stock.quant"]._update_available_quantity(
                product, warehouse.lot_stock_id, 10000
            )

    def action_view_carrier_parcels(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "logistics_carrier_connector.action_logistics_carrier_parcel"
        )
        action["domain"] = [("backend_id", "=", self.id)]
        return action
