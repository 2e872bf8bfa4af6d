import os
import sys

# Partner simulators (real servers on loopback) live in the repository's tests/ folder.
_SIMULATORS = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "tests"))
if os.path.isdir(_SIMULATORS) and _SIMULATORS not in sys.path:
    sys.path.insert(0, _SIMULATORS)


from . import test_sftp
from . import test_shipbob_mapper, test_threepl_simulator
from . import test_x12, test_csv_format
from . import test_release
from . import test_shipment
from . import test_inventory
from . import test_returns
from . import test_shipbob_provider
from . import test_returns_receipts
from . import test_sftp_exchange
from . import test_sftp_interchanges
from . import test_conformance_x12
from . import test_shipbob_flow
from . import test_conformance_shipbob
from . import test_multi_company
from . import test_db_identity
from . import test_refusals
from . import test_manual_validation
from . import test_dashboard_tiles
from . import test_tours
from . import test_personal_data
from . import test_security
from . import test_attack_review_units
from . import test_retry_revisions
from . import test_superseded
from . import test_delivery_form
from . import test_tours_retry
from . import test_exception_reading
from . import test_parallel_run
from . import test_versions_units, test_versions
from . import test_otel
