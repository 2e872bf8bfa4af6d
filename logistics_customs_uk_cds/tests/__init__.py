from . import test_attack_review_hmrc, test_conformance_hmrc_cds, test_hmrc_cds_oauth
