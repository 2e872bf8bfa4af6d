#!/usr/bin/env python3
"""Each addon's README.rst and static/description/index.html, from its readme/*.md fragments.

Works like OCA's oca-gen-addon-readme: the title is the manifest's name, then its summary, the
DESCRIPTION fragment, a table of contents and the other fragments as sections in OCA's order
(Use Cases / Context, Installation, Configuration, Usage, Development, Known issues /
Roadmap, Changelog), then Bug Tracker and Credits (authors from the manifest, CONTRIBUTORS,
CREDITS). Fragments OCA's layout does not know (FORMATS.md, X12.md, EDIFACT.md, EXTEND.md:
the modules' guides) come after Usage, by file name, titled by their own first heading.
Markdown is converted to reStructuredText here (the features the fragments use: headings,
paragraphs, emphasis, inline code, links, nested bullet and numbered lists, fenced code,
tables); index.html is README.rst rendered by docutils, as the Apps list shows it.

    .venv/bin/python setup/readme_gen.py            # write every addon's README.rst and index.html
    .venv/bin/python setup/readme_gen.py --check    # exit 1 naming each addon out of date
    .venv/bin/python setup/readme_gen.py logistics_customs  # one addon (folder)

An addon at the repository root needs DESCRIPTION, CONFIGURE, USAGE and CONTRIBUTORS; a
test-only addon (tests/addons) needs DESCRIPTION.
"""

import argparse
import ast
import hashlib
import re
import sys
import unicodedata
from pathlib import Path

from docutils.core import publish_string
from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

ROOT = Path(__file__).resolve().parent.parent
FRAGMENTS_DIR = "readme"
# OCA's sections, in OCA's order (gen_addon_readme.rst.jinja); DESCRIPTION opens the page and
# CONTRIBUTORS / CREDITS go under Credits.
SECTIONS_BEFORE = [("CONTEXT", "Use Cases / Context"), ("INSTALL", "Installation")]
SECTIONS_MAIN = [("CONFIGURE", "Configuration"), ("USAGE", "Usage")]
SECTIONS_AFTER = [
    ("DEVELOP", "Development"),
    ("ROADMAP", "Known issues / Roadmap"),
    ("HISTORY", "Changelog"),
]
CREDITS = [("CONTRIBUTORS", "Contributors"), ("CREDITS", "Other credits")]
KNOWN = {"DESCRIPTION"} | {
    name for name, _title in SECTIONS_BEFORE + SECTIONS_MAIN + SECTIONS_AFTER + CREDITS
}
REQUIRED = ("DESCRIPTION", "CONFIGURE", "USAGE", "CONTRIBUTORS")
REQUIRED_TEST_ADDON = ("DESCRIPTION",)
# Section levels below a section ("=" is a section, the title is over- and underlined).
SUBLEVELS = '-~^"'

# As readme_renderer and OCA render README.rst: no file insertion, no raw HTML, stop at the
# first warning (a README.rst docutils warns about is a bug of this script or a fragment).
RST2HTML_SETTINGS = {
    "file_insertion_enabled": False,
    "raw_enabled": False,
    "halt_level": 2,
    "report_level": 2,
    "smart_quotes": True,
    "syntax_highlight": "none",
    # Odoo warns that an XML declaration in a module's description is deprecated
    "xml_declaration": False,
    "_disable_config": True,
}

MD = MarkdownIt("commonmark").enable("table")


class FragmentError(Exception):
    """A fragment uses Markdown this converter does not write as reStructuredText."""


# --- Markdown to reStructuredText ---------------------------------------------------------

# What may stand right before an inline markup start-string and right after an end-string
# (docutils' inline markup recognition rules); anything else is separated by an escaped space.
_BEFORE_START = set(" \n\t-:/'\"<([{")
_AFTER_END = set(" \n\t-.,:;!?\\/'\")]}>")


def _punct(char, categories):
    return unicodedata.category(char) in categories


def _may_precede(char):
    return char in _BEFORE_START or _punct(char, ("Pd", "Po", "Ps", "Pi", "Pf"))


def _may_follow(char):
    return char in _AFTER_END or _punct(char, ("Pd", "Po", "Pe", "Pi", "Pf"))


def escape_text(text):
    """Plain text with reStructuredText's markup characters escaped."""
    text = text.replace("\\", "\\\\")
    text = re.sub(r"([*`|])", r"\\\1", text)
    # "word_" is a reference, "_`" an inline target: escape an underscore not between words
    return re.sub(r"_(?!\w)", r"\\_", text)


def _plain(node):
    """The text of an inline node and its children, without markup (RST does not nest it)."""
    if node.type in ("text", "code_inline", "html_inline"):
        return node.content
    if node.type == "softbreak":
        return "\n"
    return "".join(_plain(child) for child in node.children)


def _inline_segments(node):
    """[(is_markup, text)] of an inline node's children."""
    segments = []
    for child in node.children:
        kind = child.type
        if kind in ("text", "html_inline"):
            # "<partner>" in a sentence is text, not HTML
            segments.append((False, escape_text(child.content)))
        elif kind == "softbreak":
            segments.append((False, "\n"))
        elif kind == "code_inline":
            content = child.content
            if "``" in content or content != content.strip():
                raise FragmentError(f"inline code {content!r} cannot be written as ``...``")
            segments.append((True, f"``{content}``"))
        elif kind in ("em", "strong"):
            mark = "*" if kind == "em" else "**"
            inner = escape_text(_plain(child))
            segments.append((True, f"{mark}{inner}{mark}"))
        elif kind == "link":
            href = child.attrs["href"]
            label = _plain(child)
            if label == href:
                segments.append((False, href))
            else:
                label = escape_text(label).replace("<", "\\<")
                segments.append((True, f"`{label} <{href}>`__"))
        else:
            raise FragmentError(f"inline Markdown '{kind}' is not converted")
    return segments


def render_inline(node):
    out = ""
    segments = _inline_segments(node)
    for index, (is_markup, text) in enumerate(segments):
        if is_markup:
            if out and not _may_precede(out[-1]):
                out += "\\ "
            out += text
            following = segments[index + 1][1] if index + 1 < len(segments) else ""
            if following and not _may_follow(following[0]):
                out += "\\ "
        else:
            out += text
    return out


# A paragraph's first line that reStructuredText would read as another construct: a bullet,
# an enumerator, a field, an option, a comment or directive, a line block, a doctest.
_BLOCK_START = re.compile(
    r"^([-*+•‣⁃](\s|$)|\d+[.)]\s|[A-Za-z#][.)]\s|\(\w+\)\s|:\w|\.\.(\s|$)|\|(\s|$)|>>>|--?\w|/\w)"
)


def _indent(lines, first, rest):
    result = []
    for number, line in enumerate(lines):
        prefix = first if number == 0 else rest
        result.append(prefix + line if line else "")
    return result


class Converter:
    """One fragment's blocks as reStructuredText lines; headings take the levels given."""

    def __init__(self, heading_chars):
        self.heading_chars = heading_chars

    def blocks(self, nodes):
        lines = []
        for node in nodes:
            rendered = self.block(node)
            if lines:
                lines.append("")
            lines.extend(rendered)
        return lines

    def block(self, node):
        kind = node.type
        if kind == "paragraph":
            text = render_inline(node.children[0])
            if _BLOCK_START.match(text):
                text = "\\" + text
            return text.split("\n")
        if kind == "heading":
            title = render_inline(node.children[0]).replace("\n", " ")
            char = self.heading_chars[int(node.tag[1])]
            return [title, char * len(title)]
        if kind in ("bullet_list", "ordered_list"):
            return self.list(node)
        if kind in ("fence", "code_block"):
            language = (node.info or "").split()[0] if node.info else ""
            head = [f".. code:: {language}", ""] if language else ["::", ""]
            body = node.content.rstrip("\n").split("\n")
            return head + _indent(body, "   ", "   ")
        if kind == "table":
            return self.table(node)
        raise FragmentError(f"Markdown block '{kind}' is not converted")

    def list(self, node):
        lines = []
        number = int(node.attrs.get("start", 1)) if node.type == "ordered_list" else None
        for item in node.children:
            if number is None:
                marker = "- "
            else:
                marker = f"{number}. "
                number += 1
            body = self.blocks(item.children) or [""]
            if lines:
                lines.append("")
            lines.extend(_indent(body, marker, " " * len(marker)))
        return lines

    def table(self, node):
        lines = [".. list-table::", "   :header-rows: 1", "   :widths: auto", ""]
        for section in node.children:  # thead, tbody
            for row in section.children:
                for index, cell in enumerate(row.children):
                    text = (
                        render_inline(cell.children[0]).replace("\n", " ") if cell.children else ""
                    )
                    if _BLOCK_START.match(text):
                        text = "\\" + text
                    marker = "   * - " if index == 0 else "     - "
                    lines.append((marker + text).rstrip())
        return lines


def md_to_rst(text, default_title=None):
    """(title, lines) of a Markdown fragment, its headings below a section ("=").

    With default_title, the fragment is a section of its own: a first heading above every
    other heading is its title (dropped from the body), else default_title is.
    """
    nodes = list(SyntaxTreeNode(MD.parse(text)).children)
    title = default_title
    headings = [n for n in nodes if n.type == "heading"]
    if default_title is not None and nodes and nodes[0].type == "heading":
        first = int(nodes[0].tag[1])
        if all(int(n.tag[1]) > first for n in headings[1:]):
            title = render_inline(nodes[0].children[0]).replace("\n", " ")
            nodes = nodes[1:]
            headings = headings[1:]
    levels = sorted({int(n.tag[1]) for n in headings})
    if len(levels) > len(SUBLEVELS):
        raise FragmentError("too many heading levels")
    chars = {level: SUBLEVELS[rank] for rank, level in enumerate(levels)}
    return title, Converter(chars).blocks(nodes)


# --- README.rst ------------------------------------------------------------------------------


def read_manifest(addon_dir):
    return ast.literal_eval((addon_dir / "__manifest__.py").read_text(encoding="utf-8"))


def read_fragments(addon_dir):
    folder = addon_dir / FRAGMENTS_DIR
    if not folder.is_dir():
        return {}
    return {
        path.stem: path.read_text(encoding="utf-8")
        for path in sorted(folder.glob("*.md"))
        if path.read_text(encoding="utf-8").strip()
    }


def _section(title, lines, char="="):
    return [title, char * len(title), "", *lines, ""]


def _credits_list(names):
    return [f"- {escape_text(name)}" for name in names]


def source_digest(manifest, fragments):
    digest = hashlib.sha256()
    for key in ("name", "summary", "author", "website"):
        digest.update(f"{key}={manifest.get(key, '')}\n".encode())
    for name in sorted(fragments):
        digest.update(f"{name}\n{fragments[name]}\n".encode())
    return "sha256:" + digest.hexdigest()


def render_readme(addon_dir, manifest, fragments):
    name = addon_dir.name
    title = manifest["name"]
    branch = ".".join(manifest.get("version", "18.0").split(".")[:2])
    website = manifest.get("website", "").rstrip("/")
    relative = addon_dir.relative_to(ROOT).as_posix()
    lines = ["=" * len(title), title, "=" * len(title), ""]
    lines += [
        "..",
        "   !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
        "   !! This file is generated by setup/readme_gen.py from readme/*.md !!",
        "   !! fragments: edit those, then run the script again.              !!",
        "   !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
        f"   !! source digest: {source_digest(manifest, fragments)}",
        "   !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
        "",
    ]
    summary = manifest.get("summary", "").strip()
    if summary:
        lines += [escape_text(summary), ""]
    if "DESCRIPTION" in fragments:
        lines += md_to_rst(fragments["DESCRIPTION"])[1] + [""]
    lines += ["**Table of contents**", "", ".. contents::", "   :local:", ""]

    def known(sections):
        result = []
        for key, section_title in sections:
            if key in fragments:
                result += _section(section_title, md_to_rst(fragments[key])[1])
        return result

    lines += known(SECTIONS_BEFORE) + known(SECTIONS_MAIN)
    for key in sorted(set(fragments) - KNOWN):
        guide_title, body = md_to_rst(fragments[key], default_title=key.capitalize())
        lines += _section(guide_title, body)
    lines += known(SECTIONS_AFTER)

    if website:
        lines += _section(
            "Bug Tracker",
            [
                f"Bugs are tracked on `GitHub Issues <{website}/issues>`__. Please check there",
                "whether yours has been reported already; if not, report it with the module",
                f"(``{name}``), its version (on the module's page in *Apps*), the steps that",
                "reproduce it, what happened and what you expected.",
            ],
        )
    lines += ["Credits", "=======", ""]
    authors = [a.strip() for a in manifest.get("author", "").split(",") if a.strip()]
    if authors:
        lines += _section("Authors", _credits_list(authors), SUBLEVELS[0])
    for key, section_title in CREDITS:
        if key in fragments:
            body = md_to_rst(fragments[key])[1]
            lines += _section(section_title, body, SUBLEVELS[0])
    maintainers = []
    if website:
        project = "/".join(website.split("/")[-2:])
        maintainers = [
            f"This module is part of the `{project} <{website}/tree/{branch}/{relative}>`__",
            "project on GitHub. You are welcome to contribute.",
        ]
    lines += _section("Maintainers", maintainers, SUBLEVELS[0])
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(line.rstrip() for line in lines) + "\n"


def render_index(readme):
    """README.rst as the page the Apps list shows (Odoo reads static/description/index.html)."""
    return publish_string(
        readme, writer_name="html4css1", settings_overrides=RST2HTML_SETTINGS
    ).decode("utf-8")


# --- addons ----------------------------------------------------------------------------------


def find_addons():
    dirs = sorted(ROOT.glob("logistics_*/__manifest__.py")) + sorted(
        ROOT.glob("tests/addons/*/__manifest__.py")
    )
    return [path.parent for path in dirs]


def missing_fragments(addon_dir, fragments):
    required = REQUIRED_TEST_ADDON if addon_dir.parent.name == "addons" else REQUIRED
    return [key for key in required if key not in fragments]


def generate(addon_dir):
    """{path: content} this addon should have, or raises FragmentError."""
    manifest = read_manifest(addon_dir)
    fragments = read_fragments(addon_dir)
    readme = render_readme(addon_dir, manifest, fragments)
    try:
        index = render_index(readme)
    except Exception as error:  # docutils raises SystemMessage on its first warning
        raise FragmentError(f"docutils refuses the README.rst generated: {error}") from error
    return {
        addon_dir / "README.rst": readme,
        addon_dir / "static" / "description" / "index.html": index,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if stale")
    parser.add_argument("addons", nargs="*", type=Path, help="addon folders (default: all)")
    args = parser.parse_args(argv)
    addons = [p.resolve() for p in args.addons] if args.addons else find_addons()
    problems = []
    for addon_dir in addons:
        name = addon_dir.relative_to(ROOT).as_posix()
        fragments = read_fragments(addon_dir)
        missing = missing_fragments(addon_dir, fragments)
        if missing:
            problems.append(
                f"{name}: readme/ lacks {', '.join(m + '.md' for m in missing)}: write it"
            )
            if "DESCRIPTION" in missing:
                continue
        try:
            files = generate(addon_dir)
        except FragmentError as error:
            problems.append(f"{name}: {error}")
            continue
        for path, content in files.items():
            current = path.read_text(encoding="utf-8") if path.exists() else None
            if current == content:
                continue
            relative = path.relative_to(ROOT).as_posix()
            if args.check:
                state = "is missing" if current is None else "is out of date"
                problems.append(f"{relative} {state}: run setup/readme_gen.py and commit it")
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(content, encoding="utf-8")
                print(f"wrote {relative}")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
