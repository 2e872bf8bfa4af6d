# ruff: noqa: F821  (odoo-bin shell gives `env`)
# Run by tests/upgrade/upgrade.sh in `odoo-bin shell` on the CURRENT code after `odoo -u`:
# prints one PASS/FAIL line per check.
import odoo

Message = env["logistics.message"]
backend = env["logistics.backend"].search([("code", "=", "upgrade3pl")])
results = []


def check(label, ok, detail=""):
    results.append(ok)
    print(("PASS " if ok else "FAIL ") + label + ("" if ok else f": {detail}"))


check("the backend is kept", len(backend) == 1, backend)
messages = Message.search([("backend_id", "=", backend.id)], order="id")
check("its four messages are kept", len(messages) == 4, len(messages))
check(
    "the webhook secret still decrypts to the same value",
    backend._get_secret("webhook_secret") == "whsec_dXBncmFkZS10ZXN0LXNlY3JldC0wMTIzNDU2Nzg5",
)
check(
    "the API key still decrypts to the same value",
    backend._get_secret("api_key") == "upgrade-api-key-0123",
)
by_key = {m.idempotency_key: m for m in messages}
stale, fixed, still_open = by_key["upg-stale-r1"], by_key["upg-stale-r2"], by_key["upg-open"]
check(
    "the failure a later release solved left the queue: superseded by that release",
    stale.state == "superseded" and stale.superseded_by_id == fixed,
    (stale.state, stale.superseded_by_id),
)
check(
    "its reason is kept",
    "no phone" in (stale.error_message or ""),
    stale.error_message,
)
check(
    "the open failure stays in the exception queue with its reason",
    still_open.state == "failed" and "no city" in (still_open.error_message or ""),
    (still_open.state, still_open.error_message),
)
exceptions = Message.search([("backend_id", "=", backend.id), ("state", "in", ("failed", "dead"))])
check("Exceptions lists exactly the open failure", exceptions == still_open, exceptions)
check(
    "the inbound event is kept processed",
    by_key["upg-in-1"].state == "processed",
    by_key["upg-in-1"].state,
)
modules = env["ir.module.module"].search([("name", "=like", "logistics_%")])
manifest_versions = {m.name: odoo.modules.module.get_manifest(m.name)["version"] for m in modules}
check(
    "every suite module is at its current version",
    all(m.latest_version == manifest_versions[m.name] for m in modules),
    {m.name: (m.latest_version, manifest_versions[m.name]) for m in modules},
)
print(f"{sum(results)} passed, {len(results) - sum(results)} failed")
