# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Logistics Carrier Tracking for 3PL Shipments",
    "summary": "Parcels a 3PL ships are tracked by the carrier backend that follows their carrier",
    "version": "18.0.1.0.0",
    "category": "Inventory/Delivery",
    "website": "https://github.com/logistics-integration/odoo-logistics",
    "author": "Logistics Integration Suite contributors",
    "license": "LGPL-3",
    "depends": ["logistics_3pl_connector", "logistics_carrier_connector"],
    "auto_install": True,
}
