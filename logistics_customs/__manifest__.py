# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Logistics Customs",
    "summary": "Customs declarations for cross-border deliveries and receipts: broker "
    "submission, clearance status, holds that gate shipping",
    "version": "18.0.1.0.0",
    "category": "Inventory/Logistics",
    "website": "https://github.com/logistics-integration/odoo-logistics",
    "author": "Logistics Integration Suite contributors",
    "license": "LGPL-3",
    "depends": ["logistics_integration_base", "stock_delivery", "sale_stock", "purchase_stock"],
    "external_dependencies": {"python": ["pydifact"]},
    "data": [
        "security/security.xml",
        "security/ir.model.access.csv",
        "data/customs_data.xml",
        "views/customs_declaration_views.xml",
        "views/stock_views.xml",
        "views/transaction_views.xml",
        "views/backend_views.xml",
        "views/customs_status_map_views.xml",
        "data/customs_status_map_data.xml",
        "report/commercial_invoice.xml",
        "views/portal_templates.xml",
    ],
    "demo": ["demo/demo.xml"],
    "assets": {
        "web.assets_tests": [
            "logistics_customs/static/tests/tours/*.js",
        ],
    },
}
