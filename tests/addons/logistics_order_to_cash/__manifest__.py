# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Logistics Order to Cash (test)",
    "summary": "Test-only: the whole order-to-cash chain across the suite's modules, on the "
    "partner simulators. Never install in production.",
    "version": "18.0.1.0.0",
    "category": "Hidden",
    "website": "https://github.com/logistics-integration/odoo-logistics",
    "author": "Logistics Integration Suite contributors",
    "license": "LGPL-3",
    "depends": [
        "logistics_billing_events",
        "logistics_customs",
        "logistics_customs_3pl",
        "logistics_carrier_3pl",
        "sale_stock",
    ],
}
