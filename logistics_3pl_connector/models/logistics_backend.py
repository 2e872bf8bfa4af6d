import json
import logging
import uuid

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.modules import module as odoo_module

from odoo.addons.logistics_integration_base.adapters import FETCH, POLL
from odoo.addons.logistics_integration_base.exceptions import (
    BusinessError,
    PayloadInvalid,
    TransportError,
)
from odoo.addons.logistics_integration_base.tools import secrets as secret_box
from odoo.addons.logistics_integration_base.tools.canonical import to_naive_utc
from odoo.addons.logistics_integration_base.transport import sftp

from ..formats import x12
from .logistics_inventory_reconciliation import (
    SNAPSHOT,
    _like_escape,
    _PullFailed,
    _snapshot_subject,
)

_logger = logging.getLogger(__name__)

SFTP_SECRETS = ("sftp_password", "sftp_private_key", "sftp_private_key_passphrase")
MAX_CONTROL_NUMBER = 999_999_999


def _now():
    return fields.Datetime.now()


def _commit_allowed():
    """Crons commit after each file; tests run in one transaction that must not commit."""
    return not odoo_module.current_test


class LogisticsBackend(models.Model):
    _inherit = "logistics.backend"

    @api.model_create_multi
    def create(self, vals_list):
        # ShipBob has no order update: unless told otherwise, changing a released delivery
        # is refused in Odoo with a clear message instead of failing later at ShipBob.
        for vals in vals_list:
            if vals.get("provider") == "shipbob":
                vals.setdefault("accepts_updates", False)
        backends = super().create(vals_list)
        backends.invalidate_recordset(list(SFTP_SECRETS))  # written values never linger
        backends.filtered(lambda b: b.protocol == "sftp")._x12_sequence()
        return backends

    provider = fields.Selection(
        selection_add=[("shipbob", "ShipBob-style REST API")],
        ondelete={"shipbob": "set default"},
    )
    warehouse_ids = fields.One2many("stock.warehouse", "logistics_backend_id", string="Warehouses")
    release_trigger = fields.Selection(
        [
            ("confirmed", "When the delivery is confirmed"),
            ("assigned", "When the delivery is reserved (ready)"),
        ],
        default="assigned",
        help="When an outgoing transfer of a 3PL warehouse is released to the 3PL.",
        string="Release deliveries when",
    )
    accepts_updates = fields.Boolean(
        string="Accepts order updates",
        default=True,
        help="If not, changing a released delivery is refused with a clear message.",
    )
    backorder_policy = fields.Selection(
        [("backorder", "Create a backorder"), ("cancel", "Cancel the remainder")],
        default="backorder",
        required=True,
        help="What a partial shipment confirmation does with the quantities not shipped.",
    )
    send_asn = fields.Boolean(
        string="Send ASNs", help="Send incoming transfers of 3PL warehouses as asn.release"
    )
    inventory_tolerance_qty = fields.Float(
        string="Auto-apply tolerance (units)",
        default=0.0,
        help="Stock differences up to this many units are applied automatically; larger ones "
        "wait for approval.",
    )
    inventory_tolerance_percent = fields.Float(
        string="Auto-apply tolerance (%)",
        default=0.0,
        help="...or up to this percentage of Odoo's quantity.",
    )
    inventory_poll = fields.Boolean(
        string="Poll inventory", help="Pull an inventory snapshot on schedule (3PLs without push)"
    )
    product_mapping_ids = fields.One2many(
        "logistics.product.mapping", "backend_id", string="Product mappings"
    )

    # product codes --------------------------------------------------------------------------
    def _partner_sku(self, product):
        """The code sent to the partner: its own SKU when mapped, else the default code."""
        self.ensure_one()
        mapping = self.product_mapping_ids.filtered(lambda m: m.product_id == product)[:1]
        if mapping:
            return mapping.partner_sku
        if not product.default_code:
            raise UserError(
                self.env._(
                    "Product %(product)s has no internal reference, so it cannot be sent to "
                    "3PL %(backend)s: set its internal reference or a product mapping.",
                    product=product.display_name,
                    backend=self.name,
                )
            )
        return product.default_code

    def _partner_uom(self, product):
        self.ensure_one()
        mapping = self.product_mapping_ids.filtered(lambda m: m.product_id == product)[:1]
        return mapping.partner_uom_id or product.uom_id

    def _products_by_sku(self, skus):
        """Map partner SKUs to products (mapping first, then default code), in one query each."""
        self.ensure_one()
        skus = set(skus)
        result = {}
        mappings = self.env["logistics.product.mapping"].search(
            [("backend_id", "=", self.id), ("partner_sku", "in", list(skus))]
        )
        for mapping in mappings:
            result[mapping.partner_sku] = mapping.product_id
        rest = skus - set(result)
        if rest:
            domain = [("default_code", "in", list(rest))]
            if self.company_id:
                domain += ["|", ("company_id", "=", False), ("company_id", "=", self.company_id.id)]
            for product in (
                self.env["product.product"].with_context(active_test=False).search(domain)
            ):
                result.setdefault(product.default_code, product)
        return result

    def _product_by_sku(self, sku):
        product = self._products_by_sku([sku]).get(sku)
        if not product:
            raise BusinessError(
                self.env._(
                    "3PL %(backend)s reported SKU '%(sku)s', which matches no product: set it as "
                    "a product's internal reference or add a product mapping, then retry.",
                    backend=self.name,
                    sku=sku,
                )
            )
        return product

    def _to_odoo_qty(self, product, quantity, uom_code=None):
        """A partner quantity in the product's unit (the partner counts in its mapped unit)."""
        partner_uom = self._partner_uom(product)
        if partner_uom == product.uom_id:
            return quantity
        return partner_uom._compute_quantity(quantity, product.uom_id, round=False)

    def _uom_code(self, uom):
        return {"Units": "EA", "Dozens": "DZ", "kg": "KG", "g": "GR", "L": "LT", "m": "MR"}.get(
            uom.name, uom.name
        )

    # warehouses -------------------------------------------------------------------------------
    @api.model
    def _for_picking_type(self, picking_type):
        return picking_type.logistics_backend_id or picking_type.warehouse_id.logistics_backend_id

    def _warehouse_for_code(self, code):
        self.ensure_one()
        warehouse = self.warehouse_ids.filtered(lambda w: w.code == code)[:1]
        if not warehouse:
            raise BusinessError(
                self.env._(
                    "3PL %(backend)s reported warehouse '%(code)s', which is not one of the "
                    "warehouses mapped to it (%(mapped)s).",
                    backend=self.name,
                    code=code,
                    mapped=", ".join(self.warehouse_ids.mapped("code")) or self.env._("none"),
                )
            )
        return warehouse

    def _logistics_queue_release_job(self):
        """Make sure one job waits to release the deliveries queued for each backend: a
        waiting one (its identity key) takes deliveries queued after it, as it looks them up
        when it runs."""
        for backend in self:
            self.env["stock.picking"].sudo().with_delay(
                channel=f"root.logistics.{backend.kind}",
                identity_key=f"logistics.release:{backend.id}",
                description=self.env._("Release of queued transfers to %s", backend.name),
            )._logistics_job_release(backend)

    # dashboard tiles (also metrics gauges) ---------------------------------------------------
    tile_awaiting_ack_late = fields.Integer(
        compute="_compute_tile_fields", string="Releases awaiting acknowledgement past SLA"
    )
    tile_reconciliations_to_approve = fields.Integer(
        compute="_compute_tile_fields", string="Reconciliations to approve"
    )
    tile_sftp_errors = fields.Integer(compute="_compute_tile_fields", string="SFTP files in error")

    def _logistics_business_tiles(self):
        return super()._logistics_business_tiles() + [
            {
                "key": "awaiting_ack_late",
                "label": self.env._("Releases awaiting acknowledgement past SLA"),
                "model": "logistics.message",
                "domain": [
                    ("message_type", "=", "order.release"),
                    ("state", "=", "sent"),
                    ("ack_expected", "=", True),
                    ("sla_breached", "=", True),
                ],
                "backend_field": "backend_id",
            },
            {
                "key": "reconciliations_to_approve",
                "label": self.env._("Reconciliations to approve"),
                "model": "logistics.inventory.reconciliation",
                "domain": [("state", "=", "waiting_approval")],
                "backend_field": "backend_id",
            },
            {
                "key": "sftp_errors",
                "label": self.env._("SFTP files in error"),
                "model": "logistics.sftp.file",
                "domain": [("state", "=", "error")],
                "backend_field": "backend_id",
            },
        ]

    def action_view_awaiting_ack(self):
        return self._action_messages(
            [
                ("message_type", "=", "order.release"),
                ("state", "=", "sent"),
                ("ack_expected", "=", True),
            ],
            self.env._("Awaiting acknowledgement"),
        )

    @api.model
    def _demo_stock_3pl_warehouse(self, warehouse_ids):
        """Demo data: stock the demo 3PL warehouse with the demo products."""
        warehouse = self.env["stock.warehouse"].browse(warehouse_ids)
        for xmlid, qty in (
            ("demo_product_chair", 500),
            ("demo_product_desk", 200),
            ("demo_product_lamp", 1000),
        ):
            product = self.env.ref(f"logistics_3pl_connector.{xmlid}")
            self.env["stock.quant"]._update_available_quantity(product, warehouse.lot_stock_id, qty)

    @api.model
    def _cron_poll_shipped(self):
        """For backends whose adapter can poll: ask for the shipments of released, not yet
        shipped deliveries and store each as an inbound shipment.confirmed message. Shipments
        already applied (by webhook, file or an earlier poll) are not stored again; the
        shipment handler is idempotent per shipment anyway, for a webhook stored but not yet
        processed when the poll runs."""
        total = 0
        for backend in self.search([("kind", "=", "3pl")]):
            if not backend._get_adapter().supports(POLL):
                continue
            pickings = self.env["stock.picking"].search(
                [
                    ("logistics_backend_id", "=", backend.id),
                    ("picking_type_code", "=", "outgoing"),
                    ("logistics_state", "in", ("released", "accepted")),
                    ("state", "not in", ("done", "cancel")),
                ]
            )
            refs = sorted(set(pickings.mapped(lambda p: p.logistics_order_ref or p.name)))
            if not refs:
                continue
            try:
                new = backend._poll_inbound(keep=backend._not_applied_yet, order_refs=refs)
            except Exception as exc:
                backend.message_post(body=self.env._("Polling for shipped orders failed: %s", exc))
                continue
            total += len(new)
        return total

    def _not_applied_yet(self, events):
        """The polled shipment events whose shipment is not applied yet."""
        refs = [event.event_id for event in events]
        applied = set(
            self.env["logistics.shipment"]
            .sudo()
            .search([("backend_id", "=", self.id), ("shipment_ref", "in", refs)])
            .mapped("shipment_ref")
        )
        return [event for event in events if event.event_id not in applied]

    # inventory snapshots (pulled or pushed) -------------------------------------------------
    inventory_reconciliation_count = fields.Integer(
        compute="_compute_inventory_reconciliation", string="Reconciliations"
    )

    def _compute_inventory_reconciliation(self):
        counts = dict(
            self.env["logistics.inventory.reconciliation"]
            .sudo()
            ._read_group([("backend_id", "in", self.ids)], ["backend_id"], ["__count"])
        )
        for backend in self:
            backend.inventory_reconciliation_count = counts.get(backend, 0)

    def action_view_inventory_reconciliations(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "logistics_3pl_connector.action_logistics_inventory_reconciliation"
        )
        action["domain"] = [("backend_id", "=", self.id)]
        return action

    def action_pull_inventory(self):
        """Button: pull a snapshot of each mapped warehouse now."""
        if not self.env.user.has_group("logistics_integration_base.group_logistics_manager"):
            raise AccessError(
                self.env._("Only Logistics Integration managers can pull inventories.")
            )
        messages = self.sudo()._logistics_pull_inventory()
        failed = messages.filtered(lambda m: m.state == "failed")
        return self._notify(
            self.env._("Inventory pull"),
            self.env._(
                "%(ok)s snapshots queued, %(failed)s failed (see Exceptions).",
                ok=len(messages) - len(failed),
                failed=len(failed),
            ),
            "warning" if failed else "success",
        )

    @api.model
    def _cron_logistics_pull_inventory(self):
        backends = self.sudo().search([("kind", "=", "3pl"), ("inventory_poll", "=", True)])
        return len(backends._logistics_pull_inventory())

    def _logistics_pull_inventory(self, warehouses=None):
        """Ask each 3PL for a snapshot of its warehouses and store each as an inbound
        ``inventory.snapshot`` message (processed by its queue job like a pushed one). A
        pull that fails is stored as a failed message: it shows in the exception queue
        with the reason, and Retry pulls again."""
        Message = self.env["logistics.message"].sudo()
        messages = Message
        for backend in self:
            for warehouse in warehouses or backend.warehouse_ids:
                if warehouse.logistics_backend_id != backend:
                    continue
                try:
                    with self.env.cr.savepoint():
                        data, _raw = backend._logistics_fetch_inventory(warehouse.code)
                        messages |= backend._logistics_store_snapshot(data)
                except _PullFailed as err:
                    messages |= backend._logistics_pull_failed(warehouse, err)
                else:
                    backend._logistics_close_failed_pulls(warehouse.code, data["snapshot_ref"])
        return messages

    def _logistics_fetch_inventory(self, warehouse_code):
        """The canonical snapshot of a warehouse, validated; raise :class:`_PullFailed`.

        The backend's adapter must offer ``fetch``: the generic REST one answers
        ``GET <base_url>/inventory?warehouse_code=<code>`` with canonical
        ``inventory.snapshot`` data (or a CloudEvent carrying it)."""
        self.ensure_one()
        raw = None
        try:
            adapter = self._get_adapter()
            if not adapter.supports(FETCH):
                raise _PullFailed(
                    self.env._(
                        "3PL %(backend)s is reached over %(protocol)s, which offers no inventory "
                        "pull: turn 'Poll inventory' off (it pushes snapshots) or change the "
                        "protocol.",
                        backend=self.name,
                        protocol=self.protocol,
                    ),
                    "business",
                )
            # REST 3PLs answer GET <base_url>/inventory?warehouse_code=<code>
            data = adapter.fetch(SNAPSHOT, path="inventory", warehouse_code=warehouse_code)
            raw = json.dumps(data, indent=2)  # kept on the message when it is unusable
            self.env["logistics.message"]._schema_registry().validate(SNAPSHOT, data)
        except TransportError as err:
            raise _PullFailed(str(err), err.category, err.status, err.body) from err
        except PayloadInvalid as err:
            raise _PullFailed(
                self.env._("The snapshot breaks the inventory.snapshot schema at %s", err),
                "validation",
                raw=raw,
            ) from err
        except (secret_box.SecretKeyMissing, secret_box.SecretUndecryptable) as err:
            raise _PullFailed(str(err), "auth") from err
        return data, raw

    def _logistics_store_snapshot(self, data):
        """Store a pulled snapshot as an inbound message and queue its processing; the
        same snapshot pulled twice is stored once."""
        self.ensure_one()
        Message = self.env["logistics.message"]
        messages, _new = Message._store_inbound(
            self,
            [
                {
                    "message_type": SNAPSHOT,
                    "idempotency_key": f"poll:{data['snapshot_ref']}",
                    "schema_version": 1,
                    "external_id": data["snapshot_ref"],
                    "subject": _snapshot_subject(self.env, data),
                    "event_time": to_naive_utc(data.get("as_of")),
                    "payload": data,
                }
            ],
            validate=False,  # validated by _logistics_fetch_inventory
        )
        return messages.sudo()

    def _logistics_pull_reason(self, warehouse_code, err):
        """What an operator reads in the exception queue when a pull failed."""
        self.ensure_one()
        return self.env._(
            "Pulling the inventory of warehouse %(warehouse)s from 3PL %(backend)s failed: "
            "%(reason)s. Press Retry to pull again.",
            warehouse=warehouse_code,
            backend=self.name,
            reason=str(err.reason).rstrip("."),
        )

    def _logistics_close_failed_pulls(self, warehouse_code, snapshot_ref, keep=None):
        """A pull of a warehouse succeeded: earlier failed pulls of it need no Retry any
        more, they leave the exception queue (ignored, with the reason)."""
        self.ensure_one()
        stale = (
            self.env["logistics.message"]
            .sudo()
            .search(
                [
                    ("backend_id", "=", self.id),
                    ("direction", "=", "in"),
                    ("message_type", "=", SNAPSHOT),
                    ("state", "in", ("failed", "dead")),
                    ("idempotency_key", "=like", f"poll-failed:{_like_escape(warehouse_code)}:%"),
                ]
            )
        )
        stale -= keep or stale.browse()
        if not stale:
            return stale
        reason = self.env._(
            "A later pull of warehouse %(warehouse)s succeeded (snapshot %(ref)s).",
            warehouse=warehouse_code,
            ref=snapshot_ref,
        )
        stale.write({"state": "ignored", "ignore_reason": reason, "next_retry_at": False})
        for msg in stale:
            msg.message_post(body=reason)
        return stale

    def _logistics_pull_failed(self, warehouse, err):
        self.ensure_one()
        reason = self._logistics_pull_reason(warehouse.code, err)
        _logger.warning("%s", reason)
        return (
            self.env["logistics.message"]
            .sudo()
            .create(
                {
                    "backend_id": self.id,
                    "direction": "in",
                    "message_type": SNAPSHOT,
                    "schema_version": 1,
                    "state": "failed",
                    "idempotency_key": f"poll-failed:{warehouse.code}:{uuid.uuid4().hex}",
                    "correlation_id": str(uuid.uuid4()),
                    "subject": self.env._("Inventory pull for %s", warehouse.code),
                    "payload": json.dumps({"warehouse_code": warehouse.code}),
                    "raw_payload": err.raw,
                    "http_status": err.status,
                    "error_category": err.category,
                    "error_message": reason,
                    "attempts": 1,
                    "last_attempt_at": fields.Datetime.now(),
                }
            )
        )

    # ShipBob provider -------------------------------------------------------------------------

    @api.onchange("provider")
    def _onchange_provider_shipbob(self):
        if self.provider == "shipbob":
            self.accepts_updates = False

    # SFTP file exchange ---------------------------------------------------------------------

    sftp_host = fields.Char(string="SFTP host")
    sftp_port = fields.Integer(string="SFTP port", default=22)
    sftp_username = fields.Char(string="SFTP user")
    sftp_password = fields.Char(
        string="SFTP password",
        compute="_compute_secret_fields",
        inverse="_inverse_sftp_password",
        copy=False,
        help="Write-only: stored encrypted, never shown again.",
    )
    sftp_private_key = fields.Text(
        string="SFTP private key",
        compute="_compute_secret_fields",
        inverse="_inverse_sftp_private_key",
        copy=False,
        help="OpenSSH or PEM private key (RSA, ECDSA, Ed25519). Write-only: stored encrypted, "
        "never shown again. Tried before the password when both are set.",
    )
    sftp_private_key_passphrase = fields.Char(
        string="Private key passphrase",
        compute="_compute_secret_fields",
        inverse="_inverse_sftp_private_key_passphrase",
        copy=False,
        help="Write-only.",
    )
    sftp_password_set = fields.Boolean(compute="_compute_sftp_secret_flags")
    sftp_private_key_set = fields.Boolean(compute="_compute_sftp_secret_flags")
    sftp_private_key_passphrase_set = fields.Boolean(compute="_compute_sftp_secret_flags")
    sftp_host_key = fields.Text(
        string="SFTP host key",
        help="The server's public key: a '<type> <base64>' line, a known_hosts line, or the "
        "output of 'ssh-keyscan -p PORT HOST' (several lines accept any of those keys). "
        "Required: a server presenting any other key is refused before anything is sent to it. "
        "Test connection shows the fingerprint the server offers.",
    )
    sftp_inbound_dir = fields.Char(
        string="Inbound folder", default="inbound", help="Where the 3PL drops files for us"
    )
    sftp_outbound_dir = fields.Char(
        string="Outbound folder", default="outbound", help="Where we write files for the 3PL"
    )
    sftp_archive_dir = fields.Char(
        string="Archive folder", default="archive", help="Processed inbound files are moved here"
    )
    sftp_error_dir = fields.Char(
        string="Error folder", default="error", help="Unreadable inbound files are moved here"
    )
    sftp_min_file_age = fields.Integer(
        string="Minimum file age (s)",
        default=0,
        help="Inbound files modified less than this many seconds ago are left for a later poll. "
        "Files named *.part, *.tmp or *.filepart are never taken. Set e.g. 60 when the 3PL "
        "writes its files in place instead of renaming a temporary file.",
    )
    file_format = fields.Selection(
        [("csv", "CSV"), ("x12", "ANSI X12 004010")],
        default="x12",
        help="Format of the files exchanged over SFTP (see the module's FORMATS.md).",
    )
    x12_sender_qualifier = fields.Char(
        string="X12 sender qualifier", default="ZZ", help="ISA05: qualifier of our id (ZZ, 01...)"
    )
    x12_sender_id = fields.Char(string="X12 sender id", help="ISA06: our interchange id")
    x12_receiver_qualifier = fields.Char(
        string="X12 receiver qualifier", default="ZZ", help="ISA07: qualifier of the 3PL's id"
    )
    x12_receiver_id = fields.Char(string="X12 receiver id", help="ISA08: the 3PL's interchange id")
    x12_usage_indicator = fields.Selection(
        [("P", "Production"), ("T", "Test")], string="X12 usage", default="P", help="ISA15"
    )
    x12_sequence_id = fields.Many2one(
        "ir.sequence",
        string="X12 control number sequence",
        readonly=True,
        copy=False,
        ondelete="restrict",
    )
    x12_next_control_number = fields.Integer(
        string="Next X12 control number",
        compute="_compute_x12_next_control_number",
        inverse="_inverse_x12_next_control_number",
        help="Interchange and group control number of the next file we write (940 or 997). "
        "It only goes up: numbers are never reused.",
    )
    sftp_last_poll_at = fields.Datetime(string="Last SFTP poll", readonly=True, copy=False)
    sftp_last_poll_error = fields.Text(string="Last SFTP poll error", readonly=True, copy=False)
    sftp_file_ids = fields.One2many("logistics.sftp.file", "backend_id", string="SFTP files")
    sftp_file_count = fields.Integer(
        compute="_compute_sftp_file_count", string="Number of SFTP files"
    )

    # secrets --------------------------------------------------------------------------------
    def write(self, vals):
        result = super().write(vals)
        if set(SFTP_SECRETS) & vals.keys():
            self.invalidate_recordset(list(SFTP_SECRETS))
        if vals.get("protocol") == "sftp":
            self._x12_sequence()
        return result

    def _compute_secret_fields(self):
        res = super()._compute_secret_fields()
        for backend in self:
            for name in SFTP_SECRETS:
                backend[name] = False
        return res

    def _compute_sftp_secret_flags(self):
        stored = {(rec.backend_id.id, rec.key) for rec in self._secret_records()}
        for backend in self:
            for name in SFTP_SECRETS:
                backend[f"{name}_set"] = (backend.id, name) in stored

    def _inverse_sftp_password(self):
        self._inverse_secret("sftp_password")

    def _inverse_sftp_private_key(self):
        for backend in self:
            key = backend.sftp_private_key
            if key:  # check it can be read before storing it (the passphrase may follow)
                try:
                    sftp.load_private_key(
                        key, backend._get_secret_safe("sftp_private_key_passphrase")
                    )
                except sftp.SFTPConfigError as exc:
                    if "passphrase" not in str(exc):
                        raise ValidationError(self.env._("SFTP private key: %s", exc)) from None
        self._inverse_secret("sftp_private_key")

    def _inverse_sftp_private_key_passphrase(self):
        self._inverse_secret("sftp_private_key_passphrase")

    def _compute_sftp_file_count(self):
        counts = dict(
            self.env["logistics.sftp.file"]._read_group(
                [("backend_id", "in", self.ids)], ["backend_id"], ["__count"]
            )
        )
        for backend in self:
            backend.sftp_file_count = counts.get(backend, 0)

    # checks ---------------------------------------------------------------------------------
    @api.constrains("protocol", "sftp_host_key")
    def _check_sftp_host_key(self):
        for backend in self.filtered(lambda b: b.protocol == "sftp" and b.sftp_host_key):
            try:
                sftp.parse_host_keys(backend.sftp_host_key)
            except sftp.SFTPError as exc:
                raise ValidationError(self.env._("SFTP host key: %s", exc)) from None

    @api.constrains(
        "x12_sender_qualifier", "x12_sender_id", "x12_receiver_qualifier", "x12_receiver_id"
    )
    def _check_x12_ids(self):
        for backend in self:
            for label, qualifier, ident in (
                (self.env._("sender"), backend.x12_sender_qualifier, backend.x12_sender_id),
                (self.env._("receiver"), backend.x12_receiver_qualifier, backend.x12_receiver_id),
            ):
                if qualifier and len(qualifier) != 2:
                    raise ValidationError(
                        self.env._("The X12 %(which)s qualifier must be 2 characters.", which=label)
                    )
                if ident and (len(ident) > 15 or any(c in ident for c in "*>~\r\n")):
                    raise ValidationError(
                        self.env._(
                            "The X12 %(which)s id must be at most 15 characters, without "
                            "'*', '>' or '~'.",
                            which=label,
                        )
                    )

    # control numbers ----------------------------------------------------------------------
    def _x12_sequence(self):
        """The backend's control number sequence, created on first use."""
        for backend in self.filtered(lambda b: not b.x12_sequence_id):
            sequence = (
                self.env["ir.sequence"]
                .sudo()
                .create(
                    {
                        "name": self.env._("X12 control numbers of %s", backend.name),
                        "implementation": "standard",  # nextval: atomic, never rolled back
                        "number_next": 1,
                        "number_increment": 1,
                        "padding": 0,
                        "company_id": False,
                    }
                )
            )
            backend.sudo().x12_sequence_id = sequence
        return self[:1].x12_sequence_id.sudo()

    def _compute_x12_next_control_number(self):
        for backend in self:
            sequence = backend.x12_sequence_id.sudo()
            backend.x12_next_control_number = sequence.number_next_actual if sequence else 1

    def _inverse_x12_next_control_number(self):
        for backend in self:
            wanted = backend.x12_next_control_number
            sequence = backend.x12_sequence_id.sudo()
            current = sequence.number_next_actual if sequence else 1
            if not wanted or wanted == current:
                continue
            if wanted < current:
                raise ValidationError(
                    self.env._(
                        "X12 control numbers never go back: the next one of %(backend)s is "
                        "already %(current)s.",
                        backend=backend.name,
                        current=current,
                    )
                )
            if wanted > MAX_CONTROL_NUMBER:
                raise ValidationError(self.env._("X12 control numbers have at most 9 digits."))
            backend._x12_sequence().number_next_actual = wanted

    def _x12_next_control_number(self):
        """A new control number: increasing, never handed out twice (also across concurrent
        jobs and rolled back transactions).

        Control numbers (ISA13 and GS06 of every interchange we write, 940s and 997s) come
        from a PostgreSQL sequence per backend (an ``ir.sequence``, standard implementation):
        ``nextval`` is atomic and never rolled back, so two jobs never get the same number,
        and a number used by a file that was uploaded before its transaction failed is not
        handed out again."""
        self.ensure_one()
        number = int(self._x12_sequence().next_by_id())
        if number > MAX_CONTROL_NUMBER:
            raise UserError(
                self.env._(
                    "The X12 control numbers of %s are exhausted (9 digits): agree a restart "
                    "with the 3PL and create a new backend.",
                    self.name,
                )
            )
        return number

    def _x12_envelope(self, number=None):
        """Envelope of an interchange we send to the 3PL (ISA13 = GS06 = ``number``)."""
        self.ensure_one()
        number = number or self._x12_next_control_number()
        company = (self.company_id or self.env.company).name or "ODOO"
        return x12.Envelope(
            sender_qualifier=self.x12_sender_qualifier or "ZZ",
            sender_id=self.x12_sender_id or company[:15].strip(),
            receiver_qualifier=self.x12_receiver_qualifier or "ZZ",
            receiver_id=self.x12_receiver_id or self.code[:15].upper(),
            interchange_control_number=number,
            group_control_number=number,
            usage_indicator=self.x12_usage_indicator or "P",
        )

    # connection -------------------------------------------------------------------------------
    def _sftp_settings(self):
        """Connection settings; raises ``sftp.SFTPConfigError`` when they cannot work."""
        self.ensure_one()
        return sftp.SFTPSettings(
            host=(self.sftp_host or "").strip(),
            port=self.sftp_port or 22,
            username=(self.sftp_username or "").strip(),
            password=self._get_secret("sftp_password"),
            private_key=self._get_secret("sftp_private_key"),
            private_key_passphrase=self._get_secret("sftp_private_key_passphrase"),
            host_key=self.sftp_host_key or "",
            timeout=self.timeout or 15.0,
            inbound_dir=self.sftp_inbound_dir or "inbound",
            outbound_dir=self.sftp_outbound_dir or "outbound",
            archive_dir=self.sftp_archive_dir or "archive",
            error_dir=self.sftp_error_dir or "error",
            min_file_age=max(self.sftp_min_file_age or 0, 0),
        )

    def action_test_connection(self):
        """SFTP: connect (host key checked first), authenticate and list the inbound folder;
        a refused host key is reported with both fingerprints and the key offered."""
        self.ensure_one()
        if self.protocol != "sftp":
            return super().action_test_connection()
        title = self.env._("Connection to %s failed", self.name)
        try:
            summary = self._get_adapter().test_connection()
        except TransportError as exc:
            message = str(exc)
            offered = getattr(exc, "offered_key", None)
            if offered:
                message += "\n" + self.env._(
                    "Key offered by the server (paste it as the SFTP host key only once the 3PL "
                    "has confirmed its fingerprint): %s",
                    offered,
                )
            return self._notify(title, message, "danger")
        except (secret_box.SecretKeyMissing, secret_box.SecretUndecryptable) as exc:
            return self._notify(title, str(exc), "danger")
        return self._notify(self.env._("Connection to %s works", self.name), summary, "success")

    # polling --------------------------------------------------------------------------------
    @api.model
    def _cron_poll_sftp(self):
        """Cron: fetch the inbound files of every SFTP backend. A backend that cannot be
        polled is logged and reported on its chatter; the others go on."""
        commit = _commit_allowed()
        total = 0
        for backend in self.search([("protocol", "=", "sftp")]):
            total += len(backend._sftp_poll_safe(commit=commit))
        return total

    def action_sftp_poll_now(self):
        """Button: poll this backend's inbound folder now."""
        self.ensure_one()
        files = self._sftp_poll_safe(commit=_commit_allowed())
        if self.sftp_last_poll_error:
            return self._notify(
                self.env._("Polling %s failed", self.name), self.sftp_last_poll_error, "danger"
            )
        errors = files.filtered(lambda f: f.state == "error")
        message = self.env._(
            "%(count)s new file(s), %(errors)s unreadable.", count=len(files), errors=len(errors)
        )
        return self._notify(
            self.env._("SFTP folder of %s polled", self.name),
            message,
            "warning" if errors else "success",
        )

    def _sftp_poll_safe(self, commit=False):
        """Poll, never raise: the outcome is recorded on the backend."""
        self.ensure_one()
        files = self.env["logistics.sftp.file"]
        error = None
        try:
            files = self._sftp_poll(commit=commit)
        except (sftp.SFTPError, TransportError, UserError) as exc:
            error = str(exc)
        except (secret_box.SecretKeyMissing, secret_box.SecretUndecryptable) as exc:
            error = str(exc)
        except Exception as exc:
            _logger.exception("SFTP poll of backend %s", self.code)
            if commit:
                self.env.cr.rollback()  # pylint: disable=invalid-commit
            error = f"{type(exc).__name__}: {exc}"
        self._sftp_record_poll(error)
        if commit:
            self.env.cr.commit()  # pylint: disable=invalid-commit
        return files

    def _sftp_record_poll(self, error):
        """Remember the poll; post on the chatter when polling starts failing (once per
        distinct error, not every few minutes) and when it works again."""
        vals = {"sftp_last_poll_at": _now()}
        if error:
            _logger.warning("SFTP poll of backend %s failed: %s", self.code, error)
            if error != self.sftp_last_poll_error:
                self.message_post(body=self.env._("Polling the SFTP server failed: %s", error))
            vals["sftp_last_poll_error"] = error
        elif self.sftp_last_poll_error:
            self.message_post(body=self.env._("Polling the SFTP server works again."))
            vals["sftp_last_poll_error"] = False
        self.sudo().write(vals)

    def _sftp_poll(self, commit=False):
        """Fetch, record, parse and move every complete inbound file; return the
        ``logistics.sftp.file`` records created. With ``commit``, each file's records are
        committed before the file is moved on the server."""
        self.ensure_one()
        Files = self.env["logistics.sftp.file"].sudo()
        created = Files.browse()
        adapter = self._get_adapter()
        with adapter.inbound() as conn:
            for remote in conn.list_ready():
                try:
                    data = conn.read(remote.name)
                except sftp.SFTPFileNotFound:
                    continue  # taken meanwhile by another poll
                checksum = sftp.file_checksum(data)
                record = Files._find(self, remote.name, checksum)
                if record:
                    if record.moved_to:  # moved away before: the 3PL sent it again
                        record.duplicate_count += 1
                else:
                    record = Files._receive(self, remote.name, data, checksum)
                    if not record:
                        continue  # stored meanwhile by a concurrent poll, which moves it
                    created |= record
                # The server is not transactional: commit what the file became before
                # moving it, so that a crash leaves it in the inbound folder to be
                # recognised (name + checksum) rather than moved away and forgotten.
                if commit:
                    self.env.cr.commit()  # pylint: disable=invalid-commit
                record._finish(adapter, conn)
                if commit:
                    self.env.cr.commit()  # pylint: disable=invalid-commit
        return created

    def action_view_sftp_files(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "logistics_3pl_connector.action_logistics_sftp_file"
        )
        action["domain"] = [("backend_id", "in", self.ids)]
        action["context"] = {}
        return action
