from . import adapters, handlers, models
