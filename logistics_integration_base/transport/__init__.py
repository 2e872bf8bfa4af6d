from . import http, signatures
