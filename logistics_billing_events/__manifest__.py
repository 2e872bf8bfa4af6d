# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Logistics Billing Events",
    "summary": "Bill from confirmed logistics milestones, once each, after approval; audit "
    "carrier and 3PL freight invoices against what was expected",
    "version": "18.0.1.2.0",
    "category": "Inventory/Logistics",
    "website": "https://github.com/logistics-integration/odoo-logistics",
    "author": "Logistics Integration Suite contributors",
    "license": "LGPL-3",
    "depends": [
        "account",
        "logistics_integration_base",
        "logistics_3pl_connector",
        "logistics_carrier_connector",
    ],
    "data": [
        "security/security.xml",
        "security/ir.model.access.csv",
        "data/billing_data.xml",
        "views/billing_views.xml",
        "views/freight_views.xml",
        "views/transaction_views.xml",
    ],
    "demo": ["demo/demo.xml"],
    "assets": {
        "web.assets_tests": [
            "logistics_billing_events/static/tests/tours/*.js",
        ],
    },
}
