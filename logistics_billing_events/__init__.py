from . import adapters, formats, handlers, models, wizard
