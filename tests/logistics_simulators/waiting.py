"""Waiting for something that happens in another thread or process, with a deadline.

Tests that drive real servers (the simulators, SFTP, a subprocess) must not sleep a fixed
time and then assert: on a loaded machine the other side is late and the test fails, on a
quiet one it wastes time. They wait until a condition holds instead, and fail only when it
still does not hold after a deadline generous enough for a busy 2-core CI machine::

    from logistics_simulators.waiting import wait_until

    received = wait_until(lambda: len(server.requests) >= 3 and server.requests,
                          what="three webhook deliveries")

Waiting returns as soon as the condition holds, so a generous deadline costs nothing when
things go well.
"""

import time

DEADLINE = 30.0
"""Seconds a test waits for a condition before failing (the default of :func:`wait_until`,
and the deadline to use for other blocking waits: ``queue.get``, ``Popen.wait``...)."""

POLL_INTERVAL = 0.01


class WaitTimeout(AssertionError):
    """The condition did not hold before the deadline (a test failure, not an error)."""


def wait_until(condition, timeout=DEADLINE, interval=POLL_INTERVAL, what=None):
    """Call ``condition()`` until it returns a true value and return that value; raise
    :class:`WaitTimeout` (an ``AssertionError``) naming ``what`` and the last value when it
    is still false after ``timeout`` seconds. The condition is checked once more after the
    deadline, so a slow poll never loses the last chance."""
    deadline = time.monotonic() + timeout
    while True:
        expired = time.monotonic() >= deadline
        value = condition()
        if value:
            return value
        if expired:
            raise WaitTimeout(
                f"still waiting after {timeout:g} s for {what or 'the condition'} "
                f"(last value: {value!r})"
            )
        time.sleep(interval)
