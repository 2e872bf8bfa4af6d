"""Records that must outlive the transaction that made them: the record of a partner call
that failed, and the circuit breaker's count, survive the rollback of the request or job that
raised the failure (a Get rate that ends in an error rolls back everything it wrote)."""

import contextlib
import logging

import psycopg2

from odoo.modules import module as odoo_module

_logger = logging.getLogger(__name__)

LOCK_TIMEOUT = "3s"


def in_a_test(cr):
    """Whether ``cr`` belongs to a test that must not commit: Odoo's test runner marks the
    running test, and Odoo's test cases replace the cursor's ``commit`` on the instance (so a
    test run by another runner, pytest-odoo, is recognised too)."""
    return bool(odoo_module.current_test) or "commit" in vars(cr)


def in_one_transaction(env):
    """Whether everything must stay in the caller's transaction: in tests, which run in
    one transaction and are rolled back (an HttpCase's cursors are all savepoints of it; a
    TransactionCase's would commit for good), unless the context asks for
    ``logistics_commit_apart`` (a test on committed data)."""
    if env.registry.in_test_mode():
        return True
    return in_a_test(env.cr) and not env.context.get("logistics_commit_apart")


@contextlib.contextmanager
def own_env(env, backend):
    """An environment like ``env`` on a cursor of its own, committed when the block ends
    without error; ``None`` when that cannot be (the caller then writes in its own
    transaction): ``backend`` was created in the caller's transaction and is not visible
    from another one yet, or the database is a test's single shared transaction.

    Rows the caller's transaction holds are not waited for longer than ``LOCK_TIMEOUT``:
    the block then gives up (its writes rolled back) and the caller writes them itself."""
    registry = env.registry
    if in_one_transaction(env):
        yield None
        return
    try:
        cr = registry.cursor()
    except psycopg2.Error:
        yield None
        return
    with cr:
        cr.execute("SET LOCAL lock_timeout = %s", [LOCK_TIMEOUT])
        cr.execute("SELECT 1 FROM logistics_backend WHERE id = %s", [backend.id])
        if not cr.fetchone():
            yield None
            return
        yield env(cr=cr)
        env(cr=cr).flush_all()


def write_apart(env, backend, write):
    """Call ``write(env)`` in a transaction of its own (see :func:`own_env`), else in the
    caller's; return what it returned and whether it was written apart."""
    try:
        with own_env(env, backend) as apart:
            if apart is not None:
                return write(apart), True
    except psycopg2.errors.LockNotAvailable:
        _logger.info("backend %s is locked by this transaction: recorded in it", backend.id)
    return write(env), False
