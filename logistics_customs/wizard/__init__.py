from . import customs_override
