"""Two real transactions racing on committed data: what happens when the same news is
applied at the same moment (a webhook delivered twice at once, two polls reading one file,
six confirmations posted together). Tests using it commit their fixture (a transaction of
the test cannot be seen by another one) and remove it afterwards."""

import threading

from logistics_simulators.waiting import DEADLINE, wait_until

from odoo import SUPERUSER_ID, api


def new_env(registry, cr, context=None):
    """An environment on ``cr``, made without looking the registry up by its name: while
    tests run, the test runner holds the lock of that lookup."""
    cr.transaction = cr.transaction or api.Transaction(registry)
    return api.Environment(cr, SUPERUSER_ID, context or {})


def wait_until_blocked(registry, pid, what):
    """Wait until the database connection ``pid`` waits for a lock."""

    def blocked():
        with registry.cursor() as cr:
            cr.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
            row = cr.fetchone()
            return bool(row and row[0] == "Lock")

    wait_until(blocked, what=what)


def race(registry, first, second, context=None, what="the second transaction waiting"):
    """``first(env)`` runs and its transaction is held open while ``second(env)`` runs in
    another thread until it waits for the first one's rows; then the first commits, and
    the second goes on. Returns what ``second`` did: ``{"result": value}`` (its transaction
    committed) or ``{"error": exception}`` (rolled back)."""
    outcome = {}
    first_cr = registry.cursor()
    try:
        first(new_env(registry, first_cr, context))
        second_cr = registry.cursor()
        second_cr.execute("SELECT pg_backend_pid()")
        second_pid = second_cr.fetchone()[0]
        second_env = new_env(registry, second_cr, context)

        def run_second():
            try:
                outcome["result"] = second(second_env)
                second_env.flush_all()
                second_cr.commit()
            except Exception as exc:  # the caller's assertions report it
                outcome["error"] = exc
                second_cr.rollback()
            finally:
                second_cr.close()

        thread = threading.Thread(target=run_second)
        thread.start()
        try:
            wait_until_blocked(registry, second_pid, what)
        finally:
            new_env(registry, first_cr, context).flush_all()
            first_cr.commit()
    finally:
        first_cr.close()
    thread.join(DEADLINE)
    if thread.is_alive():
        raise AssertionError("the second transaction did not end after the first committed")
    return outcome
