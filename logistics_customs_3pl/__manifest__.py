# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Logistics Customs for 3PL warehouses",
    "summary": "A delivery of a 3PL warehouse is released to the 3PL once customs released "
    "its declaration",
    "version": "18.0.1.0.0",
    "category": "Inventory/Logistics",
    "website": "https://github.com/logistics-integration/odoo-logistics",
    "author": "Logistics Integration Suite contributors",
    "license": "LGPL-3",
    "depends": ["logistics_customs", "logistics_3pl_connector"],
    "auto_install": True,
}
