from . import adapters, formats, mappers, models, handlers, wizards
