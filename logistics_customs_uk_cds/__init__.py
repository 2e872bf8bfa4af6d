from . import adapters, models, signatures
