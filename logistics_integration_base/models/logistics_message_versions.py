"""Messages in the interface version each partner speaks.

Outbound payloads are built in the latest version of their type and converted down to the
version the backend is pinned to (``tools/versions.py``); the stored payload, its
``schema_version`` and what goes on the wire are that version. Inbound payloads are stored
as received, in the version they declare, and converted up to the latest version before
their handler applies them."""

from odoo import api, models

from ..exceptions import PayloadInvalid
from ..tools import versions


class LogisticsMessage(models.Model):
    _inherit = "logistics.message"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _outbound_in_version(self, backend, message_type, payload):
        """``(version, payload, refusal)``: ``payload`` (in the latest version, or in the
        version the context's ``logistics_payload_version`` names) converted to the version
        ``backend`` speaks; ``refusal`` says in words why it could not be, the payload then
        staying in the version it came in."""
        registry = self._schema_registry()
        latest = registry.latest_version(message_type)
        if not latest:
            return 1, payload, None
        source = self.env.context.get("logistics_payload_version") or latest
        target = backend._schema_version_for(message_type)
        try:
            return target, versions.convert(message_type, payload, source, target), None
        except versions.ConverterMissing as exc:
            return (
                source,
                payload,
                self.env._(
                    "%(backend)s is pinned to version %(target)s of %(type)s, but this message "
                    "was built in version %(built)s and no installed module converts version "
                    "%(step_from)s to version %(step_to)s. Pin %(backend)s to version "
                    "%(built)s (Interface versions tab of the backend), or install the module "
                    "that converts it, then press Retry.",
                    backend=backend.name,
                    target=target,
                    type=message_type,
                    built=source,
                    step_from=exc.from_version,
                    step_to=exc.to_version,
                ),
            )

    def _in_stored_version(self, payload, version=None):
        """``payload`` (in ``version``, default the latest) as this message stores it: in
        its ``schema_version``; None when it cannot be converted."""
        self.ensure_one()
        source = version or self._schema_registry().latest_version(self.message_type)
        if not source or not self.schema_version:
            return payload
        try:
            return versions.convert(self.message_type, payload, source, self.schema_version)
        except versions.ConverterMissing:
            return None

    def _inbound_in_latest_version(self, data):
        """This inbound message's payload (``data``, in its ``schema_version``) converted up
        to the latest version of its type, the one handlers apply."""
        self.ensure_one()
        latest = self._schema_registry().latest_version(self.message_type)
        if not latest or not self.schema_version or self.schema_version == latest:
            return data
        try:
            return versions.convert(self.message_type, data, self.schema_version, latest)
        except versions.ConverterMissing as exc:
            raise PayloadInvalid(
                self.env._(
                    "%(backend)s sent %(type)s in version %(declared)s, and no installed module "
                    "converts version %(step_from)s to version %(step_to)s: this message cannot "
                    "be applied. Install the module that converts it and press Retry, or ask "
                    "the partner to send version %(latest)s.",
                    backend=self.backend_id.name,
                    type=self.message_type,
                    declared=self.schema_version,
                    step_from=exc.from_version,
                    step_to=exc.to_version,
                    latest=latest,
                )
            ) from None
