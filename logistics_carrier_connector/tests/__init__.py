import os
import sys

# Partner simulators (real servers on loopback) live in the repository's tests/ folder.
_SIMULATORS = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "tests"))
if os.path.isdir(_SIMULATORS) and _SIMULATORS not in sys.path:
    sys.path.insert(0, _SIMULATORS)

from . import (
    test_attack_review_refunds,
    test_booking,
    test_booking_revisions,
    test_booking_safety,
    test_concurrent_booking,
    test_concurrent_news,
    test_conformance_easypost,
    test_currency,
    test_easypost_credentials,
    test_easypost_fields,
    test_easypost_refunds,
    test_idempotent_booking,
    test_labels,
    test_queued_booking,
    test_rate_shop_capabilities,
    test_rate_shop_wizard,
    test_rates,
    test_security,
    test_portal,
    test_soap,
    test_tracking,
    test_tracking_poll,
)
