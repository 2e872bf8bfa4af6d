from . import adapters, controllers, handlers, models, wizard
