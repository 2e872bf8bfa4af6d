import os
import sys

# Partner simulators (real servers on loopback) live in the repository's tests/ folder.
_SIMULATORS = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "tests"))
if os.path.isdir(_SIMULATORS) and _SIMULATORS not in sys.path:
    sys.path.insert(0, _SIMULATORS)
from . import (
    test_3pl_billing,
    test_amounts_in_currency,
    test_concurrent_invoices,
    test_conformance_x12_210,
    test_dashboard_capabilities,
    test_delivery_billing,
    test_freight_audit,
    test_freight_formats,
    test_invoicing,
    test_security,
    test_storage_billing,
    test_superseded_hold,
    test_superseded_upgrade,
)
