from . import adapters, controllers, converters, handlers, models, wizard
