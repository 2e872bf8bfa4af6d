from odoo.tools.translate import LazyTranslate

from odoo.addons.logistics_integration_base.handlers import register_message_types

from . import customs_status

_lt = LazyTranslate(__name__)

register_message_types(
    {
        "customs.declaration": _lt("Customs declaration"),
        "customs.cancel": _lt("Declaration withdrawal"),
        "customs.status": _lt("Customs status"),
    }
)
