from . import example
