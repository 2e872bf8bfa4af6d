"""Encryption of partner secrets at rest.

Secrets (webhook secrets, passwords, tokens, client secrets) are encrypted with Fernet
(AES-128-CBC + HMAC-SHA256, from ``cryptography``). The key never lives in the database:
it is read from the Odoo configuration option ``logistics_secret_key`` or, failing that,
from the environment variable ``LOGISTICS_SECRET_KEY``.

The option may hold several keys separated by commas: the first encrypts, all of them
decrypt (key rotation: put the new key first, re-save secrets, then drop the old one).
Any string works as a key; it is stretched to a Fernet key with HKDF-SHA256.
"""

import base64
import os

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.backends import default_backend
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

CONFIG_OPTION = "logistics_secret_key"
ENV_VARIABLE = "LOGISTICS_SECRET_KEY"
PREFIX = "lgx1:"  # marks our ciphertexts, so a clear value is never mistaken for one


class SecretKeyMissing(Exception):
    """No encryption key is configured."""

    def __str__(self):
        return (
            "No encryption key for logistics secrets: set the option "
            f"'{CONFIG_OPTION}' in the Odoo configuration file or the environment "
            f"variable {ENV_VARIABLE}, then restart Odoo."
        )


class SecretUndecryptable(Exception):
    """The stored ciphertext does not open with any configured key."""

    def __str__(self):
        return (
            "A stored secret cannot be decrypted with the configured "
            f"'{CONFIG_OPTION}': the key was changed or lost. Enter the secret again."
        )


def _derive(raw):
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"logistics-integration",
        info=b"logistics-secret-v1",
        backend=default_backend(),
    )
    return Fernet(base64.urlsafe_b64encode(hkdf.derive(raw.encode())))


def configured_keys():
    """The configured key strings, first one encrypting. Empty list when none."""
    try:
        from odoo.tools import config

        raw = config.get(CONFIG_OPTION) or ""
    except ImportError:  # pragma: no cover - used outside Odoo
        raw = ""
    raw = raw or os.environ.get(ENV_VARIABLE, "")
    return [k.strip() for k in str(raw).split(",") if k.strip()]


def _fernet():
    keys = configured_keys()
    if not keys:
        raise SecretKeyMissing()
    return MultiFernet([_derive(k) for k in keys])


def encrypt(value):
    """Encrypt a clear string; returns text safe to store."""
    if value is None or value == "":
        return False
    token = _fernet().encrypt(value.encode())
    return PREFIX + token.decode()


def decrypt(stored):
    """Decrypt what :func:`encrypt` returned."""
    if not stored:
        return None
    if not stored.startswith(PREFIX):
        raise SecretUndecryptable()
    try:
        return _fernet().decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise SecretUndecryptable() from exc
