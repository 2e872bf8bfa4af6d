"""How HMRC authenticates the notifications it pushes to a CDS client's callback URL.

HMRC's ``customs-notification`` service sends each notification with the ``Authorization``
header set to the security token the client registered with its callback URL (the header's
whole value, e.g. ``Basic ...`` or a bare token), and ``X-Conversation-ID``: the conversation
of the submission the notification answers. The backend's webhook secret is that token;
during a rotation the previous one is accepted too.
"""

import hashlib
import hmac

from odoo.addons.logistics_integration_base.exceptions import SignatureError
from odoo.addons.logistics_integration_base.transport.signatures import register_scheme


@register_scheme("hmrc_cds")
def verify_hmrc_cds(secrets, headers, body, options):
    """Raise ``SignatureError`` unless ``Authorization`` is a registered token; return the
    event id: the conversation and the digest of the body (HMRC sends a notification again,
    byte for byte, until it is answered 2xx; two notifications of one conversation differ)."""
    given = (headers.get("Authorization") or "").strip()
    if not given:
        raise SignatureError("the Authorization header HMRC sends with notifications is missing")
    if not any(hmac.compare_digest(given.encode(), secret.encode()) for secret in secrets):
        raise SignatureError("the Authorization header is not the token registered with HMRC")
    conversation = (headers.get("X-Conversation-ID") or "").strip()
    digest = hashlib.sha256(body).hexdigest()[:32]
    return f"{conversation}:{digest}" if conversation else digest
