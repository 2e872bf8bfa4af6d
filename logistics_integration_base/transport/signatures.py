"""Webhook signature schemes (verification for inbound, signing for tests and simulators).

Standard Webhooks (https://www.standardwebhooks.com/):
    headers ``webhook-id``, ``webhook-timestamp`` (unix seconds) and ``webhook-signature``:
    space-separated ``v1,<base64(HMAC-SHA256(key, id + "." + timestamp + "." + body))>``
    entries, ``key`` being the base64-decoded part of a ``whsec_<base64>`` secret.

Body HMAC (Shopify-, ShipHero-style senders):
    a named header holds ``base64(HMAC-SHA256(secret, raw body))`` (``sha256=<hex>`` is
    accepted too); the secret is used as is, and a named header carries the event id.

Several secrets may be active at once (rotation): a signature made with any of them passes.
Comparisons are constant-time.

Schemes are registered by key (:data:`SCHEMES`): a verifier is a function
``verify(secrets, headers, body, options) -> event id`` raising ``SignatureError``, where
``options`` holds the backend's webhook settings (``tolerance``, ``signature_header``,
``event_id_header``). A module adds a scheme with :func:`register_scheme` and a
``selection_add`` on ``logistics.backend.webhook_scheme`` (``readme/EXTEND.md``).
"""

import base64
import binascii
import hashlib
import hmac
import time

from ..exceptions import SignatureError
from ..tools.plugins import PluginRegistry

WHSEC_PREFIX = "whsec_"
DEFAULT_TOLERANCE = 300  # seconds

#: scheme key -> verifier
SCHEMES = PluginRegistry("webhook signature scheme")


def register_scheme(key):
    """Decorator registering a webhook verifier under a scheme key."""
    return SCHEMES.register(key)


def get_scheme(key, env=None):
    verifier = SCHEMES.get(key, env)
    if verifier is None:
        raise SignatureError(f"the webhook signature scheme '{key}' is not installed")
    return verifier


def standard_key(secret):
    """The HMAC key of a Standard Webhooks secret (``whsec_<base64>`` or bare base64)."""
    raw = secret[len(WHSEC_PREFIX) :] if secret.startswith(WHSEC_PREFIX) else secret
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a Standard Webhooks secret is 'whsec_' followed by base64") from None


def standard_sign(secret, msg_id, timestamp, body):
    key = standard_key(secret)
    signed = b"%s.%d.%s" % (msg_id.encode(), int(timestamp), body)
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def standard_verify(secrets, headers, body, tolerance=DEFAULT_TOLERANCE, now=None):
    """Check a Standard Webhooks request; return its ``webhook-id``.

    ``headers`` is a case-insensitive mapping; ``body`` the raw bytes.
    """
    msg_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signature = headers.get("webhook-signature")
    if not (msg_id and timestamp and signature):
        raise SignatureError(
            "missing Standard Webhooks headers (webhook-id, webhook-timestamp, webhook-signature)"
        )
    try:
        ts = int(timestamp)
    except ValueError:
        raise SignatureError("webhook-timestamp is not a unix time in seconds") from None
    now = int(now if now is not None else time.time())
    if abs(now - ts) > tolerance:
        raise SignatureError(
            f"webhook-timestamp is {abs(now - ts)} s away from the server clock "
            f"(tolerance {tolerance} s)"
        )
    offered = []
    for entry in signature.split():
        version, _, value = entry.partition(",")
        if version == "v1" and value:
            try:
                offered.append(base64.b64decode(value))
            except (binascii.Error, ValueError):
                continue
    if not offered:
        raise SignatureError("webhook-signature has no v1 signature")
    signed = b"%s.%d.%s" % (msg_id.encode(), ts, body)
    for secret in secrets:
        expected = hmac.new(standard_key(secret), signed, hashlib.sha256).digest()
        if any(hmac.compare_digest(expected, sig) for sig in offered):
            return msg_id
    raise SignatureError("webhook-signature does not match")


def body_hmac_sign(secret, body):
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def body_hmac_verify(secrets, headers, body, signature_header, event_id_header):
    """Check a body-HMAC request; return its event id (from ``event_id_header``)."""
    value = (headers.get(signature_header) or "").strip()
    if not value:
        raise SignatureError(f"missing signature header {signature_header}")
    if value.startswith("sha256="):
        try:
            offered = bytes.fromhex(value[7:])
        except ValueError:
            raise SignatureError(f"{signature_header} is not valid hex") from None
    else:
        try:
            offered = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise SignatureError(f"{signature_header} is not valid base64") from None
    for secret in secrets:
        expected = hmac.new(secret.encode(), body, hashlib.sha256).digest()
        if hmac.compare_digest(expected, offered):
            event_id = (headers.get(event_id_header) or "").strip()
            if not event_id:
                raise SignatureError(f"missing event id header {event_id_header}")
            return event_id
    raise SignatureError(f"{signature_header} does not match the body")


@register_scheme("standard")
def verify_standard(secrets, headers, body, options):
    return standard_verify(
        secrets, headers, body, tolerance=options.get("tolerance") or DEFAULT_TOLERANCE
    )


@register_scheme("body_hmac")
def verify_body_hmac(secrets, headers, body, options):
    return body_hmac_verify(
        secrets,
        headers,
        body,
        options.get("signature_header") or "X-Webhook-Signature",
        options.get("event_id_header") or "X-Webhook-Id",
    )
