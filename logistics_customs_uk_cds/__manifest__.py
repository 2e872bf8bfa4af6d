# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Logistics Customs: UK Customs Declaration Service",
    "summary": "Declare exports and imports to HMRC's Customs Declaration Service (CDS) in "
    "WCO DMS XML, and read its DMS notifications into the declaration's status",
    "version": "18.0.1.0.0",
    "category": "Inventory/Logistics",
    "website": "https://github.com/logistics-integration/odoo-logistics",
    "author": "Logistics Integration Suite contributors",
    "license": "LGPL-3",
    "depends": ["logistics_customs"],
    "external_dependencies": {"python": ["lxml"]},
    "data": ["views/backend_views.xml", "views/customs_declaration_views.xml"],
    "demo": ["demo/demo.xml"],
}
