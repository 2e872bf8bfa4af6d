"""What the benchmark scripts share: installing a fresh database, and measuring the time and
memory of a block of code in this process."""

import gc
import os
import subprocess
import sys
import time
import tracemalloc


def install(conf, db, modules):
    """A fresh database ``db`` with ``modules`` installed, without demo data."""
    subprocess.run(["dropdb", "--if-exists", "--force", db], check=True)
    subprocess.run(
        [
            sys.executable,
            os.path.join(os.environ["ODOO_SRC"], "odoo-bin"),
            "-c",
            conf,
            "-d",
            db,
            "-i",
            modules,
            "--without-demo=all",
            "--stop-after-init",
            "--log-level=warn",
        ],
        check=True,
        timeout=600,
    )


def rss_kib(field="VmRSS"):
    with open("/proc/self/status") as fh:
        for row in fh:
            if row.startswith(field + ":"):
                return int(row.split()[1])
    return 0


def reset_rss_peak():
    """Reset the process's RSS high-water mark (Linux: write 5 to clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


class Measure:
    """Seconds, RSS growth (bytes) and, when ``trace``, the Python heap peak (bytes) of the
    code run inside the ``with`` block. ``exact_rss``: the growth is the high-water mark's
    (the kernel let it be reset), not the RSS at the end."""

    def __init__(self, trace=False):
        self.trace = trace
        self.seconds = self.rss_growth = self.heap_peak = 0
        self.exact_rss = False

    def __enter__(self):
        gc.collect()
        if self.trace:
            tracemalloc.start()
            self._heap = tracemalloc.get_traced_memory()[0]
        self.exact_rss = reset_rss_peak()
        self._rss = rss_kib()
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._start
        end = rss_kib("VmHWM") if self.exact_rss else rss_kib()
        self.rss_growth = max(end - self._rss, 0) * 1024
        if self.trace:
            self.heap_peak = tracemalloc.get_traced_memory()[1] - self._heap
            tracemalloc.stop()
