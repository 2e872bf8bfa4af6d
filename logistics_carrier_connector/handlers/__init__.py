from odoo.tools.translate import LazyTranslate

from odoo.addons.logistics_integration_base.handlers import register_message_types

from . import refund, tracking

_lt = LazyTranslate(__name__)

register_message_types(
    {
        "carrier.rate": _lt("Rate request"),
        "carrier.book": _lt("Parcel booking"),
        "carrier.void": _lt("Label cancellation"),
        "carrier.refund": _lt("Postage refund"),
        "carrier.follow": _lt("Parcel to follow"),
        "tracking.update": _lt("Tracking news"),
    }
)
