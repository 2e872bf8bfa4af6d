"""Check the suite's translations against the templates Odoo exported.

For every ``logistics_*/i18n/<lang>.po`` next to its ``<module>.pot``:

* every entry of the template is in the translation, translated, and not fuzzy;
* the placeholders of Python code strings (``%s``, ``%(name)s``, ``{name}``) and of report file
  names are kept, as many times each;
* HTML/XML tags (with their attributes) and entities are kept, and a translated view fragment is
  still well-formed;
* leading and trailing blanks are kept (sentences assembled from pieces rely on them);
* ``msgfmt --check`` accepts the file, when msgfmt is installed;
* the template itself holds every string the module's Python code passes to ``_()`` or
  ``_lt()`` (read from the code's syntax tree): Odoo's exporter, with the Babel 2.10 Odoo 18
  pins for Python 3.11, stops reading a file at the first f-string among a ``_()`` call's
  arguments and silently leaves the rest of that file's sentences out of the template.

Prints one line per problem, naming the module, the file and the entry, and exits non-zero when
there is any. ``--all-modules`` also requires a translation for every module that has a template.

    .venv/bin/python setup/i18n_check.py [--all-modules] [--lang fr]
"""

import argparse
import ast
import collections
import pathlib
import re
import shutil
import subprocess
import sys
from xml.etree import ElementTree

import polib

ROOT = pathlib.Path(__file__).resolve().parent.parent

# printf-style: %s, %d, %(name)s, %(name)d, %.2f, %%
PRINTF = re.compile(r"%(?:\([A-Za-z_][A-Za-z0-9_]*\))?[-#0 +]?\d*(?:\.\d+)?[sdfirx%]")
# str.format-style: {name}, {0}, {name!r}, {0:>8}
BRACES = re.compile(r"\{[A-Za-z_0-9]*(?:![rsa])?(?::[^{}]*)?\}")
TAG = re.compile(r"</?[A-Za-z][^<>]*?/?>")
ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[A-Za-z]+);")


def _formatted(entry):
    """Whether the string is %-formatted or .format()-ed at run time: strings of Python or
    JavaScript code, and report file names (a Python expression)."""
    return any(
        where.startswith("code:") or "print_report_name" in where
        for where, _line in entry.occurrences
    )


def _counter(pattern, text):
    return collections.Counter(pattern.findall(text))


def _tags(text):
    # attribute order and quoting may not change either: compare the tags as written
    return collections.Counter(TAG.findall(text))


def _well_formed(text):
    try:
        ElementTree.fromstring(f"<div>{text}</div>")
    except ElementTree.ParseError:
        return False
    return True


def check_entry(entry):
    """The problems of one translated entry, as sentences."""
    problems = []
    src, dst = entry.msgid, entry.msgstr
    if "fuzzy" in entry.flags:
        problems.append("marked fuzzy")
    if not dst:
        return problems + ["not translated"]
    if _formatted(entry):
        for name, pattern in (("placeholders", PRINTF), ("format fields", BRACES)):
            if _counter(pattern, src) != _counter(pattern, dst):
                problems.append(
                    f"{name} differ: {sorted(_counter(pattern, src).elements())} in the template, "
                    f"{sorted(_counter(pattern, dst).elements())} in the translation"
                )
    if _tags(src) != _tags(dst):
        missing = _tags(src) - _tags(dst)
        added = _tags(dst) - _tags(src)
        problems.append(
            f"tags differ: missing {sorted(missing.elements())}, added {sorted(added.elements())}"
        )
    if _counter(ENTITY, src) != _counter(ENTITY, dst):
        problems.append("entities differ")
    if TAG.search(src) and _well_formed(src) and not _well_formed(dst):
        problems.append("the translated fragment is not well-formed XML")
    if src[:1].isspace() != dst[:1].isspace() or src[-1:].isspace() != dst[-1:].isspace():
        problems.append("leading or trailing blanks differ")
    if src.count("\n") and not dst.count("\n") and _formatted(entry):
        problems.append("line breaks of the template are lost")
    return problems


def code_strings(module_dir):
    """``{string: "path:line"}`` of the literal first arguments of ``_()``, ``env._()`` and
    ``_lt()`` calls in the module's Python code (tests and migrations aside)."""
    found = {}
    for path in sorted(module_dir.rglob("*.py")):
        if {"tests", "migrations"} & set(path.relative_to(module_dir).parts):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            first = node.args[0]
            if (
                name in ("_", "_lt")
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
            ):
                found.setdefault(first.value, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def check_template(module_dir, pot):
    """Code strings the template lacks, as printable lines."""
    known = {entry.msgid for entry in pot}
    return [
        f"{where}: not in the template {module_dir.name}.pot (export it again): {text[:80]!r}"
        for text, where in code_strings(module_dir).items()
        if text not in known
    ]


def check_module(module_dir, lang, require):
    """Problems of one module's translation, as printable lines."""
    module = module_dir.name
    pot_path = module_dir / "i18n" / f"{module}.pot"
    po_path = module_dir / "i18n" / f"{lang}.po"
    if not pot_path.exists():
        return []
    pot = polib.pofile(str(pot_path))
    lines = check_template(module_dir, pot)
    if not po_path.exists():
        return lines + ([f"{module}: no {po_path.relative_to(ROOT)}"] if require else [])
    po = polib.pofile(str(po_path))
    if po.metadata.get("Language", "").split("_")[0] != lang.split("_")[0]:
        lines.append(
            f"{po_path.relative_to(ROOT)}: header Language is {po.metadata.get('Language')!r}"
        )
    translated = {(e.msgctxt, e.msgid): e for e in po if not e.obsolete}
    for tmpl in pot:
        if (tmpl.msgctxt, tmpl.msgid) not in translated:
            lines.append(f"{po_path.relative_to(ROOT)}: missing entry {tmpl.msgid[:80]!r}")
    # entries beyond the template too (sentences of code the template does not hold yet)
    for entry in translated.values():
        for problem in check_entry(entry):
            lines.append(
                f"{po_path.relative_to(ROOT)}:{entry.linenum}: {problem}: {entry.msgid[:80]!r}"
            )
    msgfmt = shutil.which("msgfmt")
    if msgfmt:
        run = subprocess.run(
            [msgfmt, "--check", "-o", "/dev/null", str(po_path)],
            capture_output=True,
            text=True,
            check=False,
        )
        if run.returncode:
            lines.append(f"{po_path.relative_to(ROOT)}: msgfmt --check: {run.stderr.strip()}")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--lang", default="fr", help="translation file name without .po (default fr)"
    )
    parser.add_argument(
        "--all-modules",
        action="store_true",
        help="every module with a template must have the translation",
    )
    args = parser.parse_args()
    lines = []
    checked = 0
    for module_dir in sorted(ROOT.glob("logistics_*")):
        if (module_dir / "i18n" / f"{args.lang}.po").exists():
            checked += 1
        lines += check_module(module_dir, args.lang, args.all_modules)
    for line in lines:
        print(line)
    if lines:
        print(
            f"[i18n] {len(lines)} problem(s) in the templates or the {args.lang}.po translations",
            file=sys.stderr,
        )
        return 1
    print(f"[i18n] {checked} {args.lang}.po translation(s) complete")
    return 0


if __name__ == "__main__":
    sys.exit(main())
