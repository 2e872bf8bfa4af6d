from . import classic_soap, easypost
