from . import shipbob
