"""Files a simulated partner drops for Odoo over SFTP, as partners do: written as
``<name>.part`` and renamed. ``settings`` is an ``SFTPSettings`` with Odoo's folder layout
(``inbound_dir``: where Odoo reads, the partner drops there; ``outbound_dir``: where Odoo
writes, the partner picks up there)."""

import collections
import dataclasses

SftpDrop = collections.namedtuple("SftpDrop", "path name content payload")
SftpDrop.__doc__ = """A file the simulated partner dropped: remote path, file name, content,
and the canonical payload it carries (None for raw drops)."""


def sftp_connection(settings):
    """Odoo's SFTP client on ``settings``."""
    # Imported lazily: the SFTP client lives in the base module (paramiko).
    from odoo.addons.logistics_integration_base.transport import sftp

    return sftp.SFTPConnection(settings)


def sftp_drop(settings, filename, content, half_written=False):
    """Drop a file the way a partner does into Odoo's inbound folder (``settings.inbound_dir``,
    an ``SFTPSettings`` seen from the partner's side): written as ``<name>.part`` and renamed,
    or, with ``half_written``, left as an incomplete ``.part`` upload."""
    data = content.encode() if isinstance(content, str) else content
    # put_atomic writes to the outbound folder: from the partner's side that is Odoo's inbound
    settings = dataclasses.replace(settings, outbound_dir=settings.inbound_dir)
    with sftp_connection(settings) as conn:
        conn.ensure_dirs()
        if half_written:
            with conn.sftp.open(
                f"{settings.inbound_dir}/{filename}{settings.temp_suffix}", "wb"
            ) as fh:
                fh.write(data[: len(data) // 2])
            return f"{settings.inbound_dir}/{filename}{settings.temp_suffix}"
        return conn.put_atomic(filename, data)
