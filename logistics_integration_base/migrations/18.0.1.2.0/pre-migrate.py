"""Attempts carry their message's backend and company (stored related fields, for the
dashboard's drill-downs and the multi-company rule): the columns are created and filled here
in one statement each, so that the upgrade does not compute them record by record."""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        "ALTER TABLE logistics_message_attempt "
        "ADD COLUMN IF NOT EXISTS backend_id integer, "
        "ADD COLUMN IF NOT EXISTS company_id integer"
    )
    cr.execute(
        "UPDATE logistics_message_attempt a SET backend_id = m.backend_id, "
        "company_id = m.company_id FROM logistics_message m "
        "WHERE m.id = a.message_id AND a.backend_id IS NULL"
    )
