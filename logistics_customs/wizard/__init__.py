from . import customs_cancel, customs_override
