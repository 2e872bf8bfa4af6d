from . import hmrc_cds
