import json
import logging

import psycopg2

from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import UserError
from odoo.modules.registry import Registry

from odoo.addons.logistics_integration_base.adapters import get_adapter_class
from odoo.addons.logistics_integration_base.exceptions import PayloadInvalid, TransportError
from odoo.addons.logistics_integration_base.tools import secrets as secret_box

from ..adapters.common import AnswerLost, can_call

_logger = logging.getLogger(__name__)

#: (kind of booking in its key, the delivery's field counting its rounds), by is_return
ROUNDS = {
    False: ("delivery", "logistics_booking_round"),
    True: ("return", "logistics_return_round"),
}

TRACKING_URLS = {
    "USPS": "https://tools.usps.com/go/TrackConfirmAction?tLabels=%s",
    "UPS": "https://www.ups.com/track?tracknum=%s",
    "FEDEX": "https://www.fedex.com/fedextrack/?trknbr=%s",
    "DHL": "https://www.dhl.com/track?tracking-id=%s",
}


class DeliveryCarrier(models.Model):
    """A delivery method of type *Carrier backend*: one carrier backend (credentials, auth,
    timeouts, circuit breaker, audit trail: the integration base's) and one service of that
    carrier. Implements Odoo's carrier contract (``<type>_rate_shipment``,
    ``<type>_send_shipping``, ``<type>_get_tracking_link``, ``<type>_cancel_shipment``) once,
    for every carrier adapter."""

    _inherit = "delivery.carrier"

    delivery_type = fields.Selection(
        selection_add=[("logistics", "Carrier backend (logistics integration)")],
        ondelete={"logistics": lambda carriers: carriers.write({"delivery_type": "fixed"})},
    )
    logistics_backend_id = fields.Many2one(
        "logistics.backend",
        string="Carrier backend",
        domain=[("kind", "=", "carrier")],
        ondelete="restrict",
        help="The carrier account this method books with; its credentials stay on the backend.",
    )
    logistics_carrier_code = fields.Char(
        string="Carrier", help="As the carrier API names it: USPS, UPS..."
    )
    logistics_service_code = fields.Char(string="Service", help="e.g. Priority, Ground")
    logistics_rate_shop = fields.Boolean(
        string="Rate shop",
        help="Ask every carrier backend of the company and take the best service that fits "
        "the parcels; the others are shown beside it.",
    )
    logistics_rate_shop_criterion = fields.Selection(
        [("cheapest", "Cheapest"), ("fastest", "Fastest, then cheapest")],
        string="Best is",
        default="cheapest",
    )

    # canonical payloads ---------------------------------------------------------------------
    def _logistics_kg(self, weight):
        uom = self.env["product.template"]._get_weight_uom_id_from_ir_config_parameter()
        return uom._compute_quantity(weight, self.env.ref("uom.product_uom_kgm"))

    def _logistics_cm(self, length):
        if not length:
            return None
        uom = self.env["product.template"]._get_length_uom_id_from_ir_config_parameter()
        return round(uom._compute_quantity(length, self.env.ref("uom.product_uom_cm")), 2)

    def _logistics_parcels(self, packages):
        parcels = []
        for index, package in enumerate(packages, start=1):
            parcels.append(
                {
                    "ref": package.name or str(index),
                    "weight_kg": round(self._logistics_kg(package.weight), 3),
                    "length_cm": self._logistics_cm(package.dimension.get("length")),
                    "width_cm": self._logistics_cm(package.dimension.get("width")),
                    "height_cm": self._logistics_cm(package.dimension.get("height")),
                }
            )
        return parcels

    def _logistics_service(self):
        if not (self.logistics_carrier_code and self.logistics_service_code):
            return None
        return {"carrier": self.logistics_carrier_code, "code": self.logistics_service_code}

    def _logistics_payload(self, message_type, payload):
        """Validate a canonical payload: a bad one is a clear error before any call."""
        try:
            self.env["logistics.message"]._schema_registry().validate(message_type, payload)
        except PayloadInvalid as exc:
            raise UserError(
                self.env._(
                    "%(method)s cannot ask %(backend)s: %(reason)s. Complete the addresses and "
                    "weights, then try again.",
                    method=self.name,
                    backend=self.logistics_backend_id.name or self.env._("the carriers"),
                    reason=exc,
                )
            ) from None
        return payload

    def _logistics_backend(self, company=None, operation=None):
        """The method's carrier backend (sudo: the caller needs no Logistics rights to rate
        or book), checked to belong to ``company`` and to answer ``operation``."""
        backend = self.logistics_backend_id.sudo()
        if not backend:
            raise UserError(
                self.env._("Delivery method %s has no carrier backend: set one.", self.name)
            )
        return self._logistics_check_backend(backend, company, operation)

    def _logistics_check_backend(self, backend, company=None, operation=None):
        """``backend``, if ``company`` may use it (a backend of another company never rates
        or books for this one, whatever points at it) and it answers ``operation``."""
        if company and backend.company_id and backend.company_id not in company.parent_ids:
            raise UserError(
                self.env._(
                    "Carrier backend %(backend)s belongs to %(other)s: %(method)s cannot use it "
                    "for %(company)s. Choose a carrier backend of %(company)s.",
                    backend=backend.name,
                    other=backend.company_id.name,
                    method=self.name,
                    company=company.name,
                )
            )
        if operation and not self._logistics_can(backend, operation):
            raise UserError(
                self.env._(
                    "Carrier backend %(backend)s (provider %(provider)s) does not %(what)s: "
                    "choose a carrier backend that does for %(method)s.",
                    backend=backend.name,
                    provider=backend.provider,
                    what=self._logistics_operation_words(operation),
                    method=self.name,
                )
            )
        return backend

    def _logistics_operation_words(self, operation):
        return {
            "carrier.rate": self.env._("give rates"),
            "carrier.book": self.env._("book parcels"),
            "carrier.void": self.env._("void parcels"),
        }.get(operation, operation)

    @api.model
    def _logistics_can(self, backend, operation):
        """Whether ``backend``'s adapter answers the synchronous ``operation``: by the
        capabilities it declares, never by trying (see ``adapters.common.can_call``)."""
        try:
            adapter_class = get_adapter_class(backend.provider, backend.protocol, self.env)
        except TransportError:
            return False  # no adapter installed for its provider
        return can_call(adapter_class, operation)

    # currencies ----------------------------------------------------------------------------
    def _logistics_in_currency(self, amount, code, backend, currency, company, date):
        """``amount`` quoted by ``backend`` in the currency ``code``, in ``currency`` at
        Odoo's rate of ``date`` for ``company``. A currency Odoo does not know, has not
        activated or has no rate for is an error in words, never a 1:1 conversion."""
        code = (code or "").strip().upper()
        quoted = (
            self.env["res.currency"]
            .sudo()
            .with_context(active_test=False)
            .search([("name", "=", code)], limit=1)
        )
        if not quoted:
            raise UserError(
                self.env._(
                    "Carrier %(backend)s quoted in %(code)s, a currency Odoo does not know: "
                    "ask the carrier for prices in a currency Odoo knows, or choose another "
                    "delivery method.",
                    backend=backend.name,
                    code=code or "?",
                )
            )
        if not quoted.active:
            raise UserError(
                self.env._(
                    "Carrier %(backend)s quoted in %(code)s, a currency that is not active in "
                    "Odoo: activate %(code)s among the currencies and give it an exchange "
                    "rate, then try again.",
                    backend=backend.name,
                    code=code,
                )
            )
        if quoted == currency:
            return amount
        Rate = self.env["res.currency.rate"].sudo()
        for needed in (quoted | currency) - company.currency_id:
            if not Rate.search_count(
                [
                    ("currency_id", "=", needed.id),
                    ("company_id", "in", (False, company.root_id.id)),
                ],
                limit=1,
            ):
                raise UserError(
                    self.env._(
                        "Carrier %(backend)s quoted in %(code)s, but Odoo has no exchange rate "
                        "for %(currency)s (%(company)s): enter its rate, then try again.",
                        backend=backend.name,
                        code=code,
                        currency=needed.name,
                        company=company.name,
                    )
                )
        return quoted._convert(amount, currency, company, date)

    def _logistics_order_money(self, order):
        """``(currency, company, date)`` an order's carrier prices are converted with: the
        order's currency, at Odoo's rate of its order date."""
        date = fields.Date.to_date(order.date_order) if order.date_order else None
        return order.currency_id, order.company_id, date or fields.Date.context_today(self)

    def _logistics_quote_note(self, amount, code, converted, currency, date):
        """What the user reads beside a converted price: the carrier's own figure."""
        if (code or "").upper() == currency.name:
            return ""
        return self.env._(
            "%(amount).2f %(code)s quoted by the carrier, %(converted).2f %(currency)s at "
            "Odoo's rate of %(date)s.",
            amount=amount,
            code=code,
            converted=converted,
            currency=currency.name,
            date=date,
        )

    def _logistics_reason(self, err, backend=None):
        """An error of the carrier in plain words."""
        backend = backend or self.logistics_backend_id
        if err.transient:
            return self.env._(
                "Carrier %(backend)s is unavailable right now (%(reason)s). Try again in a "
                "moment, or choose another delivery method.",
                backend=backend.name,
                reason=str(err).split("\n")[0],
            )
        reasons = []
        if err.body:
            adapter = backend.sudo()._get_adapter()
            reasons = adapter.parse_error(err.status, err.body)
        detail = "; ".join(f"{text} ({path})" if path else text for path, text in reasons)
        if err.category == "auth":
            todo = self.env._(
                "Check the credentials of carrier backend %s, then try again.", backend.name
            )
        else:
            todo = self.env._(
                "Correct the address or parcels it names, then try again, or choose another "
                "delivery method."
            )
        return self.env._(
            "Carrier %(backend)s refused: %(detail)s. %(todo)s",
            backend=backend.name,
            detail=(detail or str(err)).rstrip("."),
            todo=todo,
        )

    # rates ---------------------------------------------------------------------------------
    def _logistics_rate_payload(self, order):
        packages = self._get_packages_from_order(order, self.env["stock.package.type"])
        return self._logistics_payload(
            "carrier.rate",
            {
                "reference": order.name,
                "ship_from": (
                    order.warehouse_id.partner_id or order.company_id.partner_id
                )._logistics_address(),
                "ship_to": order.partner_shipping_id._logistics_address(),
                "parcels": self._logistics_parcels(packages),
                "service": self._logistics_service(),
            },
        )

    def logistics_rate_shipment(self, order):
        self.ensure_one()

        def failure(reason):
            return {
                "success": False,
                "price": 0.0,
                "error_message": reason,
                "warning_message": False,
            }

        try:
            payload = self._logistics_rate_payload(order)
        except UserError as exc:
            return failure(str(exc.args[0]))
        if self.logistics_rate_shop:
            return self._logistics_shop(order, payload)
        try:
            backend = self._logistics_backend(order.company_id, "carrier.rate")
        except UserError as exc:
            return failure(str(exc.args[0]))
        try:
            result = backend._call("carrier.rate", payload, record=order)
            rates = self._logistics_rates_of(result, backend)
        except UserError as exc:
            return failure(str(exc.args[0]))
        except TransportError as err:
            try:
                return failure(self._logistics_reason(err))
            except Exception as exc:
                # the carrier's error could not be read: said without its detail
                return failure(self._logistics_rate_failure(backend, exc)[1])
        except Exception as exc:
            # in words on the order form, never a traceback (that one is in the log)
            return failure(self._logistics_rate_failure(backend, exc)[1])
        if not rates:
            return failure(
                self.env._(
                    "%(carrier)s %(service)s is not offered by %(backend)s for this shipment.",
                    carrier=self.logistics_carrier_code,
                    service=self.logistics_service_code,
                    backend=self.logistics_backend_id.name,
                )
            )
        try:
            [offer] = self._logistics_priced([rates[0]], backend, order)
        except UserError as exc:
            return failure(str(exc.args[0]))
        return {
            "success": True,
            "price": offer["price"],
            "error_message": False,
            "warning_message": offer["note"] or False,
        }

    def _logistics_rate_failure(self, backend, exc):
        """What a rate request to ``backend`` that raised ``exc`` reads as: ``(short, full)``,
        the carrier and the reason in parentheses for the rate shop's list of carriers not
        answering, and a sentence for a method of one carrier. A carrier's unexpected
        failure never reaches the order form as a traceback (it is in the server log); a
        failure of the database itself is raised again, for Odoo to retry or report."""
        if isinstance(exc, psycopg2.Error):
            raise exc
        if isinstance(exc, TransportError):
            reason = (str(exc).splitlines() or ["?"])[0]
            full = self.env._(
                "Carrier %(backend)s is unavailable right now (%(reason)s). Try again in a "
                "moment, or choose another delivery method.",
                backend=backend.name,
                reason=reason,
            )
        elif isinstance(exc, secret_box.SecretKeyMissing | secret_box.SecretUndecryptable):
            reason = str(exc)
            full = self.env._(
                "Carrier backend %(backend)s cannot be used: %(reason)s Until then, choose "
                "another delivery method.",
                backend=backend.name,
                reason=reason,
            )
        else:
            _logger.exception("rate request: carrier backend %s failed", backend.code)
            reason = self.env._(
                "an unexpected error, %s: the server log has the detail", type(exc).__name__
            )
            full = self.env._(
                "Carrier %(backend)s could not give a rate: an unexpected error (%(error)s); "
                "the server log has the detail. Try again in a moment, or choose another "
                "delivery method.",
                backend=backend.name,
                error=type(exc).__name__,
            )
        return f"{backend.name} ({reason})", full

    def _logistics_rates_of(self, result, backend):
        """The rates of a ``carrier.rate`` answer; an answer without them is the carrier's
        fault, said in words (the caller shows it, the other carriers still compete)."""
        data = result.data
        rates = data.get("rates") if isinstance(data, dict) else None
        if not isinstance(rates, list) or not all(
            isinstance(r, dict)
            and isinstance(r.get("price"), int | float)
            and r.get("carrier")
            and r.get("service")
            for r in rates
        ):
            raise UserError(
                self.env._(
                    "Carrier backend %(backend)s answered the rate request without rates Odoo "
                    "can read: check that its provider (%(provider)s) is a carrier that gives "
                    "rates, or choose another delivery method.",
                    backend=backend.name,
                    provider=backend.provider,
                )
            )
        return rates

    def _logistics_priced(self, rates, backend, order):
        """``rates`` of ``backend`` priced in the order's currency (``price``), each with
        the carrier's own figure (``quoted``, ``currency``) and what the user reads about
        the conversion (``note``, empty when the carrier quoted in the order's currency)."""
        currency, company, date = self._logistics_order_money(order)
        priced = []
        for rate in rates:
            code = rate.get("currency") or currency.name
            price = self._logistics_in_currency(
                rate["price"], code, backend, currency, company, date
            )
            priced.append(
                dict(
                    rate,
                    price=price,
                    quoted=rate["price"],
                    currency=code,
                    note=self._logistics_quote_note(rate["price"], code, price, currency, date),
                )
            )
        return priced

    def _logistics_shop_backends(self, company):
        """The carrier backends of ``company`` that give rates (by the capabilities their
        adapter declares: a freight invoice feed or any other carrier-kind partner that
        does not rate is left out)."""
        return (
            self.env["logistics.backend"]
            .sudo()
            .search(
                [
                    ("kind", "=", "carrier"),
                    ("company_id", "in", (*company.parent_ids.ids, False)),
                ]
            )
            .filtered(lambda b: self._logistics_can(b, "carrier.rate"))
        )

    def _logistics_shop(self, order, payload):
        """Every carrier backend that rates asked for every service; the best one
        (cheapest, or fastest then cheapest, compared in the order's currency) is the
        price, the others are listed; a carrier that fails or answers what cannot be
        compared is named with the reason and left out. The choice is kept on the order for
        the booking."""
        payload = dict(payload, service=None)
        offers, unavailable, left_out = [], [], []
        for backend in self._logistics_shop_backends(order.company_id):
            try:
                result = backend._call("carrier.rate", payload, record=order)
                rates = self._logistics_rates_of(result, backend)
                offers += [
                    dict(rate, backend_id=backend.id, backend=backend.name)
                    for rate in self._logistics_priced(rates, backend, order)
                ]
            except Exception as exc:
                # named and left out (in words, the detail in the log): the others compete
                if isinstance(exc, UserError):
                    left_out.append(str(exc.args[0]))
                else:
                    unavailable.append(self._logistics_rate_failure(backend, exc)[0])
        if not offers:
            why = ["; ".join(unavailable)] if unavailable else []
            return {
                "success": False,
                "price": 0.0,
                "error_message": " ".join(
                    [
                        self.env._(
                            "No carrier offered a service for this shipment%(why)s.",
                            why=(": " + why[0]) if why else "",
                        ),
                        *left_out,
                    ]
                ),
                "warning_message": False,
            }
        if self.logistics_rate_shop_criterion == "fastest":
            offers.sort(key=lambda r: (r.get("days") or 99, r["price"]))
        else:
            offers.sort(key=lambda r: (r["price"], r.get("days") or 99))
        best = offers[0]
        order.sudo().logistics_carrier_choice = json.dumps(
            {k: best[k] for k in ("backend_id", "carrier", "service", "price")}
            | {"quoted": best["quoted"], "currency": best["currency"]}
        )
        order_currency = order.currency_id.name

        def quoted(rate):
            if rate["currency"] == order_currency:
                return ""
            return f"{rate['quoted']:.2f} {rate['currency']}, "

        others = ", ".join(
            f"{r['carrier']} {r['service']} {r['price']:.2f} ({quoted(r)}{r.get('days') or '?'} d)"
            for r in offers[1:4]
        )
        warning = self.env._(
            "Best offer: %(carrier)s %(service)s with %(backend)s.",
            carrier=best["carrier"],
            service=best["service"],
            backend=best["backend"],
        )
        if best["note"]:
            warning += " " + best["note"]
        if others:
            warning += " " + self.env._(
                "Also offered (%(currency)s): %(others)s.", currency=order_currency, others=others
            )
        if unavailable:
            warning += " " + self.env._("Not answering: %s.", "; ".join(unavailable))
        if left_out:
            warning += " " + self.env._("Left out: %s", " ".join(left_out))
        return {
            "success": True,
            "price": best["price"],
            "error_message": False,
            "warning_message": warning,
        }

    def _logistics_booking_target(self, picking):
        """``(backend, service)`` the delivery is booked with: the method's own, or for a
        rate shop the choice made when the order was rated (shopped again if none)."""
        if not self.logistics_rate_shop:
            backend = self._logistics_backend(picking.company_id, "carrier.book")
            return backend, self._logistics_service()
        choice = picking.sale_id.logistics_carrier_choice
        if not choice:
            if not picking.sale_id:
                raise UserError(
                    self.env._(
                        "%s uses a rate shop: rate its sale order first (Add shipping), so "
                        "that a carrier is chosen.",
                        picking.name,
                    )
                )
            result = self._logistics_shop(
                picking.sale_id, self._logistics_rate_payload(picking.sale_id)
            )
            if not result["success"]:
                raise UserError(result["error_message"])
            choice = picking.sale_id.logistics_carrier_choice
        data = json.loads(choice)
        backend = self.env["logistics.backend"].sudo().browse(data["backend_id"]).exists()
        if not backend:
            raise UserError(
                self.env._(
                    "The carrier chosen for %s no longer exists: rate it again.", picking.name
                )
            )
        self._logistics_check_backend(backend, picking.company_id, "carrier.book")
        return backend, {"carrier": data["carrier"], "code": data["service"]}

    # booking -------------------------------------------------------------------------------
    def logistics_send_shipping(self, pickings):
        results = []
        for picking in pickings:
            results.append(self._logistics_book(picking))
        return results

    def _logistics_book_payload(
        self, picking, backend, service, packages, is_return=False, idempotency_key=None
    ):
        """The ``carrier.book`` payload of ``picking``; for a return label the parcel
        travels from the customer back to the warehouse. ``idempotency_key``: the
        booking's key (a queued booking has its message's instead)."""
        if not service:
            raise UserError(
                self.env._(
                    "Delivery method %s names no carrier service to book: set its carrier and "
                    "service.",
                    self.name,
                )
            )
        warehouse = (
            picking.picking_type_id.warehouse_id.partner_id or picking.company_id.partner_id
        )._logistics_address()
        customer = picking.partner_id._logistics_address()
        payload = {
            "reference": picking.name,
            "ship_from": customer if is_return else warehouse,
            "ship_to": warehouse if is_return else customer,
            "parcels": self._logistics_parcels(packages),
            "service": service,
            "label_format": backend.carrier_label_format or "PDF",
        }
        if is_return:
            payload["is_return"] = True
        if idempotency_key:
            payload["idempotency_key"] = idempotency_key
        return self._logistics_payload("carrier.book", payload)

    def _logistics_booking_key(self, picking, is_return=False):
        """The key of the booking of ``picking`` (or of its return label) about to be made:
        the same for every attempt of that booking (a validation retried after the
        carrier's answer was lost finds what the first attempt bought), a new one once a
        booking was recorded, cancelled or voided after a rollback (the delivery's booking
        round, see ``logistics_booking_round``)."""
        kind, round_field = ROUNDS[bool(is_return)]
        return self.env["logistics.message"]._scoped_key(
            "carrier.book", picking.id, kind, picking.sudo()[round_field]
        )

    def _logistics_book(self, picking):
        """Book ``picking`` with the carrier now (a synchronous call), or, when a queued
        booking came back from the carrier (context ``logistics_booked``: the message and
        the carrier's answer), record that booking; Odoo's ``send_to_shipper`` does the rest
        (price with margins, tracking reference, chatter, delivery cost on the order)."""
        packages = self._get_packages_from_picking(picking, self.env["stock.package.type"])
        booked = self.env.context.get("logistics_booked")
        if booked:
            booking = self.env["logistics.message"].sudo().browse(booked["message_id"])
            backend, service = booking.backend_id, booking._get_payload()["service"]
            data = booked["data"]
        else:
            backend, service = self._logistics_booking_target(picking)
            payload = self._logistics_book_payload(
                picking,
                backend,
                service,
                packages,
                idempotency_key=self._logistics_booking_key(picking),
            )
            data, booking = self._logistics_book_now(
                picking,
                backend,
                payload,
                lambda reason: self.env._(
                    "%(picking)s could not be booked: %(reason)s",
                    picking=picking.name,
                    reason=reason,
                ),
            )
        self._logistics_store_booking(picking, backend, service, data, booking, packages)
        price = self._logistics_booked_price(picking, backend, data)
        if self.return_label_on_delivery:
            self.get_return_label(picking)
        return {
            "exact_price": price,
            "tracking_number": ",".join(p["tracking_number"] for p in data["parcels"]),
        }

    def _logistics_booked_price(self, picking, backend, data):
        """The carrier's price of a booking in the currency of the delivery's order (else
        of its company), at Odoo's rate of the order date; the carrier's own figure goes on
        the delivery's chatter when it was in another currency."""
        order = picking.sale_id
        if order:
            currency, company, date = self._logistics_order_money(order)
        else:
            company = picking.company_id
            currency, date = company.currency_id, fields.Date.context_today(self)
        code = data.get("currency") or currency.name
        price = self._logistics_in_currency(data["price"], code, backend, currency, company, date)
        note = self._logistics_quote_note(data["price"], code, price, currency, date)
        if note:
            picking.message_post(
                body=self.env._(
                    "Booked with %(backend)s: %(note)s", backend=backend.name, note=note
                )
            )
        return price

    def _logistics_book_now(self, picking, backend, payload, failure):
        """Book with the carrier now: ``(answer, recorded call)``; the booking guarded
        against a rollback of this transaction. A refusal or outage raises ``failure(reason)``
        as the user's error."""
        try:
            result = backend._call("carrier.book", payload, record=picking)
        except AnswerLost as err:
            raise UserError(failure(str(err))) from None
        except TransportError as err:
            raise UserError(failure(self._logistics_reason(err, backend))) from None
        self._logistics_guard_booking(picking, backend, result.data, payload)
        return result.data, self.env["logistics.message"].browse(result.message_id)

    def _logistics_store_booking(
        self, picking, backend, service, data, booking, packages, is_return=False
    ):
        """One parcel per package booked, each with its label as an attachment (named as
        Odoo names shipping and return labels) and, apart from it, the customs documents the
        carrier issued for it."""
        by_ref = {package.name or str(i): package for i, package in enumerate(packages, start=1)}
        quant_packages = {p.name: p for p in picking.move_line_ids.result_package_id}
        Parcel = self.env["logistics.carrier.parcel"].sudo()
        Attachment = self.env["ir.attachment"].sudo()
        prefix = self.get_return_label_prefix() if is_return else self._get_delivery_label_prefix()
        parcels = Parcel.browse()
        for booked in data["parcels"]:
            extension = "zpl" if booked["label_format"] == "ZPL" else "pdf"
            label = Attachment.create(
                {
                    "name": "{}-{}.{}".format(prefix, booked["tracking_number"], extension),
                    "datas": booked["label_b64"],
                    "mimetype": "application/pdf" if extension == "pdf" else "application/zpl",
                    "res_model": "stock.picking",
                    "res_id": picking.id,
                }
            )
            documents = Attachment.create(
                [
                    {
                        "name": "{}-{}-{}.pdf".format(
                            self._get_delivery_doc_prefix(),
                            booked["tracking_number"],
                            document["type"],
                        ),
                        "datas": document["file_b64"],
                        "mimetype": "application/pdf",
                        "res_model": "stock.picking",
                        "res_id": picking.id,
                    }
                    for document in booked.get("documents") or []
                ]
            )
            package = by_ref.get(booked["ref"])
            parcels |= Parcel.create(
                {
                    "picking_id": picking.id,
                    "package_id": quant_packages.get(package.name).id
                    if package and package.name in quant_packages
                    else False,
                    "package_name": booked["ref"],
                    "backend_id": backend.id,
                    "carrier_id": self.id,
                    "shipment_ref": booked["shipment_id"],
                    "tracker_ref": booked.get("tracker_id"),
                    "tracking_number": booked["tracking_number"],
                    "service": f"{service['carrier']} {service['code']}",
                    "price": booked["price"],
                    "currency": booked["currency"],
                    "label_format": booked["label_format"],
                    "label_attachment_id": label.id,
                    "document_ids": [fields.Command.set(documents.ids)],
                    "is_return": is_return,
                    "booking_message_id": booking.id,
                }
            )
        # a booking recorded: the next one (after a cancellation) is another operation
        picking.sudo()[ROUNDS[is_return][1]] += 1
        if data.get("reused_shipment_ids"):
            picking.message_post(
                body=self.env._(
                    "%(backend)s had already bought %(shipments)s in an earlier attempt of "
                    "this booking whose answer was lost: kept, not bought a second time.",
                    backend=backend.name,
                    shipments=", ".join(data["reused_shipment_ids"]),
                )
            )
        if data.get("refunded_orphan_ids"):
            picking.message_post(
                body=self.env._(
                    "%(backend)s held other shipments bought for this booking (%(shipments)s): "
                    "refunded, so that only the parcels recorded here are billed.",
                    backend=backend.name,
                    shipments=", ".join(data["refunded_orphan_ids"]),
                )
            )
        return parcels

    def _logistics_queue_booking(self, picking, backend, service):
        """Queued booking: the payload is checked now (missing data is a clear error at
        validation), the carrier is asked by the message's job, retried like any message;
        the label and tracking number come when it answers (see logistics.message
        ``_on_sent``)."""
        packages = self._get_packages_from_picking(picking, self.env["stock.package.type"])
        payload = self._logistics_book_payload(picking, backend, service, packages)
        Message = self.env["logistics.message"].sudo()
        former = Message.search_count(
            [
                ("backend_id", "=", backend.id),
                ("res_model", "=", "stock.picking"),
                ("res_id", "=", picking.id),
                ("message_type", "=", "carrier.book"),
                ("is_call", "=", False),
            ]
        )
        # the booking's one key across its attempts: the message's (see the adapters)
        message = backend._send_message(
            "carrier.book",
            payload,
            record=picking,
            idempotency_key=Message._scoped_key("carrier.book", picking.id, "queued", former + 1),
            former_keys=[f"book:{picking.id}:{former + 1}"],
            subject=self.env._(
                "Booking of %(picking)s (%(carrier)s %(service)s)",
                picking=picking.name,
                carrier=service["carrier"],
                service=service["code"],
            ),
        )
        picking.write(
            {"logistics_booking_state": "queued", "logistics_booking_message_id": message.id}
        )
        picking.message_post(
            body=self.env._(
                "Booking with %(backend)s queued (%(carrier)s %(service)s): the tracking number "
                "and labels appear here once the carrier has booked.",
                backend=backend.name,
                carrier=service["carrier"],
                service=service["code"],
            )
        )
        return message

    def _logistics_guard_booking(self, picking, backend, data, request=None, booking=None):
        """The carrier has booked (and bills) these parcels; if the transaction validating
        the delivery rolls back, Odoo would forget them. Should it roll back, a void of the
        booking is queued in a transaction of its own, with the booking's tracking numbers
        and price: the base sends it (retried like any message) and it then lands in the
        exception queue saying what happened and what to do. The booking made again after
        that is another operation under another key (the delivery's booking round, or for a
        queued ``booking`` message a new key of its own): it never takes back the shipments
        being voided."""
        dbname = self.env.cr.dbname
        backend_id = backend.id
        booking_id = booking.id if booking else None
        round_field = ROUNDS[bool((request or {}).get("is_return"))][1]
        payload = {
            "reference": picking.name or (request or {}).get("reference"),
            "shipment_ids": list(dict.fromkeys(p["shipment_id"] for p in data["parcels"])),
            "tracking_numbers": [p["tracking_number"] for p in data["parcels"]],
            "price": data.get("price"),
            "reason": "rolled_back",
        }
        picking_id = picking.id

        def queue_void():
            try:
                with Registry(dbname).cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    record = env["stock.picking"].browse(picking_id).exists()
                    env["logistics.backend"].browse(backend_id)._send_message(
                        "carrier.void",
                        payload,
                        record=record or None,
                        idempotency_key="void:" + ",".join(payload["shipment_ids"]),
                        subject=env._(
                            "Void of the booking of %(ref)s (validation rolled back)",
                            ref=payload["reference"],
                        ),
                    )
                    if record:
                        record[round_field] += 1
                    message = env["logistics.message"].browse(booking_id).exists()
                    if message:
                        message.idempotency_key = env["logistics.message"]._scoped_key(
                            "carrier.book",
                            picking_id,
                            "queued",
                            message.id,
                            record[round_field] if record else 0,
                        )
            except Exception:
                _logger.exception(
                    "could not queue the void of %s (shipments %s) after a rollback: void "
                    "them at the carrier by hand",
                    payload["reference"],
                    payload["shipment_ids"],
                )

        self.env.cr.postrollback.add(queue_void)

    # return labels ---------------------------------------------------------------------------
    def _compute_can_generate_return(self):
        res = super()._compute_can_generate_return()
        for carrier in self.filtered(lambda c: c.delivery_type == "logistics"):
            carrier.can_generate_return = True
        return res

    def logistics_get_return_label(self, pickings, tracking_number=None, origin_date=None):
        """A prepaid return label per parcel, from the customer back to the warehouse: for a
        delivery (with *Generate Return Label* on the method) or for its return. Kept as the
        delivery's return parcels (tracked like any parcel); asked again, the labels kept are
        printed, never booked twice."""
        for picking in pickings:
            if picking.logistics_parcel_ids.filtered(lambda p: p.is_return and p.state == "booked"):
                continue
            backend, service = self._logistics_booking_target(picking)
            packages = self._get_packages_from_picking(picking, self.env["stock.package.type"])
            payload = self._logistics_book_payload(
                picking,
                backend,
                service,
                packages,
                is_return=True,
                idempotency_key=self._logistics_booking_key(picking, is_return=True),
            )
            data, booking = self._logistics_book_now(
                picking,
                backend,
                payload,
                lambda reason, name=picking.name: self.env._(
                    "No return label for %(picking)s: %(reason)s",
                    picking=name,
                    reason=reason,
                ),
            )
            parcels = self._logistics_store_booking(
                picking, backend, service, data, booking, packages, is_return=True
            )
            picking.message_post(
                body=self.env._(
                    "Return label booked with %(backend)s: %(numbers)s",
                    backend=backend.name,
                    numbers=", ".join(parcels.mapped("tracking_number")),
                )
            )

    # tracking link, cancellation -----------------------------------------------------------------
    def logistics_get_tracking_link(self, picking):
        pattern = TRACKING_URLS.get((self.logistics_carrier_code or "").upper())
        parcel = picking.logistics_parcel_ids.filtered(
            lambda p: p.state == "booked" and not p.is_return
        )[:1]
        if not pattern or not parcel:
            return False
        return pattern % parcel.tracking_number

    def logistics_cancel_shipment(self, pickings):
        for picking in pickings:
            parcels = picking.logistics_parcel_ids.filtered(lambda p: p.state == "booked")
            if not parcels:
                continue
            backend = parcels.backend_id[:1]
            try:
                result = backend._call(
                    "carrier.void",
                    {
                        "reference": picking.name,
                        "shipment_ids": list(dict.fromkeys(parcels.mapped("shipment_ref"))),
                        "tracking_numbers": parcels.mapped("tracking_number"),
                        "reason": "cancelled",
                    },
                    record=picking,
                )
            except TransportError as err:
                raise UserError(
                    self.env._(
                        "The shipment of %(picking)s could not be cancelled at the carrier: "
                        "%(reason)s",
                        picking=picking.name,
                        reason=self._logistics_reason(err),
                    )
                ) from None
            self._logistics_voids_answered(picking, backend, parcels, result.data)

    def _logistics_voids_answered(self, picking, backend, parcels, data):
        """Each parcel as the carrier answered the void: ``voided`` at once, ``requested``
        (the carrier decides later: *Void requested* until a ``carrier.refund`` message
        settles it) or ``refused`` (still booked). Refused for every parcel: an error."""
        states = {v["shipment_id"]: v.get("status") for v in (data or {}).get("voided") or []}

        def answered(state):
            return parcels.filtered(lambda p: states.get(p.shipment_ref, "voided") == state)

        refused = answered("refused")
        if refused == parcels:
            raise UserError(
                self.env._(
                    "%(backend)s refused to void the shipment of %(picking)s (tracking "
                    "%(numbers)s): its labels stay valid and billed. Ship with them, or ask the "
                    "carrier why.",
                    backend=backend.name,
                    picking=picking.name,
                    numbers=", ".join(refused.mapped("tracking_number")),
                )
            )
        requested = answered("requested")
        requested.write(
            {
                "state": "void_requested",
                "void_requested_at": fields.Datetime.now(),
                "void_requested_by": self.env.user.id,
            }
        )
        (parcels - refused - requested).write({"state": "voided"})
        # booking again is a new operation
        picking.sudo().write(
            {
                field: picking.sudo()[field] + 1
                for field in ("logistics_booking_round", "logistics_return_round")
            }
        )
        lines = [
            self.env._(
                "Shipment cancelled at %(backend)s: %(numbers)s",
                backend=backend.name,
                numbers=", ".join((parcels - refused).mapped("tracking_number")),
            )
        ]
        if requested:
            lines.append(
                self.env._(
                    "The carrier refunds %(numbers)s once it has checked they were not used "
                    "(Void requested); the delivery shows when it is done or refused.",
                    numbers=", ".join(requested.mapped("tracking_number")),
                )
            )
        if refused:
            lines.append(
                self.env._(
                    "%(backend)s refused to void %(numbers)s: they stay booked and billed.",
                    backend=backend.name,
                    numbers=", ".join(refused.mapped("tracking_number")),
                )
            )
        picking.message_post(body=" ".join(lines))
        picking.carrier_tracking_ref = False
