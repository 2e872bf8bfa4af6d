import os
import sys

# Partner simulators (real servers on loopback) live in the repository's tests/ folder.
_SIMULATORS = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "tests"))
if os.path.isdir(_SIMULATORS) and _SIMULATORS not in sys.path:
    sys.path.insert(0, _SIMULATORS)
from . import (
    test_attack_review_status_map,
    test_broker_rest,
    test_commercial_invoice,
    test_conformance_edifact_customs,
    test_declarations,
    test_edifact,
    test_edifact_sftp,
    test_portal_customs,
    test_held_delivery,
    test_security,
    test_tariffs,
    test_values,
)
from . import test_declaration_revisions
from . import test_declaration_resend
from . import test_french
