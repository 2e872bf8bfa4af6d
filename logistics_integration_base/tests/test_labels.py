"""Every field the suite defines, on its own models and on Odoo's, has a label a person
wrote: none is the one Odoo derives from the technical name when a field is given no
``string`` ("Sftp Password Set", "Job Result"). A one-word label reads the same whichever
wrote it ("Company") and passes, unless it is an abbreviation spelt as a word ("Sftp")."""

from odoo.tests import TransactionCase, tagged

AUTOMATIC = {"id", "display_name", "create_uid", "create_date", "write_uid", "write_date"}
# abbreviations Odoo would spell as words in a derived label
ABBREVIATIONS = {"Sftp", "Ftp", "Url", "Uri", "Api", "Hs", "Mrn", "Eori", "Uom", "Sku", "Pod"}


def derived_label(name):
    """The label Odoo gives a field declared without ``string`` (``fields.Field._setup_attrs``)."""
    if name.endswith("_ids"):
        name = name[:-4]
    elif name.endswith("_id"):
        name = name[:-3]
    return name.replace("_", " ").title()


@tagged("post_install", "-at_install")
class TestFieldLabels(TransactionCase):
    def test_no_label_is_derived_from_a_technical_name(self):
        derived = []
        for model_name in sorted(self.env.registry.models):
            for name, field in self.env[model_name]._fields.items():
                module = getattr(field, "_module", None) or ""
                if not module.startswith("logistics_") or name in AUTOMATIC:
                    continue
                words = (field.string or "").split()
                if field.string in (derived_label(name), name.replace("_", " ").title()) and (
                    len(words) > 1 or ABBREVIATIONS & set(words)
                ):
                    derived.append(f"{model_name}.{name}: {field.string!r} ({module})")
        self.assertFalse(derived, "labels derived from the technical name:\n" + "\n".join(derived))

    def test_the_rule_catches_what_the_review_found(self):
        # the labels the review listed, as Odoo derived them
        for name, label in (
            ("sftp_password_set", "Sftp Password Set"),
            ("job_result", "Job Result"),
            ("backorder_policy", "Backorder Policy"),
            ("file_format", "File Format"),
            ("partner_backend_id", "Partner Backend"),
        ):
            self.assertEqual(derived_label(name), label)
