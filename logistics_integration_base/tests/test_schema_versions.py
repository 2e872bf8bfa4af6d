"""Interface versions: converters between versions (plain Python), and the review of
schema changes (published schema files never change; a change is a new version, listed in
its module's CHANGELOG, with converters to and from the version before it)."""

import glob
import hashlib
import importlib
import os
import re

from odoo.tests import BaseCase, tagged

from ..tools import versions
from ..tools.canonical import SchemaRegistry

REPOSITORY = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCHEMA_FILE = re.compile(r"^(?P<type>.+)\.v(?P<version>\d+)\.json$")


def schema_modules():
    """The modules of the repository that publish canonical schemas (test addons aside)."""
    return sorted(
        os.path.basename(os.path.dirname(folder))
        for folder in glob.glob(os.path.join(REPOSITORY, "logistics_*", "schemas"))
        if glob.glob(os.path.join(folder, "*.v*.json"))
    )


def published(folder):
    """``{file name: sha256}`` of the module's SHA256SUMS (as ``sha256sum`` writes it)."""
    path = os.path.join(folder, "SHA256SUMS")
    if not os.path.isfile(path):
        return {}
    sums = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                digest, name = line.split(maxsplit=1)
                sums[name.strip().lstrip("*")] = digest
    return sums


def changelog_versions(folder):
    """``{(type, version)}`` listed in the module's CHANGELOG.md (``## <type>`` headings,
    ``- v<n> ...`` items)."""
    path = os.path.join(folder, "CHANGELOG.md")
    if not os.path.isfile(path):
        return set()
    listed, current = set(), None
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            heading = re.match(r"^##\s+(\S+)\s*$", line)
            if heading:
                current = heading[1]
                continue
            item = re.match(r"^-\s+v(\d+)\b", line)
            if item and current:
                listed.add((current, int(item[1])))
    return listed


@tagged("post_install", "-at_install")
class TestConverters(BaseCase):
    """``tools/versions.py``: a payload goes up and down one registered step at a time."""

    TYPE = "test.versions.widget"

    def setUp(self):
        super().setUp()
        saved = dict(versions._converters)
        self.addCleanup(lambda: (versions._converters.clear(), versions._converters.update(saved)))
        versions.register_converter(
            self.TYPE,
            1,
            2,
            up=lambda d: dict(d, colour=d.pop("color")),
            down=lambda d: dict(d, color=d.pop("colour")),
        )
        versions.register_converter(
            self.TYPE,
            2,
            3,
            up=lambda d: dict(d, size=int(d["size"])),
            down=lambda d: dict(d, size=str(d["size"])),
        )

    def test_up_and_down_step_by_step(self):
        v1 = {"color": "red", "size": "3"}
        v3 = versions.convert(self.TYPE, v1, 1, 3)
        self.assertEqual(v3, {"colour": "red", "size": 3})
        self.assertEqual(versions.convert(self.TYPE, v3, 3, 1), v1)
        self.assertEqual(v1, {"color": "red", "size": "3"}, "the caller's dict is not changed")
        self.assertIs(versions.convert(self.TYPE, v1, 1, 1), v1)

    def test_missing_step_names_it(self):
        versions._converters.pop((self.TYPE, 3, 2))
        with self.assertRaises(versions.ConverterMissing) as caught:
            versions.convert(self.TYPE, {"colour": "red", "size": 3}, 3, 1)
        self.assertEqual(
            (caught.exception.message_type, caught.exception.from_version), (self.TYPE, 3)
        )
        self.assertIn("from version 3 to version 2", str(caught.exception))

    def test_a_step_is_one_version(self):
        with self.assertRaises(ValueError):
            versions.register_converter(self.TYPE, 1, 3, up=lambda d: d)


@tagged("post_install", "-at_install")
class TestSchemaChangelog(BaseCase):
    """Every published schema file is frozen: a change is a new version with its CHANGELOG
    entry, its checksum line and converters to and from the version before it."""

    HOW = (
        "Published schema files never change: put the change in a new file "
        "{type}.v{next}.json, register its converters (register_converter('{type}', "
        "{last}, {next}, up=..., down=...)), add a '- v{next} <date>: <what changed>' entry "
        "under '## {type}' in {module}/schemas/CHANGELOG.md and its line to "
        "{module}/schemas/SHA256SUMS (sha256sum *.v*.json > SHA256SUMS in that folder)."
    )

    def test_modules_publish_their_schemas(self):
        self.assertGreaterEqual(
            set(schema_modules()),
            {
                "logistics_integration_base",
                "logistics_3pl_connector",
                "logistics_carrier_connector",
                "logistics_customs",
                "logistics_billing_events",
            },
        )

    def test_published_schemas_unchanged(self):
        problems = []
        for module in schema_modules():
            folder = os.path.join(REPOSITORY, module, "schemas")
            sums = published(folder)
            if not sums:
                problems.append(f"{module}/schemas has no SHA256SUMS")
                continue
            registry = SchemaRegistry([folder])
            paths = sorted(glob.glob(os.path.join(folder, "*.v*.json")))
            for path in paths:
                match = SCHEMA_FILE.match(os.path.basename(path))
                with open(path, "rb") as fh:
                    digest = hashlib.sha256(fh.read()).hexdigest()
                name = os.path.basename(path)
                last = registry.latest_version(match["type"])
                how = self.HOW.format(type=match["type"], last=last, next=last + 1, module=module)
                if name not in sums:
                    problems.append(f"{module}/schemas/{name} is not listed in SHA256SUMS. " + how)
                elif sums[name] != digest:
                    problems.append(f"{module}/schemas/{name} changed once published. " + how)
            for name in sorted(set(sums) - {os.path.basename(p) for p in paths}):
                problems.append(
                    f"{module}/schemas/{name} is listed in SHA256SUMS but gone: a published "
                    "version stays (mark it deprecated in schemas/deprecations.json instead)."
                )
        self.assertFalse(problems, "\n".join(problems))

    def test_changelog_lists_every_version(self):
        problems = []
        for module in schema_modules():
            folder = os.path.join(REPOSITORY, module, "schemas")
            listed = changelog_versions(folder)
            registry = SchemaRegistry([folder])
            for message_type, by_version in sorted(registry.schemas.items()):
                for version in sorted(by_version):
                    if (message_type, version) not in listed:
                        problems.append(
                            f"{module}/schemas/CHANGELOG.md has no '- v{version} ...' entry "
                            f"under '## {message_type}': say what version {version} changed."
                        )
        self.assertFalse(problems, "\n".join(problems))

    def test_every_version_converts_to_its_neighbour(self):
        problems = []
        for module in schema_modules():
            folder = os.path.join(REPOSITORY, module, "schemas")
            if os.path.isfile(os.path.join(REPOSITORY, module, "converters.py")):
                importlib.import_module(f"odoo.addons.{module}.converters")
            registry = SchemaRegistry([folder])
            for message_type, by_version in sorted(registry.schemas.items()):
                for version in sorted(by_version)[1:]:
                    for step in ((version - 1, version), (version, version - 1)):
                        if not versions.has_converter(message_type, *step):
                            problems.append(
                                f"{module}: no converter of {message_type} from version "
                                f"{step[0]} to version {step[1]}: register it in "
                                f"{module}/converters.py (register_converter('{message_type}', "
                                f"{version - 1}, {version}, up=..., down=...))."
                            )
        self.assertFalse(problems, "\n".join(problems))

    def test_deprecations_name_published_versions(self):
        problems = []
        for module in schema_modules():
            folder = os.path.join(REPOSITORY, module, "schemas")
            registry = SchemaRegistry([folder])
            for (message_type, version), date in sorted(registry.deprecations.items()):
                if version not in registry.versions(message_type):
                    problems.append(
                        f"{module}/schemas/deprecations.json deprecates {message_type} "
                        f"version {version}, which the module does not publish."
                    )
                if not re.match(r"^\d{4}-\d{2}-\d{2}$", date):
                    problems.append(f"{module}: deprecation date '{date}' is not YYYY-MM-DD")
        self.assertFalse(problems, "\n".join(problems))
