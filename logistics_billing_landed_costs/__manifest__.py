# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Logistics Billing: inbound freight into landed costs",
    "summary": "Freight a carrier or 3PL invoices for a receipt becomes a draft landed cost on "
    "it, linked to the vendor bill",
    "version": "18.0.1.0.0",
    "category": "Inventory/Logistics",
    "website": "https://github.com/logistics-integration/odoo-logistics",
    "author": "Logistics Integration Suite contributors",
    "license": "LGPL-3",
    "depends": ["logistics_billing_events", "stock_landed_costs"],
    "data": ["data/products.xml"],
    "auto_install": True,
}
