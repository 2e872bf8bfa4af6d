# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Logistics Customs: duties into landed costs",
    "summary": "Duties a customs broker reports for an import become a draft landed cost "
    "on the receipt",
    "version": "18.0.1.0.0",
    "category": "Inventory/Logistics",
    "website": "https://github.com/logistics-integration/odoo-logistics",
    "author": "Logistics Integration Suite contributors",
    "license": "LGPL-3",
    "depends": ["logistics_customs", "stock_landed_costs"],
    "data": ["data/products.xml", "views/customs_declaration_views.xml"],
    "auto_install": True,
}
