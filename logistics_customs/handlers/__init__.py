from . import customs_status
