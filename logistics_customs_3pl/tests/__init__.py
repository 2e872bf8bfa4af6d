import os
import sys

# Partner simulators (real servers on loopback) live in the repository's tests/ folder.
_SIMULATORS = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "tests"))
if os.path.isdir(_SIMULATORS) and _SIMULATORS not in sys.path:
    sys.path.insert(0, _SIMULATORS)

from . import test_banner, test_hold_flag, test_release_hold
