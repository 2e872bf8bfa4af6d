"""Transports: clients for the protocols partners speak, registered by protocol key.

``TRANSPORTS`` maps a backend's ``protocol`` (``rest``, ``sftp``, ``soap``) to
the client class adapters use; a module adds a protocol with :func:`register_transport`
and a ``selection_add`` on ``logistics.backend.protocol`` (``readme/EXTEND.md``).
"""

from ..tools.plugins import PluginRegistry

TRANSPORTS = PluginRegistry("transport")


def register_transport(protocol):
    """Decorator registering a client class under a protocol key."""
    return TRANSPORTS.register(protocol)


def get_transport(protocol, env=None):
    return TRANSPORTS.get(protocol, env)


from . import http, sftp, signatures, soap

TRANSPORTS.add("rest", http.HttpClient)
TRANSPORTS.add("sftp", sftp.SFTPConnection)
TRANSPORTS.add("soap", soap.SoapClient)
