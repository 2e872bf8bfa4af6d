# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Logistics Customs for 3PL warehouses",
    "summary": "A delivery of a 3PL warehouse under a customs declaration reaches the 3PL once "
    "customs released it, or at once with a customs hold flag",
    "version": "18.0.1.1.0",
    "category": "Inventory/Logistics",
    "website": "https://github.com/logistics-integration/odoo-logistics",
    "author": "Logistics Integration Suite contributors",
    "license": "LGPL-3",
    "depends": ["logistics_customs", "logistics_3pl_connector"],
    "data": [
        "views/logistics_backend_views.xml",
        "views/stock_views.xml",
    ],
    "auto_install": True,
}
