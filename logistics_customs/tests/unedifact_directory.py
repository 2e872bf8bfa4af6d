"""The UN/EDIFACT D.96B directory as UNECE published it, kept byte for byte in
``tests/conformance/edifact_customs/unece_d96b/``: a message's segment table and the code
lists, read so that the suite's CUSDEC and CUSRES (and the broker simulator's) are checked
against the directory itself, not against the suite's own idea of it. No ORM, no Odoo.

    segment_table("CUSRES") -> [Segment | Group, ...] (UNH..UNT, groups nested)
    check_structure(table, tags) -> None, or AssertionError naming the misplaced segment
    code_list("7365") -> {code: name}
"""

import re
from dataclasses import dataclass, field

from conformance import material

PARTNER = "edifact_customs"
FOLDER = "unece_d96b"

_GROUP = re.compile(r"^(\d{4}).*Segment group (\d+)\s*─+ ([MC])\s+(\d+)─*┐(│*)")
_SEGMENT = re.compile(r"^(\d{4})\s+[+*#|X-]?\s*([A-Z]{3}) (.+?)\s{2,}([MC])\s+(\d+)(.*)$")
_ELEMENT = re.compile(r"^[ *+#|X-]{0,3}\s?(\d{4})  (\S.*)$")
_CODE = re.compile(r"^ {1,9}(\S+) +(\S.*)$")


def text(name):
    """A directory file as text (code page 437, as the directory's README says), with
    its CR/LF line ends read as line ends."""
    return material(PARTNER, FOLDER, name).read_bytes().decode("cp437").replace("\r\n", "\n")


@dataclass
class Segment:
    position: str
    tag: str
    name: str
    mandatory: bool
    repeat: int

    @property
    def first(self):
        return self.tag


@dataclass
class Group:
    position: str
    number: int
    mandatory: bool
    repeat: int
    items: list = field(default_factory=list)

    @property
    def first(self):
        return self.items[0].first


def segment_table(message):
    """The segment table (4.3.1) of ``<message>_D.96B``: the message's items in order, each
    a :class:`Segment` or a :class:`Group` of items."""
    content = text(f"{message}_D.96B")
    table = content[content.rindex("4.3.1 Segment table") :]
    top = []
    stack = [top]  # the item lists open at each depth
    for line in table.splitlines():
        group = _GROUP.match(line)
        if group:
            depth = 1 + len(group[5])
            del stack[depth:]
            new = Group(group[1], int(group[2]), group[3] == "M", int(group[4]))
            stack[depth - 1].append(new)
            stack.append(new.items)
            continue
        segment = _SEGMENT.match(line)
        if segment:
            depth = sum(segment[6].count(c) for c in "│┘┴")
            del stack[depth + 1 :]
            stack[depth].append(
                Segment(
                    segment[1],
                    segment[2],
                    segment[3].strip(),
                    segment[4] == "M",
                    int(segment[5]),
                )
            )
    return top


def _match(items, tags, index, where):
    """Consume ``tags`` from ``index`` as ``items`` allow; the index after them."""
    for item in items:
        count = 0
        while count < item.repeat and index < len(tags) and tags[index] == item.first:
            if isinstance(item, Segment):
                index += 1
            else:
                index = _match(item.items[1:], tags, index + 1, f"segment group {item.number}")
            count += 1
        if item.mandatory and not count:
            found = tags[index] if index < len(tags) else "the end of the message"
            raise AssertionError(
                f"{where}: mandatory {item.first} (position {item.position}) missing, "
                f"found {found} (segment {index + 1} of the message)"
            )
    return index


def check_structure(table, tags):
    """Whether the segment tags of one message (UNH..UNT) follow ``table``: order, groups,
    mandatory segments and repeats. AssertionError names the first segment that does not."""
    end = _match(table, list(tags), 0, "message")
    if end != len(tags):
        before = tags[end - 1] if end else "the start"
        raise AssertionError(
            f"segment {end + 1} of the message, {tags[end]} after {before}, is not where the "
            "directory's segment table allows it (or repeats more than it allows)"
        )


def code_list(element):
    """{code: name} of a code list of UNCL-1.96B / UNCL-2.96B (``element``: "7365")."""
    for name in ("UNCL-1.96B", "UNCL-2.96B"):
        for block in re.split(r"\n─{20,}\n", text(name)):
            lines = block.strip("\n").splitlines()
            header = next((_ELEMENT.match(line) for line in lines[:2] if line.strip()), None)
            if not header or header[1] != element:
                continue
            codes, current, describing = {}, None, False
            started = False
            for line in lines:
                if line.lstrip().startswith("Repr:"):
                    started = True
                    continue
                if not started or not line.strip():
                    continue
                if line[:1] in "+*#|X-" and line[1:2] == " ":
                    line = " " + line[1:]
                indent = len(line) - len(line.lstrip())
                code = _CODE.match(line) if indent <= 9 else None
                if code:
                    current, describing = code[1], False
                    codes[current] = code[2].strip()
                elif current and indent == 10 and not describing:
                    codes[current] += " " + line.strip()
                else:
                    describing = True
            return codes
    raise KeyError(f"code list {element} is not in the D.96B directory")
