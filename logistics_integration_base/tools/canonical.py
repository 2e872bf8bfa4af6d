"""Canonical message payloads: versioned JSON Schemas and the CloudEvents envelope.

Each canonical message type (``order.release``, ``shipment.confirmed``...) has a JSON
Schema file ``<type>.v<version>.json`` in a module's ``schemas/`` folder. The envelope of
every message on the wire is a CloudEvents 1.0 structured-mode JSON event whose ``type``
is the canonical message type and whose ``data`` is the canonical payload; its
``dataschema`` names the schema version (``urn:logistics:schema:<type>:v<version>``).
"""

import glob
import json
import os
import re
import uuid
from datetime import datetime, timezone

from dateutil import parser as dateparser
from jsonschema import Draft202012Validator

from ..exceptions import PayloadInvalid
from . import personal

ENVELOPE_SCHEMA = "cloudevents"
SCHEMA_URN = "urn:logistics:schema:{type}:v{version}"
_URN_RE = re.compile(r"^urn:logistics:schema:(?P<type>[a-z0-9_.\-]+):v(?P<version>\d+)$")
_FILE_RE = re.compile(r"^(?P<type>[a-z0-9_.\-]+)\.v(?P<version>\d+)\.json$")
DEPRECATIONS_FILE = "deprecations.json"

_validators = {}  # path -> Draft202012Validator (schemas are immutable files)


def parse_dataschema(dataschema):
    """``(message type, version)`` named by a ``dataschema`` URN, or None when it names
    none (``urn:logistics:schema:order.release:v2`` -> ``("order.release", 2)``)."""
    match = _URN_RE.match(str(dataschema or ""))
    return (match["type"], int(match["version"])) if match else None


def format_path(parts, prefix=""):
    out = prefix
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


class SchemaRegistry:
    """Schemas found in a list of folders; later folders do not override earlier ones."""

    def __init__(self, folders):
        self._personal = {}
        self._personal_keys = None
        self.schemas = {}  # type -> {version: path}
        self.deprecations = {}  # (type, version) -> ISO date the version stops being served
        for folder in folders:
            self._read_deprecations(os.path.join(folder, DEPRECATIONS_FILE))
            for path in sorted(glob.glob(os.path.join(folder, "*.json"))):
                match = _FILE_RE.match(os.path.basename(path))
                if match:
                    versions = self.schemas.setdefault(match["type"], {})
                    versions.setdefault(int(match["version"]), path)

    def _read_deprecations(self, path):
        """A module's ``schemas/deprecations.json``: ``{"<type>.v<n>": {"date": "YYYY-MM-DD",
        "note": "..."}}``. Published schema files never change (their checksums are
        checked); the decision to retire a version is taken later, and lives here."""
        if not os.path.isfile(path):
            return
        with open(path, encoding="utf-8") as fh:
            for key, entry in json.load(fh).items():
                message_type, _dot, version = key.rpartition(".v")
                self.deprecations.setdefault((message_type, int(version)), entry["date"])

    def deprecated_on(self, message_type, version):
        """The date (ISO string) from which ``version`` of ``message_type`` is retired, or
        None."""
        return self.deprecations.get((message_type, version))

    def versions(self, message_type):
        return sorted(self.schemas.get(message_type) or ())

    def types(self):
        return sorted(t for t in self.schemas if t != ENVELOPE_SCHEMA)

    def latest_version(self, message_type):
        versions = self.schemas.get(message_type)
        return max(versions) if versions else None

    def validator(self, message_type, version=None):
        versions = self.schemas.get(message_type)
        if not versions:
            raise PayloadInvalid(f"unknown message type '{message_type}'", "type")
        version = version or max(versions)
        path = versions.get(version)
        if not path:
            raise PayloadInvalid(
                f"no schema version {version} for message type '{message_type}'", "dataschema"
            )
        if path not in _validators:
            with open(path, encoding="utf-8") as fh:
                schema = json.load(fh)
            Draft202012Validator.check_schema(schema)
            _validators[path] = Draft202012Validator(
                schema, format_checker=Draft202012Validator.FORMAT_CHECKER
            )
        return _validators[path]

    def schema(self, message_type, version=None):
        """The JSON Schema (dict) of a message type, or None."""
        versions = self.schemas.get(message_type)
        if not versions:
            return None
        path = versions.get(version or max(versions))
        return self.validator(message_type, version).schema if path else None

    def personal_paths(self, message_type, version=None):
        """Paths of the payload fields its schema marks ``x-personal``."""
        key = (message_type, version)
        if key not in self._personal:
            schema = self.schema(message_type, version)
            self._personal[key] = personal.personal_paths(schema) if schema else frozenset()
        return self._personal[key]

    def personal_keys(self):
        """Names of every personal field of every schema (to mask raw bodies)."""
        if self._personal_keys is None:
            self._personal_keys = frozenset(
                path[-1]
                for message_type in self.types()
                for path in self.personal_paths(message_type)
                if path
            )
        return self._personal_keys

    def validate(self, message_type, data, version=None, prefix="data"):
        """Raise :class:`PayloadInvalid` naming the first failing field."""
        validator = self.validator(message_type, version)
        error = next(iter(sorted(validator.iter_errors(data), key=lambda e: list(e.path))), None)
        if error is not None:
            raise PayloadInvalid(error.message, format_path(error.absolute_path, prefix))

    def validate_envelope(self, event):
        self.validate(ENVELOPE_SCHEMA, event, prefix="")
        version = None
        if event.get("dataschema"):
            named = parse_dataschema(event["dataschema"])
            if not named or named[0] != event["type"]:
                raise PayloadInvalid(
                    f"dataschema '{event['dataschema']}' does not name a version of "
                    f"'{event['type']}'",
                    "dataschema",
                )
            version = named[1]
        self.validate(event["type"], event.get("data"), version=version)
        return version or self.latest_version(event["type"])


def to_naive_utc(value):
    """An RFC 3339 time as a naive UTC datetime (Odoo's convention); False when absent or
    unreadable."""
    if not value:
        return False
    try:
        parsed = dateparser.isoparse(value)
    except (ValueError, OverflowError):
        return False
    if parsed.tzinfo:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return parsed


def now_rfc3339():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def make_envelope(
    message_type,
    data,
    source,
    event_id=None,
    version=1,
    time=None,
    correlation_id=None,
    subject=None,
):
    event = {
        "specversion": "1.0",
        "id": event_id or str(uuid.uuid4()),
        "source": source,
        "type": message_type,
        "time": time or now_rfc3339(),
        "datacontenttype": "application/json",
        "dataschema": SCHEMA_URN.format(type=message_type, version=version),
        "data": data,
    }
    if subject:
        event["subject"] = subject
    if correlation_id:
        event["correlationid"] = correlation_id
    return event
