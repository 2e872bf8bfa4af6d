from . import exceptions, tools, transport, adapters, handlers, controllers, models, wizards
