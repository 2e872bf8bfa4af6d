"""Every module of the suite documents itself as OCA addons do: readme/*.md fragments, the
README.rst and Apps page (static/description/index.html) generated from them by
setup/readme_gen.py, and an icon; the Apps list shows them."""

import importlib.util
import re
from pathlib import Path

from docutils.core import publish_string

from odoo.tests import TransactionCase, tagged

ROOT = Path(__file__).resolve().parents[2]


def _readme_gen():
    spec = importlib.util.spec_from_file_location("readme_gen", ROOT / "setup" / "readme_gen.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@tagged("post_install", "-at_install")
class TestModuleDocs(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.gen = _readme_gen()
        cls.suite = [path.parent.name for path in ROOT.glob("logistics_*/__manifest__.py")]

    def test_fragments_and_generated_files(self):
        """Each addon has its fragments, and its README.rst and index.html are what the
        generator makes of them today."""
        self.assertEqual(len(self.suite), len(set(self.suite)))
        self.assertGreaterEqual(len(self.suite), 10)
        for addon_dir in self.gen.find_addons():
            with self.subTest(addon=addon_dir.name):
                fragments = self.gen.read_fragments(addon_dir)
                self.assertEqual(self.gen.missing_fragments(addon_dir, fragments), [])
                for path, content in self.gen.generate(addon_dir).items():
                    self.assertTrue(path.exists(), f"{path} is missing")
                    self.assertEqual(
                        path.read_text(encoding="utf-8"),
                        content,
                        f"{path} is out of date: run setup/readme_gen.py",
                    )

    def test_apps_list_shows_each_module(self):
        """The Apps list shows each suite module's own icon and its generated page."""
        modules = self.env["ir.module.module"].search([("name", "in", self.suite)])
        self.assertEqual(sorted(modules.mapped("name")), sorted(self.suite))
        for module in modules:
            with self.subTest(module=module.name):
                self.assertEqual(module.icon, f"/{module.name}/static/description/icon.png")
                self.assertTrue(module.icon_image)
                manifest = self.gen.read_manifest(ROOT / module.name)
                page = re.sub(r"\s+", " ", module.description_html or "").replace("’", "'")
                self.assertIn(manifest["name"], page)
                summary = " ".join(manifest["summary"].split()[:4])
                self.assertIn(summary, page)
                self.assertIn("Configuration", page)
                self.assertIn("Usage", page)

    def test_markdown_to_rst(self):
        """The converter writes what docutils reads back as the Markdown meant it."""
        text = (
            "# Guide\n\n"
            "Press **Retry**s, *Logistics › Exceptions*, `ship_to.phone` and word_ "
            "or a|b and a*b, <partner> and [the docs](https://example.com/docs).\n\n"
            "1. first\n   - nested *one*\n   - two\n2. second\n\n"
            "| Set | Document |\n|---|---|\n| 940 | `order.release` |\n\n"
            "```python\nprint('x')\n```\n\n"
            "(a) is text, not a list.\n"
        )
        title, lines = self.gen.md_to_rst(text, default_title="Guide")
        self.assertEqual(title, "Guide")
        rst = "Guide\n=====\n\n" + "\n".join(lines) + "\n"
        html = publish_string(
            rst, writer_name="html4css1", settings_overrides=self.gen.RST2HTML_SETTINGS
        ).decode()
        for expected in (
            "<strong>Retry</strong>s",
            "<em>Logistics › Exceptions</em>",
            'literal">ship_to.phone</tt>',
            "word_ or a|b and a*b, &lt;partner&gt;",
            '<a class="reference external" href="https://example.com/docs">the docs</a>',
            '<ol class="arabic',
            "<em>one</em>",
            '<th class="head">Set</th>',
            '<pre class="code python literal-block">',
        ):
            self.assertIn(expected, html)
        self.assertIn("<p>(a) is text, not a list.</p>", html)
        self.assertNotIn('<ol class="loweralpha', html)
