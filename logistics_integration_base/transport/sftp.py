"""SFTP file exchange with a partner (file drops), on paramiko. Plain Python, no Odoo.

Registered as the ``sftp`` transport (``TRANSPORTS``); any module exchanging files uses it
(the 3PL connector for its 940/945/846 and CSV files).

    settings = SFTPSettings(
        host="sftp.partner.example", username="acme", password="...",
        host_key="ssh-ed25519 AAAAC3Nza...",       # REQUIRED, verified before authenticating
        inbound_dir="/to_acme", outbound_dir="/from_acme",
        archive_dir="/to_acme/archive", error_dir="/to_acme/error",
    )
    with SFTPConnection(settings) as conn:
        conn.put_atomic("order_0001.xml", payload)      # written as .part, then renamed
        for remote in conn.list_ready("*.xml"):         # oldest first, complete files only
            data = conn.read(remote.name)
            ...                                         # process, keyed by name + file_checksum
            conn.archive(remote.name)                   # or conn.move_to_error(remote.name)

Every failure is an :class:`SFTPError` with a message meant for an administrator; its
``transient`` attribute says whether retrying later may help (network trouble) or a person
must act (host key, credentials, permissions, missing file).
"""

import base64
import binascii
import contextlib
import fnmatch
import hashlib
import io
import posixpath
import socket
import stat as stat_mod
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import paramiko
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

__all__ = [
    "HostKeyRejected",
    "RemoteFile",
    "SFTPAuthError",
    "SFTPConfigError",
    "SFTPConnection",
    "SFTPConnectionError",
    "SFTPError",
    "SFTPFileNotFound",
    "SFTPSettings",
    "file_checksum",
    "fingerprint",
    "load_private_key",
    "parse_host_keys",
]

# Names that are never picked up, besides the configured temp_suffix: common "upload in
# progress" conventions of SFTP clients (".tmp", WinSCP's ".filepart").
IN_PROGRESS_SUFFIXES = (".tmp", ".filepart")

# Host key algorithms negotiated for each configured key type (RSA keys sign with SHA-2).
_HOST_KEY_ALGORITHMS = {"ssh-rsa": ("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa")}


# errors ------------------------------------------------------------------------------------
class SFTPError(Exception):
    """Base of every error of this module. ``transient``: a later retry may succeed."""

    transient = False

    def __init__(self, message, *, path=None):
        super().__init__(message)
        self.path = path


class SFTPConfigError(SFTPError):
    """The settings cannot work as they are (bad key text, missing field, bad file name)."""


class SFTPConnectionError(SFTPError):
    """The server could not be reached or the connection broke (refused, timeout, reset)."""

    transient = True


class HostKeyRejected(SFTPError):
    """The server's host key is not the configured one; nothing was sent to authenticate."""

    def __init__(self, message, *, host, port, offered_key, expected_keys):
        super().__init__(message)
        self.host = host
        self.port = port
        self.offered_key = offered_key  # OpenSSH line of the key the server presented
        self.offered_fingerprint = fingerprint(offered_key)
        self.expected_fingerprints = [fingerprint(key) for key in expected_keys]


class SFTPAuthError(SFTPError):
    """The server refused the username, password or key."""


class SFTPFileNotFound(SFTPError):
    """The remote file or folder does not exist (e.g. already taken by another worker)."""


# settings ----------------------------------------------------------------------------------
@dataclass(kw_only=True)
class SFTPSettings:
    host: str
    port: int = 22
    username: str
    password: str | None = field(default=None, repr=False)
    private_key: str | None = field(default=None, repr=False)
    private_key_passphrase: str | None = field(default=None, repr=False)
    # The server's public key: "<type> <base64>" or a known_hosts line "[host]:port <type>
    # <base64>"; several lines (ssh-keyscan output) accept any of those keys.
    host_key: str
    timeout: float = 15.0
    inbound_dir: str = "inbound"
    outbound_dir: str = "outbound"
    archive_dir: str = "archive"
    error_dir: str = "error"
    temp_suffix: str = ".part"
    min_file_age: float = 0  # seconds; younger files may still be being written

    def __post_init__(self):
        self.port = int(self.port)
        where = f"{self.host}:{self.port}"
        if not self.host:
            raise SFTPConfigError("SFTP settings: the host is missing")
        if not 0 < self.port < 65536:
            raise SFTPConfigError(f"SFTP settings: invalid port {self.port}")
        if not self.username:
            raise SFTPConfigError(f"SFTP settings for {where}: the username is missing")
        if not (self.password or self.private_key):
            raise SFTPConfigError(
                f"SFTP settings for {where}: set a password or a private key to log in with"
            )
        if self.host_key and self.host_key.strip():
            parse_host_keys(self.host_key)  # fail early on a malformed line
        if not self.temp_suffix or "/" in self.temp_suffix:
            raise SFTPConfigError(f"SFTP settings for {where}: invalid temp suffix")
        if self.timeout <= 0 or self.min_file_age < 0:
            raise SFTPConfigError(
                f"SFTP settings for {where}: the timeout must be positive and the minimum file "
                "age not negative"
            )


@dataclass(frozen=True)
class RemoteFile:
    name: str
    size: int
    mtime: float  # seconds since the epoch, as reported by the server


# helpers -----------------------------------------------------------------------------------
def file_checksum(data: bytes) -> str:
    """SHA-256 hex digest of a file's content (processed files are tracked by name + this)."""
    return hashlib.sha256(data).hexdigest()


def fingerprint(key) -> str:
    """OpenSSH-style fingerprint ("SHA256:...") of a PKey or an OpenSSH public key line."""
    if isinstance(key, str):
        key = parse_host_keys(key)[0]
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def _key_line(key):
    return f"{key.get_name()} {key.get_base64()}"


def _is_key_type(token):
    return token.startswith(("ssh-", "ecdsa-sha2-", "sk-", "rsa-sha2-"))


def parse_host_keys(text: str) -> list:
    """Public keys (PKey) from OpenSSH public key or known_hosts lines; comments and blank
    lines are ignored. Host names in known_hosts lines are not checked: the key is configured
    for this connection only."""
    keys = []
    for number, raw in enumerate((text or "").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        if fields[0].startswith("@"):
            raise SFTPConfigError(
                f"host key line {number}: markers such as {fields[0]} are not supported; "
                "paste the server's plain public key"
            )
        if not _is_key_type(fields[0]) and len(fields) >= 3:
            fields = fields[1:]  # known_hosts line: drop the host patterns
        try:
            if len(fields) < 2:
                raise ValueError("expected '<type> <base64>'")
            blob = base64.b64decode(fields[1], validate=True)
            keys.append(paramiko.PKey.from_type_string(fields[0], blob))
        except (ValueError, binascii.Error, paramiko.SSHException) as exc:
            shown = line if len(line) <= 60 else line[:57] + "..."
            raise SFTPConfigError(
                f"host key line {number} is not a valid OpenSSH public key ({shown!r}): {exc}. "
                "Expected '<type> <base64>', e.g. the output of 'ssh-keyscan -p PORT HOST'."
            ) from exc
    if not keys and (text or "").strip():
        raise SFTPConfigError("the host key contains no key line")
    return keys


def load_private_key(text: str, passphrase: str | None = None):
    """paramiko PKey from private key text: OpenSSH, PEM (PKCS#1/SEC1) or PKCS#8 format, RSA,
    ECDSA or Ed25519, optionally encrypted with ``passphrase``."""
    data = text.strip().encode() + b"\n"
    password = passphrase.encode() if passphrase else None
    openssh = b"BEGIN OPENSSH PRIVATE KEY" in data
    load = serialization.load_ssh_private_key if openssh else serialization.load_pem_private_key
    try:
        try:
            key = load(data, password=password)
        except TypeError:
            if password is None:
                raise SFTPConfigError(
                    "the private key is encrypted: its passphrase is missing"
                ) from None
            key = load(data, password=None)  # a passphrase was given for a plain key
    except ValueError as exc:
        if password is None and "password" in str(exc).lower():
            raise SFTPConfigError(
                "the private key is encrypted: its passphrase is missing"
            ) from None
        hint = "wrong passphrase, or " if password else ""
        raise SFTPConfigError(
            f"the private key could not be read ({hint}not an OpenSSH/PEM private key: {exc}); "
            "PuTTY .ppk keys must be exported in OpenSSH format"
        ) from None
    except UnsupportedAlgorithm as exc:
        raise SFTPConfigError(f"unsupported private key type: {exc}") from None
    if isinstance(key, ed25519.Ed25519PrivateKey):
        fmt, cls = serialization.PrivateFormat.OpenSSH, paramiko.Ed25519Key
    elif isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        fmt = serialization.PrivateFormat.TraditionalOpenSSL
        cls = paramiko.RSAKey if isinstance(key, rsa.RSAPrivateKey) else paramiko.ECDSAKey
    else:
        raise SFTPConfigError(
            f"unsupported private key type {type(key).__name__}: use RSA, ECDSA or Ed25519"
        )
    plain = key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())
    return cls.from_private_key(io.StringIO(plain.decode()))


def _check_name(name):
    if (
        not isinstance(name, str)
        or name in ("", ".", "..")
        or any(ch in name for ch in ("/", "\\", "\0"))
    ):
        raise SFTPConfigError(
            f"refusing file name {name!r}: expected a plain file name without path separators"
        )
    return name


def _join(directory, name):
    return posixpath.join(directory, name) if directory else name


# connection --------------------------------------------------------------------------------
class SFTPConnection:
    """One authenticated SFTP session; use as a context manager (or ``open()``/``close()``)."""

    def __init__(self, settings: SFTPSettings):
        self.settings = settings
        self.transport = None
        self.sftp = None  # the paramiko SFTPClient, for anything this class does not cover
        self.server_key = None
        self._posix_rename = True

    @property
    def where(self):
        return f"{self.settings.host}:{self.settings.port}"

    def __enter__(self):
        if self.sftp is None:
            self.open()
        return self

    def __exit__(self, *exc):
        self.close()

    # connecting --------------------------------------------------------------------------
    def open(self):
        if self.sftp is not None:
            return self
        s = self.settings
        expected = parse_host_keys(s.host_key)
        pkey = load_private_key(s.private_key, s.private_key_passphrase) if s.private_key else None
        sock = self._connect_socket()
        transport = paramiko.Transport(sock)
        try:
            transport.banner_timeout = transport.handshake_timeout = s.timeout
            transport.auth_timeout = s.timeout
            self._prefer_host_key_types(transport, expected)
            try:
                transport.start_client(timeout=s.timeout)
                offered = transport.get_remote_server_key()
            except (paramiko.SSHException, EOFError, OSError) as exc:
                raise SFTPConnectionError(
                    f"SSH handshake with {self.where} failed: {exc or type(exc).__name__}"
                ) from None
            self._verify_host_key(offered, expected)
            self._authenticate(transport, pkey)
            try:
                sftp = paramiko.SFTPClient.from_transport(transport)
            except (paramiko.SSHException, EOFError, OSError) as exc:
                raise SFTPConnectionError(
                    f"{self.where} refused to open an SFTP session for {s.username!r}: {exc}"
                ) from None
            if sftp is None:
                raise SFTPConnectionError(f"{self.where} refused to open an SFTP session")
            sftp.get_channel().settimeout(s.timeout)
        except BaseException:
            transport.close()
            raise
        self.transport, self.sftp, self.server_key = transport, sftp, offered
        return self

    def close(self):
        if self.sftp is not None:
            with contextlib.suppress(Exception):
                self.sftp.close()
        if self.transport is not None:
            self.transport.close()
        self.sftp = self.transport = None

    def _connect_socket(self):
        s = self.settings
        try:
            return socket.create_connection((s.host, s.port), timeout=s.timeout)
        except TimeoutError:
            reason = f"no answer within {s.timeout:g} s"
        except ConnectionRefusedError:
            reason = "connection refused (is the SFTP service running on this port?)"
        except socket.gaierror as exc:
            reason = f"cannot resolve the host name ({exc.strerror})"
        except OSError as exc:
            reason = exc.strerror or str(exc)
        raise SFTPConnectionError(f"cannot connect to SFTP server {self.where}: {reason}")

    @staticmethod
    def _prefer_host_key_types(transport, expected):
        """Ask the server for the configured key type first, so a server holding several host
        keys presents the one we know; other types stay allowed so that a mismatch is
        reported with the offered fingerprint instead of a bare negotiation failure."""
        options = transport.get_security_options()
        available = list(options.key_types)
        preferred = []
        for key in expected:
            for algorithm in _HOST_KEY_ALGORITHMS.get(key.get_name(), (key.get_name(),)):
                if algorithm in available and algorithm not in preferred:
                    preferred.append(algorithm)
        options.key_types = preferred + [a for a in available if a not in preferred]

    def _verify_host_key(self, offered, expected):
        if any(offered.asbytes() == key.asbytes() for key in expected):
            return
        got = f"{offered.get_name()} {fingerprint(offered)}"
        if expected:
            wanted = ", ".join(f"{key.get_name()} {fingerprint(key)}" for key in expected)
            message = (
                f"host key of {self.where} rejected: the server offered {got}, but the "
                f"configured key is {wanted}. Nothing was sent to the server. If the partner "
                "really changed its key, confirm the new fingerprint with them and update the "
                "host key."
            )
        else:
            expected = []
            message = (
                f"no host key configured for {self.where}: the server offered {got}. Confirm "
                "this fingerprint with the partner, then configure the key."
            )
        raise HostKeyRejected(
            message,
            host=self.settings.host,
            port=self.settings.port,
            offered_key=_key_line(offered),
            expected_keys=expected,
        )

    def _authenticate(self, transport, pkey):
        s = self.settings
        tried = []
        try:
            if pkey is not None:
                tried.append(f"{pkey.get_name()} key {fingerprint(pkey)}")
                try:
                    transport.auth_publickey(s.username, pkey)
                except paramiko.AuthenticationException:
                    if not s.password:
                        raise
            if not transport.is_authenticated() and s.password:
                tried.append("password")
                transport.auth_password(s.username, s.password)
        except paramiko.BadAuthenticationType as exc:
            raise SFTPAuthError(
                f"{self.where} does not accept this login method for {s.username!r} "
                f"(it allows: {', '.join(exc.allowed_types) or 'nothing'})"
            ) from None
        except paramiko.AuthenticationException:
            raise SFTPAuthError(
                f"authentication failed on {self.where} for user {s.username!r} "
                f"(tried {' then '.join(tried)}): check the username and credentials"
            ) from None
        except (paramiko.SSHException, EOFError, OSError) as exc:
            raise SFTPConnectionError(
                f"connection to {self.where} lost while authenticating: {exc}"
            ) from None
        if not transport.is_authenticated():
            raise SFTPAuthError(
                f"{self.where} requires further authentication for {s.username!r} "
                "(e.g. a second factor), which is not supported"
            )

    # file operations ---------------------------------------------------------------------
    @contextlib.contextmanager
    def _errors(self, action, path):
        if self.sftp is None:
            raise SFTPError(f"not connected to {self.where}: use 'with SFTPConnection(...)'")
        try:
            yield
        except SFTPError:
            raise
        except FileNotFoundError:
            raise SFTPFileNotFound(
                f"cannot {action} {path} on {self.where}: no such file or folder", path=path
            ) from None
        except PermissionError:
            raise SFTPError(
                f"cannot {action} {path} on {self.where}: permission denied", path=path
            ) from None
        except (TimeoutError, EOFError, ConnectionError, paramiko.SSHException) as exc:
            raise SFTPConnectionError(
                f"cannot {action} {path}: connection to {self.where} lost or timed out "
                f"({exc or type(exc).__name__})",
                path=path,
            ) from None
        except OSError as exc:
            raise SFTPError(
                f"cannot {action} {path} on {self.where}: {exc.strerror or exc}", path=path
            ) from None
        except paramiko.sftp.SFTPError as exc:
            raise SFTPError(
                f"cannot {action} {path} on {self.where}: SFTP protocol error ({exc})", path=path
            ) from None

    def _exists(self, path):
        try:
            self.sftp.lstat(path)
        except FileNotFoundError:
            return False
        return True

    def put_atomic(self, filename: str, data: bytes) -> str:
        """Upload ``data`` as ``outbound_dir/filename``: written under the temporary name
        (``filename + temp_suffix``), checked, then renamed, so the partner never sees a
        partial file under the final name. An existing file of that name is replaced."""
        _check_name(filename)
        data = bytes(data)
        final = _join(self.settings.outbound_dir, filename)
        temp = final + self.settings.temp_suffix
        with self._errors("upload", final):
            try:
                # Writes are not pipelined: paramiko drops the status of pipelined writes
                # still unread at close, so a failed chunk could go unnoticed.
                with self.sftp.open(temp, "wb") as fh:
                    fh.write(data)
                size = self.sftp.stat(temp).st_size
                if size != len(data):
                    raise SFTPError(
                        f"upload of {temp} to {self.where} is incomplete: the server has "
                        f"{size} of {len(data)} bytes",
                        path=temp,
                    )
                self._rename_replace(temp, final)
            except BaseException:
                with contextlib.suppress(Exception):
                    self.sftp.remove(temp)
                raise
        return final

    def _rename_replace(self, source, target):
        if self._posix_rename:
            try:
                self.sftp.posix_rename(source, target)
                return
            except OSError as exc:
                if exc.errno is not None:  # ENOENT/EACCES: a real failure, not "unsupported"
                    raise
                # An error without errno may mean the server lacks the extension: fall back
                # to plain rename below (for good if the server says so).
                if "support" in str(exc).lower():
                    self._posix_rename = False
        # Plain SFTP rename does not replace an existing file: remove it first. The final
        # name may briefly be absent, but never holds a partial file.
        if self._exists(target):
            self.sftp.remove(target)
        self.sftp.rename(source, target)

    def list_ready(self, pattern: str = "*", now: float | None = None) -> list:
        """Complete files of ``inbound_dir`` matching ``pattern``, oldest first. Skipped:
        folders, hidden files, names ending in the temp suffix / .tmp / .filepart, and files
        modified less than ``min_file_age`` seconds ago."""
        s = self.settings
        directory = s.inbound_dir or "."
        now = time.time() if now is None else now
        skip_suffixes = (s.temp_suffix, *IN_PROGRESS_SUFFIXES)
        ready = []
        with self._errors("list", directory):
            entries = self.sftp.listdir_attr(directory)
            for attr in entries:
                name = attr.filename
                if name.startswith(".") or name.endswith(skip_suffixes):
                    continue
                if not fnmatch.fnmatchcase(name, pattern):
                    continue
                if attr.st_mode is not None and stat_mod.S_ISLNK(attr.st_mode):
                    try:
                        attr = self.sftp.stat(_join(s.inbound_dir, name))
                    except OSError:
                        continue  # dangling link
                if attr.st_mode is not None and not stat_mod.S_ISREG(attr.st_mode):
                    continue
                mtime = float(attr.st_mtime or 0)
                if s.min_file_age and now - mtime < s.min_file_age:
                    continue
                ready.append(RemoteFile(name, int(attr.st_size or 0), mtime))
        ready.sort(key=lambda f: (f.mtime, f.name))
        return ready

    def read(self, name: str) -> bytes:  # pylint: disable=method-required-super
        """Content of ``inbound_dir/name``."""
        path = _join(self.settings.inbound_dir, _check_name(name))
        with self._errors("read", path), self.sftp.open(path, "rb") as fh:
            size = fh.stat().st_size
            if size:
                fh.prefetch(size)
            return fh.read()

    def archive(self, name: str, processed_at: datetime | None = None) -> str:
        """Move ``inbound_dir/name`` to ``archive_dir``; if that name is taken, the
        processing time is added before the extension (``a.20250101T120000Z.csv``)."""
        return self._move(name, self.settings.archive_dir, "archive", processed_at)

    def move_to_error(self, name: str, processed_at: datetime | None = None) -> str:
        """Move ``inbound_dir/name`` to ``error_dir`` (same clash rule as :meth:`archive`)."""
        return self._move(name, self.settings.error_dir, "move to the error folder", processed_at)

    def _move(self, name, target_dir, action, processed_at):
        source = _join(self.settings.inbound_dir, _check_name(name))
        when = processed_at or datetime.now(UTC)
        if when.tzinfo is not None:
            when = when.astimezone(UTC)
        stem, dot, ext = name.rpartition(".")
        if not stem:  # no extension (or a leading dot only)
            stem, dot, ext = name, "", ""
        stamp = when.strftime("%Y%m%dT%H%M%SZ")
        candidates = [name] + [
            f"{stem}.{stamp}{'' if n == 1 else f'-{n}'}{dot}{ext}" for n in range(1, 100)
        ]
        with self._errors(action, source):
            for candidate in candidates:
                target = _join(target_dir, candidate)
                if self._exists(target):
                    continue
                try:
                    self.sftp.rename(source, target)
                except OSError:
                    if not self._exists(source):
                        raise FileNotFoundError(source) from None
                    if self._exists(target):
                        continue  # taken meanwhile by another worker
                    if target_dir and not self._exists(target_dir):
                        raise SFTPFileNotFound(
                            f"cannot {action} {source}: the folder {target_dir} does not "
                            f"exist on {self.where}",
                            path=target_dir,
                        ) from None
                    raise
                return target
            raise SFTPError(f"cannot {action} {source}: too many files named {name} already")

    def ensure_dirs(self) -> list:
        """Create the configured folders (and their parents) that are missing; returns the
        folders created."""
        s = self.settings
        created = []
        for directory in (s.inbound_dir, s.outbound_dir, s.archive_dir, s.error_dir):
            if not directory or directory in (".", "/"):
                continue
            prefix = "/" if directory.startswith("/") else ""
            for part in [p for p in directory.split("/") if p]:
                prefix = posixpath.join(prefix, part) if prefix else part
                with self._errors("create folder", prefix):
                    try:
                        attr = self.sftp.stat(prefix)
                    except FileNotFoundError:
                        try:
                            self.sftp.mkdir(prefix)
                            created.append(prefix)
                            continue
                        except OSError as exc:  # created meanwhile by someone else?
                            if not self._exists(prefix):
                                raise exc from None
                            attr = self.sftp.stat(prefix)
                    if attr.st_mode is not None and not stat_mod.S_ISDIR(attr.st_mode):
                        raise SFTPError(
                            f"{prefix} on {self.where} exists but is not a folder", path=prefix
                        )
        return created

    def test(self) -> str:
        """Connect (if needed), list the inbound folder and describe the result."""
        if self.sftp is None:
            with self:
                return self.test()
        s = self.settings
        ready = self.list_ready()
        with self._errors("list", s.inbound_dir or "."):
            entries = len(self.sftp.listdir(s.inbound_dir or "."))
        missing = []
        for label, directory in (
            ("outbound", s.outbound_dir),
            ("archive", s.archive_dir),
            ("error", s.error_dir),
        ):
            if directory and not self._exists(directory):
                missing.append(f"{label} folder {directory}")
        summary = (
            f"Connected to {self.where} as {s.username} (host key {self.server_key.get_name()} "
            f"{fingerprint(self.server_key)}). Inbound folder {s.inbound_dir or '.'}: "
            f"{len(ready)} file(s) ready, {entries - len(ready)} other entr"
            f"{'y' if entries - len(ready) == 1 else 'ies'}."
        )
        if missing:
            summary += " Missing: " + ", ".join(missing) + "."
        return summary
