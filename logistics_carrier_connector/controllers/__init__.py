from . import labels, portal
