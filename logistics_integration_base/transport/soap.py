"""The ``soap`` transport: a ``zeep`` client of a WSDL shipped by the module that speaks it,
the service address taken from the backend.

The timeout bounds the whole operation: zeep's ``operation_timeout`` (its plain ``timeout``
only bounds loading the WSDL, not the POST). SOAP faults become ``TransportError`` with
their code: ``Client.Auth*`` is an authentication failure, other ``Client.*`` faults are the
partner refusing the request (business; a schema violation is validation), ``Server.*``
faults are the partner's trouble (transient, retried).
"""

from dataclasses import dataclass

import requests
import zeep
from zeep.transports import Transport

from ..exceptions import TransportError
from .network import network_error


@dataclass
class SoapSettings:
    wsdl: str  # a file path or URL
    address: str  # the service address (the backend's base URL)
    binding: str  # "{namespace}BindingName"
    timeout: float = 30.0


def fault_category(code):
    """``(category, transient)`` of a SOAP fault code such as ``soap11env:Client.Address``."""
    local = (code or "").split(":")[-1]
    if local.startswith("Server"):
        return "technical", True
    if local.startswith("Client.Auth"):
        return "auth", False
    if "SchemaValidation" in local:
        return "validation", False
    return "business", False


class SoapClient:
    def __init__(self, settings):
        self.settings = settings
        transport = Transport(
            timeout=settings.timeout, operation_timeout=settings.timeout, session=requests.Session()
        )
        self.client = zeep.Client(settings.wsdl, transport=transport)
        self.service = self.client.create_service(settings.binding, settings.address)

    def call(self, operation, *args):
        """Call one operation; return its answer as plain Python data."""
        where = f"{operation} at {self.settings.address}"
        try:
            answer = getattr(self.service, operation)(*args)
        except zeep.exceptions.Fault as fault:
            category, transient = fault_category(fault.code)
            code = (fault.code or "").split(":")[-1]
            raise TransportError(
                f"SOAP fault {code} from {where}: {fault.message}",
                category,
                transient,
                status=500,
                body=f"{code}: {fault.message}",
            ) from None
        except zeep.exceptions.TransportError as exc:
            raise TransportError(
                f"HTTP {exc.status_code} from {where}",
                "technical",
                exc.status_code >= 500,
                status=exc.status_code,
            ) from None
        except requests.RequestException as exc:
            raise network_error(exc, self.settings.address, where, self.settings.timeout) from None
        return zeep.helpers.serialize_object(answer, dict)
