from . import adapters, handlers, models, signatures, transport
