"""3PL adapters: SFTP file exchange (CSV / X12) and the ShipBob-shaped REST API."""

from . import shipbob, sftp_files
