"""Material partners published, kept to test the suite against the world.

One folder per partner (``tests/conformance/<partner>/``), each with a ``SOURCES.md``
naming every file's origin and licence. Tests read the files through :func:`material`
and replay them through the real paths (webhook route, SFTP poll, delivery method, job).
"""

from pathlib import Path

HERE = Path(__file__).resolve().parent


def material(partner, *parts):
    """The path of a published file kept for ``partner`` (an error if it is missing)."""
    path = HERE.joinpath(partner, *parts)
    if not path.exists():
        raise FileNotFoundError(f"No conformance material {path.relative_to(HERE)}")
    return path


def read_bytes(partner, *parts):
    """The bytes of a published file, exactly as its publisher wrote them."""
    return material(partner, *parts).read_bytes()
