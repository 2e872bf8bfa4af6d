from . import metrics, oauth, webhook
