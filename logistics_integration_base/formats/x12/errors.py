"""X12 errors: where a document is wrong (segment, position, element) and the codes a 997
reports for it."""

__all__ = [
    "ELEMENT_INVALID_CHARACTER",
    "ELEMENT_INVALID_CODE",
    "ELEMENT_INVALID_DATE",
    "ELEMENT_INVALID_TIME",
    "ELEMENT_MISSING",
    "SEGMENT_ELEMENT_ERRORS",
    "SEGMENT_MISSING",
    "SEGMENT_UNEXPECTED",
    "X12BuildError",
    "X12ParseError",
]

# AK403 data element syntax error codes set by the parsers.
ELEMENT_MISSING = "1"
ELEMENT_INVALID_CHARACTER = "6"
ELEMENT_INVALID_CODE = "7"
ELEMENT_INVALID_DATE = "8"
ELEMENT_INVALID_TIME = "9"
# AK304 segment syntax error codes.
SEGMENT_UNEXPECTED = "2"
SEGMENT_MISSING = "3"
SEGMENT_ELEMENT_ERRORS = "8"


class X12ParseError(ValueError):
    """An X12 document could not be parsed or failed validation.

    ``str()`` names the segment, its position and the failing element so that an operator can
    find it in the file. ``segment_position`` counts from ST = 1 inside a transaction set and
    from ISA = 1 for envelope segments. The optional codes are what a 997 reports (AK304,
    AK403, AK502).
    """

    def __init__(
        self,
        message,
        segment_id=None,
        segment_position=None,
        element_position=None,
        *,
        component_position=None,
        transaction_set=None,
        set_control_number=None,
        group_control_number=None,
        segment_error_code=None,
        element_error_code=None,
        set_error_code=None,
        bad_value=None,
    ):
        super().__init__(message)
        self.message = message
        self.segment_id = segment_id
        self.segment_position = segment_position
        self.element_position = element_position
        self.component_position = component_position
        self.transaction_set = transaction_set
        self.set_control_number = set_control_number
        self.group_control_number = group_control_number
        self.segment_error_code = segment_error_code
        self.element_error_code = element_error_code
        self.set_error_code = set_error_code
        self.bad_value = bad_value

    @property
    def element_name(self):
        """``W1203`` style name of the failing element, or ``None``."""
        if not (self.segment_id and self.element_position):
            return None
        name = f"{self.segment_id}{self.element_position:02d}"
        if self.component_position:
            name += f"-{self.component_position:02d}"
        return name

    def __str__(self):
        parts = []
        if self.segment_id:
            where = f"segment {self.segment_id}"
            if self.segment_position is not None:
                where += f" (position {self.segment_position})"
            if self.element_name:
                where += f", element {self.element_name}"
            parts.append(where + ": ")
        parts.append(str(self.message))
        if self.transaction_set or self.set_control_number:
            context = []
            if self.transaction_set:
                context.append(f"transaction set {self.transaction_set}")
            if self.set_control_number:
                context.append(f"control number {self.set_control_number}")
            parts.append(f" [{', '.join(context)}]")
        return "".join(parts)

    def __reduce__(self):
        return (_rebuild_error, (self.__class__, self.__dict__.copy()))


def _rebuild_error(cls, state):
    error = cls.__new__(cls)
    ValueError.__init__(error, state.get("message"))
    error.__dict__.update(state)
    return error


class X12BuildError(ValueError):
    """A canonical payload cannot be written as X12 (missing field, delimiter in a value...)."""
