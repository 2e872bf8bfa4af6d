"""Material partners published, kept to test the suite against the world.

One folder per partner (``tests/conformance/<partner>/``), each with a ``SOURCES.md``
naming every file's origin and licence. Tests read the files through :func:`material`
and replay them through the real paths (webhook route, SFTP poll, delivery method, job).

Material its publisher attaches no licence to is not redistributed: its folder lists the files
with their SHA-256 in ``SHA256SUMS``, and each machine keeps its own copy outside the
repository, in ``$LOGISTICS_CONFORMANCE_CACHE/<partner>/`` (by default
``~/.cache/logistics-conformance/<partner>/``), where :func:`material` finds it once its
checksum matches. Without it, the tests that need it are skipped and say why.
"""

import hashlib
import os
from pathlib import Path

HERE = Path(__file__).resolve().parent


def cache_dir():
    """Where this machine keeps material that is not redistributed with the suite."""
    default = Path.home() / ".cache" / "logistics-conformance"
    return Path(os.environ.get("LOGISTICS_CONFORMANCE_CACHE") or default)


def _checksums(partner):
    """``{relative path: sha256}`` of the files listed in the partner's ``SHA256SUMS``."""
    sums = HERE / partner / "SHA256SUMS"
    if not sums.exists():
        return {}
    listed = {}
    for line in sums.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            digest, name = line.split(maxsplit=1)
            listed[name.lstrip("*")] = digest
    return listed


def material(partner, *parts):
    """The path of a published file kept for ``partner``: in the repository, or (for material
    not redistributed) in this machine's cache once its SHA-256 is the one recorded.
    ``FileNotFoundError`` when it is in neither; ``ValueError`` when the cached copy differs."""
    path = HERE.joinpath(partner, *parts)
    if path.exists():
        return path
    name = "/".join(parts)
    cached = cache_dir().joinpath(partner, *parts)
    expected = _checksums(partner).get(name)
    if expected and cached.exists():
        actual = hashlib.sha256(cached.read_bytes()).hexdigest()
        if actual != expected:
            raise ValueError(
                f"{cached} is not the published {partner} file {name}: its SHA-256 is {actual}, "
                f"tests/conformance/{partner}/SHA256SUMS records {expected}"
            )
        return cached
    where = f" nor in {cached.parent}" if expected else ""
    raise FileNotFoundError(f"No conformance material {partner}/{name} in the repository{where}")


def read_bytes(partner, *parts):
    """The bytes of a published file, exactly as its publisher wrote them."""
    return material(partner, *parts).read_bytes()
