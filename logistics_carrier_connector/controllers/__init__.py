from . import labels
