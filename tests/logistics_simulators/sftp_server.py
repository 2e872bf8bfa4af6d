"""A real SFTP server on loopback (paramiko), serving a local directory as its root.

    users = {"wh": {"password": "pw", "public_keys": [client_key]}}
    with SFTPTestServer(root_dir, users=users) as srv:
        srv.host, srv.port          # 127.0.0.1 and a free port chosen by the OS
        srv.host_key                # the server's paramiko PKey (ECDSA unless told otherwise)
        srv.host_key_line           # "ecdsa-sha2-nistp256 AAAA..." (OpenSSH public key line)
        srv.known_hosts_line        # "[127.0.0.1]:PORT ecdsa-sha2-nistp256 AAAA..."
        srv.auth_attempts           # every authentication attempt: AuthAttempt(user, method, ok)
        srv.events                  # every file operation: FileEvent(user, op, path, arg)
        srv.add_hook(fn)            # fn(event) runs in the server thread *before* the operation;
                                    # if it raises, the operation fails with SFTP_FAILURE

The root is a chroot: every path the client sends is resolved against ``root_dir`` and any
path (``..``, absolute, or through a symlink) that would leave it is refused with
"permission denied". Several clients may be connected at once; ``stop()`` (or leaving the
``with`` block) closes them all. ``rename`` follows SFTP v3 (it never overwrites an existing
target); ``posix_rename`` (the ``posix-rename@openssh.com`` extension) replaces it atomically,
unless the server is built with ``posix_rename=False`` to play an older server.

``root_dir=None`` serves a fresh temporary directory, removed on ``stop()``.
"""

import base64
import binascii
import collections
import contextlib
import hmac
import logging
import os
import shutil
import socket
import tempfile
import threading

import paramiko
from paramiko.sftp import (
    SFTP_FAILURE,
    SFTP_NO_SUCH_FILE,
    SFTP_OK,
    SFTP_OP_UNSUPPORTED,
    SFTP_PERMISSION_DENIED,
)

# paramiko logs every client that hangs up abruptly as an ERROR ("Socket exception: Connection
# reset by peer"); the server's transports log here, quiet unless lowered for debugging.
SERVER_LOG_CHANNEL = "logistics_simulators.sftp_server.ssh"
logging.getLogger(SERVER_LOG_CHANNEL).setLevel(logging.CRITICAL)

AuthAttempt = collections.namedtuple("AuthAttempt", "username method ok peer")
FileEvent = collections.namedtuple("FileEvent", "user op path arg")


class PathEscape(Exception):
    """A client path that would leave the served root."""


def public_key_from_line(line):
    """PKey from an OpenSSH public key line ("<type> <base64> [comment]"), optionally with a
    known_hosts host field in front ("[host]:port <type> <base64>")."""
    fields = line.split()
    if len(fields) >= 3 and not fields[1].startswith("AAAA"):
        fields = fields[1:]
    if len(fields) < 2:
        raise ValueError(f"not an OpenSSH public key line: {line!r}")
    try:
        blob = base64.b64decode(fields[1], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"not an OpenSSH public key line: {line!r}") from exc
    return paramiko.PKey.from_type_string(fields[0], blob)


def generate_key(kind="ecdsa"):
    """A new private key: ``"ecdsa"`` (P-256, fast) or ``"rsa"`` (2048 bits)."""
    if kind == "ecdsa":
        return paramiko.ECDSAKey.generate(bits=256)
    if kind == "rsa":
        return paramiko.RSAKey.generate(2048)
    raise ValueError(f"unsupported key kind {kind!r} (ecdsa or rsa)")


class _User:
    def __init__(self, name, spec):
        self.name = name
        self.password = spec.get("password")
        self.public_keys = [
            key if isinstance(key, paramiko.PKey) else public_key_from_line(key)
            for key in spec.get("public_keys") or ()
        ]


class _SSHServer(paramiko.ServerInterface):
    """Authentication and channel policy for one client connection."""

    def __init__(self, owner, peer):
        self.owner = owner
        self.peer = peer
        self.username = None

    def _record(self, username, method, ok):
        self.owner.auth_attempts.append(AuthAttempt(username, method, ok, self.peer))
        if ok:
            self.username = username
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_FAILED

    def get_allowed_auths(self, username):
        return "password,publickey"

    def check_auth_none(self, username):
        return self._record(username, "none", False)

    def check_auth_password(self, username, password):
        user = self.owner.users.get(username)
        ok = bool(
            user
            and user.password is not None
            and hmac.compare_digest(user.password.encode(), (password or "").encode())
        )
        return self._record(username, "password", ok)

    def check_auth_publickey(self, username, key):
        user = self.owner.users.get(username)
        blob = key.asbytes()
        ok = bool(user and any(known.asbytes() == blob for known in user.public_keys))
        return self._record(username, "publickey", ok)

    def check_channel_request(self, kind, chanid):
        if kind == "session":
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED


def _operation(op, nargs=1):
    """Decorator for SFTP interface methods: resolve paths, log the event, run hooks and turn
    exceptions into SFTP status codes."""

    def decorate(method):
        def wrapper(self, *args):
            try:
                paths = [self._virtual(arg) for arg in args[:nargs]]
                event = FileEvent(
                    self.username, op, paths[0], paths[1] if nargs > 1 else _arg_repr(args[nargs:])
                )
                self.owner._fire(event)
                return method(self, *args)
            except PathEscape:
                self.owner.events.append(FileEvent(self.username, "denied", args[0], op))
                return SFTP_PERMISSION_DENIED
            except OSError as exc:
                return paramiko.SFTPServer.convert_errno(exc.errno)
            except Exception:
                return SFTP_FAILURE

        wrapper.__name__ = method.__name__
        return wrapper

    return decorate


def _arg_repr(rest):
    return rest[0] if rest and isinstance(rest[0], int) else None


class _Handle(paramiko.SFTPHandle):
    def __init__(self, iface, vpath, flags, fileobj):
        super().__init__(flags)
        self.iface = iface
        self.vpath = vpath
        self.readfile = fileobj
        self.writefile = fileobj

    def write(self, offset, data):
        try:
            self.iface.owner._fire(
                FileEvent(self.iface.username, "write", self.vpath, (offset, len(data)))
            )
        except Exception:
            return SFTP_FAILURE
        return super().write(offset, data)

    def close(self):
        try:
            self.iface.owner._fire(FileEvent(self.iface.username, "close", self.vpath, None))
        finally:
            super().close()

    def stat(self):
        try:
            return paramiko.SFTPAttributes.from_stat(os.fstat(self.readfile.fileno()))
        except OSError as exc:
            return paramiko.SFTPServer.convert_errno(exc.errno)

    def chattr(self, attr):
        return SFTP_OK


class _ChrootSFTPInterface(paramiko.SFTPServerInterface):
    """SFTP operations on the served directory; paths are virtual, "/" being the root."""

    def __init__(self, server, *args, **kwargs):
        super().__init__(server, *args, **kwargs)
        self.ssh = server
        self.owner = server.owner
        self.root = self.owner.root

    @property
    def username(self):
        return self.ssh.username

    # paths -------------------------------------------------------------------------------
    @staticmethod
    def _virtual(path, clamp=False):
        if isinstance(path, bytes):
            path = path.decode("utf-8")
        parts = []
        for part in path.replace("\\", "/").split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if not parts:
                    if clamp:
                        continue
                    raise PathEscape(path)
                parts.pop()
            else:
                parts.append(part)
        return "/" + "/".join(parts)

    def _inside(self, real):
        return real == self.root or real.startswith(self.root + os.sep)

    def _local(self, path, follow=True):
        """Local path for a client path. ``follow``: the final component may be a symlink and
        must itself resolve inside the root; otherwise only its parent must."""
        vpath = self._virtual(path)
        local = os.path.join(self.root, *vpath.split("/")[1:])
        if local == self.root:
            return local
        if follow:
            if not self._inside(os.path.realpath(local)):
                raise PathEscape(path)
        elif not self._inside(os.path.realpath(os.path.dirname(local))):
            raise PathEscape(path)
        return local

    # operations --------------------------------------------------------------------------
    def canonicalize(self, path):
        return self._virtual(path, clamp=True)

    @_operation("list_folder")
    def list_folder(self, path):
        local = self._local(path)
        entries = []
        for name in sorted(os.listdir(local)):
            attr = paramiko.SFTPAttributes.from_stat(os.lstat(os.path.join(local, name)))
            attr.filename = name
            entries.append(attr)
        return entries

    @_operation("stat")
    def stat(self, path):
        return paramiko.SFTPAttributes.from_stat(os.stat(self._local(path)))

    @_operation("lstat")
    def lstat(self, path):
        return paramiko.SFTPAttributes.from_stat(os.lstat(self._local(path, follow=False)))

    @_operation("open")
    def open(self, path, flags, attr):
        local = self._local(path)
        mode = getattr(attr, "st_mode", None)
        fd = os.open(local, flags | getattr(os, "O_BINARY", 0), 0o666 if mode is None else mode)
        if flags & os.O_WRONLY:
            fstr = "ab" if flags & os.O_APPEND else "wb"
        elif flags & os.O_RDWR:
            fstr = "a+b" if flags & os.O_APPEND else "r+b"
        else:
            fstr = "rb"
        try:
            fileobj = os.fdopen(fd, fstr)
        except OSError:
            os.close(fd)
            raise
        return _Handle(self, self._virtual(path), flags, fileobj)

    @_operation("remove")
    def remove(self, path):
        os.remove(self._local(path, follow=False))
        return SFTP_OK

    @_operation("rename", nargs=2)
    def rename(self, oldpath, newpath):
        """SFTP v3 semantics: fail if the target exists (atomically, via link + unlink)."""
        src = self._local(oldpath, follow=False)
        dst = self._local(newpath, follow=False)
        if os.path.lexists(dst):
            return SFTP_FAILURE
        if os.path.isdir(src) and not os.path.islink(src):
            os.rename(src, dst)
        else:
            os.link(src, dst, follow_symlinks=False)
            os.unlink(src)
        return SFTP_OK

    @_operation("posix_rename", nargs=2)
    def posix_rename(self, oldpath, newpath):
        if not self.owner.posix_rename:
            return SFTP_OP_UNSUPPORTED
        os.replace(self._local(oldpath, follow=False), self._local(newpath, follow=False))
        return SFTP_OK

    @_operation("mkdir")
    def mkdir(self, path, attr):
        os.mkdir(self._local(path, follow=False))
        return SFTP_OK

    @_operation("rmdir")
    def rmdir(self, path):
        local = self._local(path, follow=False)
        if local == self.root:
            return SFTP_PERMISSION_DENIED
        os.rmdir(local)
        return SFTP_OK

    @_operation("chattr")
    def chattr(self, path, attr):
        if not os.path.lexists(self._local(path)):
            return SFTP_NO_SUCH_FILE
        return SFTP_OK

    @_operation("readlink")
    def readlink(self, path):
        local = self._local(path, follow=False)
        target = os.path.realpath(local)
        if not os.path.islink(local):
            return SFTP_FAILURE
        if not self._inside(target):
            return SFTP_PERMISSION_DENIED
        return "/" + os.path.relpath(target, self.root).replace(os.sep, "/")


class SFTPTestServer:
    """SFTP server on ``host`` (127.0.0.1) and a free port, serving ``root_dir``."""

    def __init__(
        self,
        root_dir=None,
        users=None,
        host_key=None,
        key_type="ecdsa",
        host="127.0.0.1",
        port=0,
        posix_rename=True,
    ):
        self._own_root = root_dir is None
        root_dir = tempfile.mkdtemp(prefix="sftp-root-") if root_dir is None else root_dir
        os.makedirs(root_dir, exist_ok=True)
        self.root = os.path.realpath(root_dir)
        if users is None:
            users = {"test": {"password": "test"}}
        self.users = {name: _User(name, spec) for name, spec in users.items()}
        self.host_key = host_key or generate_key(key_type)
        self.host = host
        self.posix_rename = posix_rename
        self.auth_attempts = []
        self.events = []
        self.connection_count = 0
        self._hooks = []
        self._lock = threading.Lock()
        self._transports = []
        self._threads = []
        self._stopping = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, port))
        self._listener.listen(32)
        self._listener.settimeout(0.1)
        self._accept_thread = None

    # lifecycle ---------------------------------------------------------------------------
    def start(self):
        self._accept_thread = threading.Thread(
            target=self._serve, name=f"sftp-server-{self.port}", daemon=True
        )
        self._accept_thread.start()
        return self

    def stop(self):
        self._stopping.set()
        with contextlib.suppress(OSError):  # wakes up accept() at once on Linux
            self._listener.shutdown(socket.SHUT_RDWR)
        if self._accept_thread is not None:
            self._accept_thread.join(5)
        self._listener.close()
        with self._lock:
            transports, threads = list(self._transports), list(self._threads)
        for transport in transports:
            transport.close()
        for thread in threads:
            thread.join(5)
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self):
        return self._listener.getsockname()[1]

    @property
    def host_key_line(self):
        return f"{self.host_key.get_name()} {self.host_key.get_base64()}"

    @property
    def known_hosts_line(self):
        return f"[{self.host}]:{self.port} {self.host_key_line}"

    def add_user(self, username, password=None, public_keys=()):
        self.users[username] = _User(
            username, {"password": password, "public_keys": list(public_keys)}
        )

    def path(self, *parts):
        """Local path of a location under the served root (for tests and simulators)."""
        return os.path.join(self.root, *parts)

    # observation -------------------------------------------------------------------------
    def add_hook(self, hook):
        self._hooks.append(hook)
        return hook

    def remove_hook(self, hook):
        self._hooks.remove(hook)

    def _fire(self, event):
        self.events.append(event)
        for hook in list(self._hooks):
            hook(event)

    def active_connections(self):
        with self._lock:
            return sum(1 for transport in self._transports if transport.is_active())

    # serving -----------------------------------------------------------------------------
    def _serve(self):
        while not self._stopping.is_set():
            try:
                sock, peer = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            sock.settimeout(None)
            thread = threading.Thread(target=self._handle, args=(sock, peer), daemon=True)
            with self._lock:
                self.connection_count += 1
                self._threads = [t for t in self._threads if t.is_alive()] + [thread]
            thread.start()

    def _handle(self, sock, peer):
        transport = paramiko.Transport(sock)
        with self._lock:
            self._transports = [t for t in self._transports if t.is_active()] + [transport]
        if self._stopping.is_set():
            transport.close()
            return
        transport.set_log_channel(SERVER_LOG_CHANNEL)
        transport.add_server_key(self.host_key)
        transport.set_subsystem_handler("sftp", paramiko.SFTPServer, _ChrootSFTPInterface)
        try:
            transport.start_server(server=_SSHServer(self, f"{peer[0]}:{peer[1]}"))
        except (paramiko.SSHException, EOFError, OSError):
            transport.close()
