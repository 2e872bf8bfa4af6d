# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Logistics Carrier Connector",
    "summary": "Parcel carriers as Odoo delivery methods on logistics backends: rates, "
    "labels per package, cancellation, tracking timelines; REST and SOAP",
    "version": "18.0.1.1.0",
    "category": "Inventory/Delivery",
    "website": "https://github.com/logistics-integration/odoo-logistics",
    "author": "Logistics Integration Suite contributors",
    "license": "LGPL-3",
    "depends": ["logistics_integration_base", "stock_delivery"],
    "external_dependencies": {"python": ["zeep"]},
    "data": [
        "security/security.xml",
        "security/ir.model.access.csv",
        "data/ir_cron.xml",
        "views/logistics_carrier_parcel_views.xml",
        "views/delivery_carrier_views.xml",
        "views/logistics_backend_views.xml",
        "views/stock_picking_views.xml",
        "views/menus.xml",
        "views/portal_templates.xml",
    ],
    "demo": ["demo/demo.xml"],
    "assets": {
        "web.assets_tests": [
            "logistics_carrier_connector/static/tests/tours/*.js",
        ],
    },
}
