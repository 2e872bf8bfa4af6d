#!/usr/bin/env python3
"""Write Odoo's configuration file from a template, taking ``${NAME}`` values from the
environment, so that secrets (the suite's encryption key, the metrics token, the master
password) come from an environment file or a container's environment and never sit in a
file kept with the code.

    render_conf.py TEMPLATE OUTPUT

Only ``${NAME}`` is replaced (a bare ``$``, as in ``dbfilter = ^logistics$``, stays). A
placeholder whose variable is unset or empty, or holds a line break, stops with a message
naming it and nothing is written. OUTPUT is written readable by its owner only, then moved
into place, so a reader never sees half a file. Standard library only: it runs with the
system's Python before Odoo starts.
"""

import os
import re
import sys
import tempfile

PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def render(template, environ):
    """The template with its placeholders filled; raises ValueError naming every variable
    that is missing or unusable."""
    problems = []

    def value(match):
        name = match.group(1)
        text = environ.get(name, "")
        if not text:
            problems.append(f"{name} is not set")
        elif "\n" in text or "\r" in text:
            problems.append(f"{name} holds a line break")
        return text

    result = PLACEHOLDER.sub(value, template)
    if problems:
        raise ValueError("; ".join(sorted(set(problems))))
    return result


def main(argv):
    if len(argv) != 3:
        print("usage: render_conf.py TEMPLATE OUTPUT", file=sys.stderr)
        return 2
    template_path, output_path = argv[1], argv[2]
    with open(template_path, encoding="utf-8") as template:
        try:
            text = render(template.read(), os.environ)
        except ValueError as exc:
            print(
                f"Odoo's configuration {output_path} was not written: {exc} "
                f"(the template {template_path} needs it; set it in the environment file "
                "or the container's environment).",
                file=sys.stderr,
            )
            return 1
    folder = os.path.dirname(os.path.abspath(output_path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".odoo-conf-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, output_path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
