"""Interface versions of canonical message types: converters between neighbouring versions.

A module that publishes ``<type>.v<n+1>.json`` registers how a payload goes from version n
to n+1 (``up``) and back (``down``)::

    register_converter("order.release", 1, 2, up=release_v1_to_v2, down=release_v2_to_v1)

Outbound messages are built in the latest version and converted down, step by step, to the
version the partner's backend is pinned to; inbound payloads are converted up, step by step,
to the latest version before their handler applies them. Converters are plain functions of
a dict (they receive a copy and return the converted dict); no ORM here.
"""

import copy

_converters = {}  # (message_type, from_version, to_version) -> function of a dict


class ConverterMissing(Exception):
    """No converter is registered for one step between two versions of a message type."""

    def __init__(self, message_type, from_version, to_version):
        super().__init__(
            f"no converter from version {from_version} to version {to_version} of '{message_type}'"
        )
        self.message_type = message_type
        self.from_version = from_version
        self.to_version = to_version


def register_converter(message_type, from_version, to_version, up=None, down=None):
    """Register the converters of one step: ``up`` from ``from_version`` to
    ``to_version`` (its successor), ``down`` back."""
    if to_version != from_version + 1:
        raise ValueError(
            f"a converter of '{message_type}' goes one version up: {from_version} -> "
            f"{from_version + 1}, not {to_version}"
        )
    if up is not None:
        _converters[(message_type, from_version, to_version)] = up
    if down is not None:
        _converters[(message_type, to_version, from_version)] = down


def has_converter(message_type, from_version, to_version):
    return (message_type, from_version, to_version) in _converters


def convert(message_type, data, from_version, to_version):
    """``data`` of ``message_type`` in ``from_version`` converted to ``to_version``, one
    registered step at a time. Raises :class:`ConverterMissing` naming the missing step."""
    if from_version == to_version:
        return data
    step = 1 if to_version > from_version else -1
    data = copy.deepcopy(data)
    version = from_version
    while version != to_version:
        function = _converters.get((message_type, version, version + step))
        if function is None:
            raise ConverterMissing(message_type, version, version + step)
        data = function(data)
        version += step
    return data
