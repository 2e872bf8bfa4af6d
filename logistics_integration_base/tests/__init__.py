import os
import sys

# Partner simulators (real servers on loopback) live in the repository's tests/ folder.
_SIMULATORS = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "tests"))
if os.path.isdir(_SIMULATORS) and _SIMULATORS not in sys.path:
    sys.path.insert(0, _SIMULATORS)

from . import (
    test_adapters,
    test_call_records,
    test_config_audit,
    test_labels,
    test_list_columns,
    test_message_reading,
    test_credentials_origin,
    test_crons,
    test_dashboard,
    test_exception_queue,
    test_metrics,
    test_module_docs,
    test_neutralize,
    test_otel_settings,
    test_outbound,
    test_parallel_run,
    test_plain_words,
    test_rate_limit,
    test_schema_versions,
    test_secrets,
    test_security,
    test_signatures,
    test_superseded_upgrade,
    test_tours,
    test_webhook,
)
