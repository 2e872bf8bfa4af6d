from . import formats, handlers, models, wizard
