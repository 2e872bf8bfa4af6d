from . import adapters, models
