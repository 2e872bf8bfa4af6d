from . import adapters, converters, formats, mappers, models, handlers, wizards
