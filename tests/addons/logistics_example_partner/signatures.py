"""The ``example_hmac`` scheme: ``X-Example-Signature: t=<unix time>,s=<hex HMAC-SHA256 of
"<t>.<body>">``, the event id in ``X-Example-Event``."""

import hashlib
import hmac
import time

from odoo.addons.logistics_integration_base.exceptions import SignatureError
from odoo.addons.logistics_integration_base.transport.signatures import register_scheme


def sign(secret, body, timestamp=None):
    timestamp = int(timestamp if timestamp is not None else time.time())
    digest = hmac.new(secret.encode(), b"%d.%s" % (timestamp, body), hashlib.sha256).hexdigest()
    return f"t={timestamp},s={digest}"


@register_scheme("example_hmac")
def verify(secrets, headers, body, options):
    fields = dict(
        part.split("=", 1)
        for part in (headers.get("X-Example-Signature") or "").split(",")
        if "=" in part
    )
    if "t" not in fields or "s" not in fields:
        raise SignatureError("missing X-Example-Signature")
    try:
        timestamp = int(fields["t"])
    except ValueError:
        raise SignatureError("X-Example-Signature has no unix time") from None
    if abs(time.time() - timestamp) > options["tolerance"]:
        raise SignatureError("X-Example-Signature is too old")
    for secret in secrets:
        if hmac.compare_digest(sign(secret, body, timestamp), f"t={timestamp},s={fields['s']}"):
            event_id = headers.get("X-Example-Event")
            if not event_id:
                raise SignatureError("missing X-Example-Event")
            return event_id
    raise SignatureError("X-Example-Signature does not match")
