from . import test_conformance_hmrc_cds, test_hmrc_cds_oauth
