"""Invoices posted before the billing system's news was kept on them: the last news sent of
each (from the integration's message history) fills "Billing system told", so that a
later cancellation is told for them too; and invoices whose cancellation was told (their
events were freed then) are marked, so that they are not reset and posted a second time.
A draft cancelled before this version told nothing and is not marked."""

TOLD = {
    "invoice.posted": "posted",
    "invoice.reset": "reset",
    "invoice.cancelled": "cancelled",
    "invoice.reversed": "reversed",
}


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """
        UPDATE account_move m
           SET logistics_billing_told = CASE last.message_type
               WHEN 'invoice.posted' THEN 'posted'
               WHEN 'invoice.reset' THEN 'reset'
               WHEN 'invoice.cancelled' THEN 'cancelled'
               WHEN 'invoice.reversed' THEN 'reversed' END
          FROM (
              SELECT DISTINCT ON (res_id) res_id, message_type
                FROM logistics_message
               WHERE res_model = 'account.move' AND direction = 'out'
                 AND message_type IN %s
            ORDER BY res_id, id DESC
          ) AS last
         WHERE m.id = last.res_id AND m.logistics_billing_told IS NULL
        """,
        [tuple(TOLD)],
    )
    cr.execute(
        """
        UPDATE account_move m SET logistics_billing_released = TRUE
         WHERE m.state = 'cancel' AND EXISTS (
               SELECT 1 FROM logistics_message lm
                WHERE lm.res_model = 'account.move' AND lm.res_id = m.id
                  AND lm.direction = 'out' AND lm.message_type = 'invoice.cancelled')
        """
    )
