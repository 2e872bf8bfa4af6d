# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Logistics 3PL Connector",
    "summary": "Outsourced warehouses: order release, acknowledgements, ship confirmations with "
    "backorders, inventory reconciliation, returns and receipts, over REST/JSON and SFTP "
    "(CSV, X12 940/945/846/997)",
    "version": "18.0.1.1.0",
    "category": "Inventory/Logistics",
    "website": "https://github.com/logistics-integration/odoo-logistics",
    "author": "Logistics Integration Suite contributors",
    "license": "LGPL-3",
    "depends": ["logistics_integration_base", "stock"],
    "external_dependencies": {"python": ["paramiko", "jsonschema", "requests"]},
    "data": [
        "security/ir.model.access.csv",
        "security/security.xml",
        "data/ir_cron.xml",
        "data/inventory_cron.xml",
        "data/shipbob_cron.xml",
        "views/logistics_backend_views.xml",
        "views/backend_shipbob_views.xml",
        "views/stock_views.xml",
        "views/transaction_views.xml",
        "views/inventory_reconciliation_views.xml",
        "views/sftp_file_views.xml",
        "wizards/manual_validation_views.xml",
        "views/menus.xml",
    ],
    "demo": ["demo/demo.xml"],
    "assets": {
        "web.assets_tests": [
            "logistics_3pl_connector/static/tests/tours/*.js",
        ],
    },
}
