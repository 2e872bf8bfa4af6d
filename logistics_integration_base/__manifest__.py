# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Logistics Integration Base",
    "summary": "Partner backends, canonical messages, queued outbound jobs, signed webhooks, "
    "exception queue with replay",
    "version": "18.0.1.3.0",
    "category": "Inventory/Logistics",
    "website": "https://github.com/logistics-integration/odoo-logistics",
    "author": "Logistics Integration Suite contributors",
    "license": "LGPL-3",
    "depends": ["mail", "queue_job"],
    "external_dependencies": {
        "python": ["cryptography", "jsonschema", "paramiko", "prometheus_client", "requests"]
    },
    "data": [
        "security/security.xml",
        "security/ir.model.access.csv",
        "data/queue_job_data.xml",
        "data/ir_cron.xml",
        "data/sftp_cron.xml",
        "data/versions_cron.xml",
        "views/logistics_message_views.xml",
        "views/logistics_message_reading_views.xml",
        "wizards/message_ignore_views.xml",
        "wizards/message_edit_payload_views.xml",
        "wizards/webhook_secret_shown_views.xml",
        "views/logistics_backend_views.xml",
        "views/logistics_backend_versions_views.xml",
        "views/menus.xml",
        "views/sftp_file_views.xml",
        "views/logistics_transaction_views.xml",
        "views/parallel_run_views.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "logistics_integration_base/static/src/dashboard/dashboard_kanban.js",
            "logistics_integration_base/static/src/dashboard/dashboard_kanban.scss",
            "logistics_integration_base/static/src/notification/notification.scss",
            "logistics_integration_base/static/src/message_refresh/form_refresh.js",
        ],
        "web.assets_tests": [
            "logistics_integration_base/static/tests/tours/*.js",
        ],
    },
    "application": True,
}
