# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Logistics Integration Benchmark Baselines",
    "summary": "Test-only: a bare insert route and a no-op queue job, baselines for "
    "tests/benchmarks/bench_base.py. Never install in production.",
    "version": "18.0.1.0.0",
    "category": "Hidden",
    "website": "https://github.com/logistics-integration/odoo-logistics",
    "author": "Logistics Integration Suite contributors",
    "license": "LGPL-3",
    "depends": ["logistics_integration_base"],
    "data": [
        "security/ir.model.access.csv",
        "data/queue_job_data.xml",
    ],
}
