import json
import logging
import re
import uuid

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import float_is_zero

from odoo.addons.logistics_integration_base.adapters import FETCH, POLL
from odoo.addons.logistics_integration_base.exceptions import (
    BusinessError,
    PayloadInvalid,
    TransportError,
)
from odoo.addons.logistics_integration_base.tools import secrets as secret_box
from odoo.addons.logistics_integration_base.tools.canonical import to_naive_utc

from ..formats import x12
from .logistics_inventory_reconciliation import (
    SNAPSHOT,
    _like_escape,
    _PullFailed,
    _snapshot_subject,
)

_logger = logging.getLogger(__name__)

X12_CODE = re.compile(r"^[A-Z0-9]{1,3}$")


def _codes(value):
    """The codes of a comma-separated setting, upper-cased, in order."""
    return [code.strip().upper() for code in (value or "").split(",") if code.strip()]


#: X12 355 codes meaning one unit of the Unit category's reference unit.
UNIT_SYNONYMS = frozenset({"EA", "EACH", "UN", "UNIT", "PC", "PCE", "PCS", "PIECE"})
#: X12 355 codes of packagings, and the packaging names that mean them.
PACKAGING_CODES = {
    "CA": ("CA", "CASE"),
    "CS": ("CS", "CASE"),
    "CT": ("CT", "CARTON"),
    "BX": ("BX", "BOX"),
    "PK": ("PK", "PACK", "PACKAGE"),
    "PL": ("PL", "PALLET"),
    "BG": ("BG", "BAG"),
    "DR": ("DR", "DRUM"),
    "RL": ("RL", "ROLL"),
    "BE": ("BE", "BUNDLE"),
}


class LogisticsBackend(models.Model):
    _inherit = "logistics.backend"

    @api.model_create_multi
    def create(self, vals_list):
        # ShipBob has no order update: unless told otherwise, changing a released delivery
        # is refused in Odoo with a clear message instead of failing later at ShipBob.
        for vals in vals_list:
            if vals.get("provider") == "shipbob":
                vals.setdefault("accepts_updates", False)
        return super().create(vals_list)

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
        string="Quantities not shipped",
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

    def _to_odoo_qty(self, product, quantity, uom_code=None, cache=None):
        """A partner quantity in the product's unit.

        ``uom_code`` is the unit the partner names (an X12 355 code such as EA, CA, KG, or a
        unit's name): a unit of the product's category, or a packaging of the product (72 CA
        of a product packed by 12 are 864 units); without one, the partner counts in its
        mapped unit (product mapping), else in the product's. A unit that is none of these is
        refused (:class:`BusinessError` naming the product, the unit and what to do): never a
        silently wrong quantity. ``cache`` (a dict) keeps the resolved units of a batch."""
        uom, multiplier = self._partner_unit(product, uom_code, cache)
        quantity = quantity * multiplier
        if uom == product.uom_id:
            return quantity
        return uom._compute_quantity(quantity, product.uom_id, round=False)

    def _partner_unit(self, product, uom_code, cache=None):
        """``(unit, multiplier)``: the partner's quantity times ``multiplier`` is in ``unit``,
        a unit of the product's category (see :meth:`_to_odoo_qty`)."""
        code = (uom_code or "").strip().upper()
        key = (product.id, code)
        if cache is not None and key in cache:
            return cache[key]
        if not code:
            packaging = self._partner_packaging(product)
            if packaging and packaging.qty > 0:
                found = (product.uom_id, packaging.qty)
            else:
                found = (self._partner_uom(product), 1.0)
        else:
            found = self._unit_of_code(product, code, {} if cache is None else cache)
        if cache is not None:
            cache[key] = found
        return found

    def _unit_of_code(self, product, code, cache):
        product_uom = product.uom_id
        category = product_uom.category_id
        for uom in (self._partner_uom(product), product_uom):
            if uom.category_id == category and code in self._uom_codes(uom):
                return uom, 1.0
        if ("category", category.id) not in cache:  # its units, read once per batch
            cache["category", category.id] = (
                self.env["uom.uom"].sudo().search([("category_id", "=", category.id)])
            )
        units = cache["category", category.id]
        for uom in units:
            if code in self._uom_codes(uom):
                return uom, 1.0
        packagings = self._product_packagings(product).filtered(
            lambda p: p.qty > 0 and code in self._packaging_codes(p)
        )
        if packagings:
            return product_uom, packagings[0].qty
        raise BusinessError(
            self.env._(
                "3PL %(backend)s counts %(product)s in '%(code)s', which is neither a unit of "
                "its category (%(units)s) nor one of its packagings (%(packagings)s): add a "
                "packaging named %(code)s with the number of %(uom)s it holds to the product "
                "(or a product mapping with the partner's unit), then press Retry.",
                backend=self.name,
                product=product.display_name,
                code=code,
                units=", ".join(sorted({self._uom_code(u) for u in units})),
                packagings=", ".join(
                    "%s = %g" % (p.name, p.qty) for p in self._product_packagings(product)
                )
                or self.env._("none"),
                uom=product_uom.name,
            )
        )

    def _product_packagings(self, product):
        """The packagings of ``product`` this backend's company packs it in (shared ones and
        its own): another company's case of 6 is not this 3PL's case of 12."""
        self.ensure_one()
        return product.sudo().packaging_ids.filtered(
            lambda p: not p.company_id or p.company_id == self.company_id
        )

    def _partner_packaging(self, product):
        """The packaging the partner counts ``product`` in (product mapping), if any."""
        self.ensure_one()
        mapping = self.product_mapping_ids.filtered(lambda m: m.product_id == product)[:1]
        return mapping.partner_packaging_id

    def _partner_order_quantity(self, product, quantity):
        """``(quantity, unit code, factor)`` of an order line of ``quantity`` in the product's
        unit, as the partner counts it: a whole number of the mapped packaging (CA...), else
        the mapped partner unit, else the product's unit; ``factor`` converts other
        quantities of the product (its lots) the same way."""
        packaging = self._partner_packaging(product)
        if packaging and packaging.qty > 0:
            packages = quantity / packaging.qty
            if float_is_zero(packages - round(packages), precision_digits=6):
                return round(packages), self._packaging_code(packaging), 1 / packaging.qty
        uom = product.uom_id if packaging else self._partner_uom(product)
        factor = product.uom_id._compute_quantity(1.0, uom, round=False)
        return quantity * factor, self._uom_code(uom), factor

    def _packaging_code(self, packaging):
        """The X12 code a packaging is sent as: CA for a packaging named Case (or CA)..."""
        name = (packaging.name or "").strip().upper()
        for code, words in PACKAGING_CODES.items():
            if name in words:
                return code
        return name

    def _uom_codes(self, uom):
        """The codes a partner may name ``uom`` by: its X12 code, its name, and for the
        reference unit of the Unit category the usual synonyms (EA, UN, PC...)."""
        codes = {self._uom_code(uom).upper(), (uom.name or "").upper()}
        if uom == self.env.ref("uom.product_uom_unit", raise_if_not_found=False):
            codes |= UNIT_SYNONYMS
        return codes

    def _packaging_codes(self, packaging):
        """The codes a partner may name a product packaging by: its name, and the X12 codes
        of that kind of packaging (a packaging named "Case" is CA or CS)."""
        name = (packaging.name or "").strip().upper()
        codes = {name}
        for code, words in PACKAGING_CODES.items():
            if name in words:
                codes.add(code)
        return codes

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

    def _logistics_dashboard_capabilities(self):
        caps = super()._logistics_dashboard_capabilities()
        if self.kind == "3pl":
            caps.add("fulfilment")
        return caps

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
                "filters": ["awaiting_ack", "late"],
                "backend_field": "backend_id",
            },
            {
                "key": "reconciliations_to_approve",
                "label": self.env._("Reconciliations to approve"),
                "model": "logistics.inventory.reconciliation",
                "domain": [("state", "=", "waiting_approval")],
                "filters": ["to_approve"],
                "backend_field": "backend_id",
            },
            {
                "key": "sftp_errors",
                "label": self.env._("SFTP files in error"),
                "model": "logistics.sftp.file",
                "domain": [("state", "=", "error")],
                "filters": ["error"],
                "backend_field": "backend_id",
            },
        ]

    def action_view_awaiting_ack(self):
        return self._action_messages(
            self.env._("Releases awaiting acknowledgement"), ["awaiting_ack"]
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
        self.check_access("read")  # a backend of another company is refused here
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

    # X12 over SFTP (the connection, folders and polling are the integration base's) ------

    file_format = fields.Selection(
        [("csv", "CSV"), ("x12", "ANSI X12 004010")],
        string="File format",
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

    x12_onhand_qualifiers = fields.Char(
        string="846 on-hand quantity qualifiers",
        default="17",
        help="QTY01 codes read as the quantity on hand in the 3PL's 846 inventory advices, the "
        "preferred first, separated by commas: 17 (quantity on hand), 33 (quantity available "
        "for sale)... An item carrying none of them is refused, naming the item.",
    )
    x12_warehouse_parties = fields.Char(
        string="846 warehouse party codes",
        default="WH",
        help="N101 codes of the party naming the warehouse in an 846, separated by commas (WH "
        "warehouse, SF ship from...). Its N104 identification (else its N102 name) must be "
        "the short name of a warehouse mapped to this backend.",
    )
    x12_inventory_warehouse_id = fields.Many2one(
        "stock.warehouse",
        string="Warehouse of 846s naming none",
        domain="[('logistics_backend_id', '=', id)]",
        help="The warehouse an 846 counts when it names no warehouse party (many 3PLs run one "
        "warehouse per EDI relationship and leave it out).",
    )

    @api.constrains("x12_onhand_qualifiers", "x12_warehouse_parties")
    def _check_x12_846_codes(self):
        for backend in self:
            for label, value in (
                (self.env._("846 on-hand quantity qualifiers"), backend.x12_onhand_qualifiers),
                (self.env._("846 warehouse party codes"), backend.x12_warehouse_parties),
            ):
                codes = _codes(value)
                if value and (not codes or any(not X12_CODE.match(code) for code in codes)):
                    raise ValidationError(
                        self.env._(
                            "%(field)s: '%(value)s' is not a list of X12 codes (2 or 3 letters "
                            "or digits separated by commas, e.g. 17, 33).",
                            field=label,
                            value=value,
                        )
                    )

    def _x12_inventory_options(self):
        """How this 3PL writes its 846s, for the parser."""
        self.ensure_one()
        return x12.InventoryOptions(
            quantity_qualifiers=tuple(_codes(self.x12_onhand_qualifiers)) or ("17",),
            warehouse_entities=tuple(_codes(self.x12_warehouse_parties)) or ("WH",),
            warehouse_code=self.x12_inventory_warehouse_id.code or None,
        )

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

    def _x12_next_control_number(self):
        """A new X12 control number (ISA13 and GS06 of every interchange we write, 940s and
        997s): the backend's interchange control number sequence."""
        return self._interchange_next_number()

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
