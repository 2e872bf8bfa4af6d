"""Converters between the versions of the carrier connector's canonical message types (see
``logistics_integration_base/tools/versions.py`` and ``schemas/CHANGELOG.md``).

- ``tracking.update`` v2 adds ``estimated_delivery``, the carrier's estimate of the delivery
  day: a v1 update carries none (null); going down to v1 drops it.
"""

from odoo.addons.logistics_integration_base.tools.versions import register_converter


def tracking_v1_to_v2(data):
    data.setdefault("estimated_delivery", None)
    return data


def tracking_v2_to_v1(data):
    data.pop("estimated_delivery", None)
    return data


register_converter("tracking.update", 1, 2, up=tracking_v1_to_v2, down=tracking_v2_to_v1)
