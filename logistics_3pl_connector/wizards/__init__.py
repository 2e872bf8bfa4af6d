from . import manual_validation
