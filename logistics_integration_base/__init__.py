from . import adapters, controllers, models, tools, transport, wizards
