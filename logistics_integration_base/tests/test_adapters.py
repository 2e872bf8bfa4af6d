"""The adapter contract: declared capabilities, the generic error parser, registries."""

from odoo.tests import TransactionCase, tagged

from ..adapters import (
    CALL,
    FETCH,
    PARSE_INBOUND,
    POLL,
    SEND,
    TEST_CONNECTION,
    Adapter,
    get_adapter_class,
    parse_json_error,
    register,
)
from ..adapters.generic import GenericAdapter
from ..exceptions import CapabilityMissing, TransportError
from ..handlers import HANDLERS, MessageHandler, register_handler
from .common import LogisticsCaseMixin


@tagged("post_install", "-at_install")
class TestAdapters(LogisticsCaseMixin, TransactionCase):
    def test_generic_declares_what_it_does(self):
        self.assertEqual(
            GenericAdapter.capabilities, {SEND, CALL, FETCH, PARSE_INBOUND, TEST_CONNECTION}
        )
        self.assertFalse(GenericAdapter.supports(POLL))
        backend = self._make_backend()
        with self.assertRaises(CapabilityMissing) as caught:
            backend._get_adapter().poll()
        self.assertIn(
            f"Backend {backend.name} (provider generic) cannot poll", str(caught.exception)
        )

    def test_unknown_capability_is_refused_at_registration(self):
        with self.assertRaises(ValueError):

            @register("broken-example")
            class Broken(Adapter):
                capabilities = frozenset({"teleport"})

    def test_unknown_provider_is_a_clear_error(self):
        with self.assertRaises(TransportError) as caught:
            get_adapter_class("nobody", "rest", self.env)
        self.assertIn(
            "no adapter is installed for provider 'nobody' over rest", str(caught.exception)
        )

    def test_out_of_order_policy_is_checked(self):
        with self.assertRaises(ValueError):

            @register_handler("broken.example")
            class Broken(MessageHandler):
                out_of_order = "whenever"

        self.assertNotIn("broken.example", HANDLERS)

    def test_error_parser_reads_common_json_shapes(self):
        cases = [
            (
                '{"errors": {"ship_to.phone": ["is required for express"]}}',
                [("ship_to.phone", "is required for express")],
            ),
            (  # RFC 9457 problem details with field errors
                '{"type": "about:blank", "title": "Invalid order", "status": 422,'
                ' "errors": [{"pointer": "/ship_to/zip", "detail": "unknown postcode"}]}',
                [("ship_to.zip", "unknown postcode")],
            ),
            (
                '{"title": "Invalid order", "detail": "the order has no lines"}',
                [(None, "the order has no lines")],
            ),
            (
                '{"error": "invalid_client", "error_description": "bad secret"}',
                [(None, "invalid_client: bad secret")],
            ),
            ('{"error": {"message": "quota exceeded"}}', [(None, "quota exceeded")]),
            ('{"message": "Order already exists"}', [(None, "Order already exists")]),
            (
                '{"errors": [{"field": "lines[0].sku", "message": "unknown SKU"}, "late"]}',
                [("lines[0].sku", "unknown SKU"), (None, "late")],
            ),
            (  # RFC 9457's own example: pointers as URI fragments
                '{"type": "https://example.net/validation-error", "title": "Invalid",'
                ' "errors": [{"detail": "must be a phone number", "pointer": "#/ship_to/phone"},'
                ' {"detail": "unknown SKU", "pointer": "#/lines/0/sku"},'
                ' {"detail": "bad key", "pointer": "#/meta/a~1b%20c"}]}',
                [
                    ("ship_to.phone", "must be a phone number"),
                    ("lines[0].sku", "unknown SKU"),
                    ("meta.a/b c", "bad key"),
                ],
            ),
            (  # RFC 7807's "invalid-params" extension names the fields
                '{"type": "https://example.net/validation-error",'
                ' "title": "Your request parameters didn\'t validate.",'
                ' "invalid-params": [{"name": "age", "reason": "must be a positive integer"},'
                ' {"name": "/ship_to/zip", "reason": "unknown postcode"}]}',
                [("age", "must be a positive integer"), ("ship_to.zip", "unknown postcode")],
            ),
            (  # a pointer to the whole document names no field
                '{"errors": [{"pointer": "", "detail": "empty order"}]}',
                [(None, "empty order")],
            ),
            ("<html>Bad gateway</html>", []),
            ("", []),
            (b'{"message": "bytes too"}', [(None, "bytes too")]),
        ]
        for body, expected in cases:
            with self.subTest(body=body):
                self.assertEqual(parse_json_error(body), expected)
