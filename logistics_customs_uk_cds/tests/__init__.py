from . import test_conformance_hmrc_cds
