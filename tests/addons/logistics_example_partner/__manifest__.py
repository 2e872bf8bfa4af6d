# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Logistics Example Partner",
    "summary": "Test-only: a partner added through the integration base's extension points "
    "(provider, message type with schema and handler, webhook signature scheme), written "
    "from readme/EXTEND.md alone. Never install in production.",
    "version": "18.0.1.0.0",
    "category": "Hidden",
    "website": "https://github.com/logistics-integration/odoo-logistics",
    "author": "Logistics Integration Suite contributors",
    "license": "LGPL-3",
    "depends": ["logistics_integration_base"],
    "data": [
        "security/ir.model.access.csv",
        "security/security.xml",
    ],
}
