"""SFTP transport against a real SFTP server on loopback (no database needed)."""

import hashlib
import io
import os
import shutil
import socket
import tempfile
import threading
import time
from datetime import UTC, datetime

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from logistics_simulators.sftp_server import SFTPTestServer, generate_key
from logistics_simulators.waiting import wait_until

from odoo.tests import BaseCase, tagged
from odoo.tools import mute_logger

from odoo.addons.logistics_integration_base.transport import sftp

USER, PASSWORD = "wh", "s3cret"
DIRS = ("inbound", "outbound", "archive", "error")


def _private_text(key, password=None):
    buf = io.StringIO()
    key.write_private_key(buf, password=password)
    return buf.getvalue()


def _public_line(key):
    return f"{key.get_name()} {key.get_base64()}"


@tagged("standard", "at_install", "logistics_sftp")  # explicit: also loaded outside odoo.addons
class SFTPCase(BaseCase):
    """A fresh served root (with the four exchange folders) and server per test."""

    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="test-sftp-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.root = os.path.join(self.tmp, "root")
        for name in DIRS:
            os.makedirs(os.path.join(self.root, name))
        self.client_key = generate_key("ecdsa")
        self.server = self.start_server()

    def start_server(self, **options):
        users = {USER: {"password": PASSWORD, "public_keys": [_public_line(self.client_key)]}}
        server = SFTPTestServer(self.root, users=users, **options).start()
        self.addCleanup(server.stop)
        return server

    def settings(self, server=None, **overrides):
        server = server or self.server
        values = {
            "host": server.host,
            "port": server.port,
            "username": USER,
            "password": PASSWORD,
            "host_key": server.host_key_line,
            "timeout": 5.0,
            "inbound_dir": "inbound",
            "outbound_dir": "outbound",
            "archive_dir": "archive",
            "error_dir": "error",
        }
        values.update(overrides)
        return sftp.SFTPSettings(**values)

    def connect(self, **overrides):
        conn = sftp.SFTPConnection(self.settings(**overrides)).open()
        self.addCleanup(conn.close)
        return conn

    def local(self, *parts):
        return os.path.join(self.root, *parts)

    def write_local(self, relpath, data=b"x", age=None):
        path = self.local(relpath)
        with open(path, "wb") as fh:
            fh.write(data)
        if age is not None:
            stamp = time.time() - age
            os.utime(path, (stamp, stamp))
        return path

    def methods_tried(self):
        return [(a.username, a.method, a.ok) for a in self.server.auth_attempts]


class TestSFTPConnect(SFTPCase):
    def test_password_login_and_test_summary(self):
        self.write_local("inbound/a.csv", age=10)
        self.write_local("inbound/b.csv.part")
        summary = sftp.SFTPConnection(self.settings()).test()
        self.assertIn(f"Connected to 127.0.0.1:{self.server.port} as {USER}", summary)
        self.assertIn(sftp.fingerprint(self.server.host_key), summary)
        self.assertIn("1 file(s) ready, 1 other entry", summary)
        self.assertEqual(self.methods_tried(), [(USER, "password", True)])

    def test_ecdsa_key_login(self):
        conn = self.connect(password=None, private_key=_private_text(self.client_key))
        self.assertTrue(conn.transport.is_authenticated())
        self.assertEqual(conn.list_ready(), [])
        self.assertEqual({a.method for a in self.server.auth_attempts}, {"publickey"})
        self.assertTrue(all(a.ok for a in self.server.auth_attempts))

    def test_ed25519_openssh_key_with_passphrase(self):
        key = ed25519.Ed25519PrivateKey.generate()
        text = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.BestAvailableEncryption(b"open sesame"),
        ).decode()
        public = key.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
        self.server.add_user("keyonly", public_keys=[public.decode() + " ops@example"])
        conn = self.connect(
            username="keyonly",
            password=None,
            private_key=text,
            private_key_passphrase="open sesame",
        )
        self.assertTrue(conn.transport.is_authenticated())
        with self.assertRaisesRegex(sftp.SFTPConfigError, "passphrase is missing"):
            self.connect(username="keyonly", password=None, private_key=text)
        with self.assertRaisesRegex(sftp.SFTPConfigError, "wrong passphrase"):
            self.connect(
                username="keyonly", password=None, private_key=text, private_key_passphrase="no"
            )

    def test_rsa_host_key_given_as_known_hosts_line(self):
        server = self.start_server(key_type="rsa")
        self.assertTrue(server.host_key_line.startswith("ssh-rsa AAAA"))
        conn = sftp.SFTPConnection(self.settings(server, host_key=server.known_hosts_line))
        with conn:
            self.assertEqual(conn.server_key.asbytes(), server.host_key.asbytes())

    def test_several_configured_keys_pick_the_servers_type(self):
        other = generate_key("ecdsa")
        host_key = f"# ssh-keyscan output\n{_public_line(other)}\n{self.server.known_hosts_line}\n"
        with sftp.SFTPConnection(self.settings(host_key=host_key)) as conn:
            self.assertEqual(conn.server_key.asbytes(), self.server.host_key.asbytes())

    def test_wrong_password(self):
        with self.assertRaises(sftp.SFTPAuthError) as caught:
            self.connect(password="wrong")
        message = str(caught.exception)
        self.assertIn(f"127.0.0.1:{self.server.port}", message)
        self.assertIn(repr(USER), message)
        self.assertNotIn("wrong", message)
        self.assertFalse(caught.exception.transient)
        self.assertEqual(self.methods_tried(), [(USER, "password", False)])

    def test_unknown_client_key(self):
        stranger = generate_key("ecdsa")
        with self.assertRaises(sftp.SFTPAuthError):
            self.connect(password=None, private_key=_private_text(stranger))

    def test_connection_refused_on_closed_port(self):
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        started = time.monotonic()
        with self.assertRaises(sftp.SFTPConnectionError) as caught:
            self.connect(port=port)
        self.assertLess(time.monotonic() - started, 2)
        self.assertIn(f"127.0.0.1:{port}", str(caught.exception))
        self.assertIn("refused", str(caught.exception))
        self.assertTrue(caught.exception.transient)

    def test_host_key_mismatch_is_rejected_before_authentication(self):
        impostor = self.start_server()  # same files and users, another host key
        with self.assertRaises(sftp.HostKeyRejected) as caught:
            self.connect(port=impostor.port)  # configured key: self.server's
        error = caught.exception
        message = str(error)
        self.assertIn(f"127.0.0.1:{impostor.port}", message)
        self.assertIn(sftp.fingerprint(impostor.host_key), message)  # offered
        self.assertIn(sftp.fingerprint(self.server.host_key), message)  # expected
        self.assertEqual(error.offered_key, impostor.host_key_line)
        self.assertEqual(error.expected_fingerprints, [sftp.fingerprint(self.server.host_key)])
        self.assertFalse(error.transient)
        # The impostor saw the TCP connection and the key exchange, never a login attempt.
        wait_until(
            lambda: not impostor.active_connections(),
            what="the impostor to see the connection closed",
        )
        self.assertEqual(impostor.connection_count, 1)
        self.assertEqual(impostor.auth_attempts, [])
        self.assertEqual(impostor.events, [])

    def test_host_key_of_another_type_is_rejected(self):
        configured = ed25519.Ed25519PrivateKey.generate().public_key()
        line = configured.public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        ).decode()
        with self.assertRaisesRegex(sftp.HostKeyRejected, "offered ecdsa-sha2-nistp256 SHA256:"):
            self.connect(host_key=line)
        self.assertEqual(self.server.auth_attempts, [])

    def test_missing_host_key_reports_the_offered_one(self):
        with self.assertRaisesRegex(sftp.HostKeyRejected, "no host key configured") as caught:
            self.connect(host_key="")
        self.assertEqual(caught.exception.offered_key, self.server.host_key_line)
        self.assertEqual(self.server.auth_attempts, [])

    def test_invalid_settings(self):
        with self.assertRaisesRegex(sftp.SFTPConfigError, "not a valid OpenSSH public key"):
            self.settings(host_key="ssh-ed25519 not-base64!")
        with self.assertRaisesRegex(sftp.SFTPConfigError, "password or a private key"):
            self.settings(password=None)
        with self.assertRaisesRegex(sftp.SFTPConfigError, "could not be read"):
            self.connect(private_key="-----BEGIN RSA PRIVATE KEY-----\ngarbage\n")
        self.assertNotIn(PASSWORD, repr(self.settings()))

    @mute_logger("paramiko.transport")  # "Socket exception: Connection reset by peer"
    def test_server_gone_mid_session_is_transient(self):
        conn = self.connect()
        self.server.stop()
        with self.assertRaises(sftp.SFTPConnectionError) as caught:
            conn.list_ready()
        self.assertTrue(caught.exception.transient)

    def test_not_connected(self):
        with self.assertRaisesRegex(sftp.SFTPError, "not connected"):
            sftp.SFTPConnection(self.settings()).list_ready()


class TestSFTPFiles(SFTPCase):
    def outbound_snapshots(self, server):
        """Server-side listing of outbound/ taken before every write and rename."""
        snapshots = []

        def hook(event):
            if event.op in ("write", "rename", "posix_rename", "remove"):
                snapshots.append((event.op, sorted(os.listdir(self.local("outbound")))))

        server.add_hook(hook)
        return snapshots

    def test_put_atomic_never_exposes_a_partial_file(self):
        data = os.urandom(300_000)  # ten SFTP write requests
        snapshots = self.outbound_snapshots(self.server)
        path = self.connect().put_atomic("ORD-1.xml", data)
        self.assertEqual(path, "outbound/ORD-1.xml")
        writes = [listing for op, listing in snapshots if op == "write"]
        self.assertGreaterEqual(len(writes), 9)
        # From the first write to the rename, only the temporary name exists.
        self.assertTrue(all(listing == ["ORD-1.xml.part"] for listing in writes), writes)
        self.assertEqual(snapshots[-1], ("posix_rename", ["ORD-1.xml.part"]))
        self.assertEqual(os.listdir(self.local("outbound")), ["ORD-1.xml"])
        with open(self.local("outbound", "ORD-1.xml"), "rb") as fh:
            self.assertEqual(fh.read(), data)

    def test_put_atomic_replaces_an_existing_file(self):
        self.write_local("outbound/stock.csv", b"old")
        self.connect().put_atomic("stock.csv", b"new")
        with open(self.local("outbound", "stock.csv"), "rb") as fh:
            self.assertEqual(fh.read(), b"new")

    def test_put_atomic_without_posix_rename(self):
        server = self.start_server(posix_rename=False)
        self.write_local("outbound/stock.csv", b"old")
        seen = []  # (operation, content under the final name) before each write/rename

        def hook(event):
            if event.op in ("write", "rename", "posix_rename", "remove"):
                try:
                    with open(self.local("outbound", "stock.csv"), "rb") as fh:
                        seen.append((event.op, fh.read()))
                except FileNotFoundError:
                    seen.append((event.op, None))

        server.add_hook(hook)
        new = b"new" * 50_000
        conn = sftp.SFTPConnection(self.settings(server))
        with conn:
            conn.put_atomic("stock.csv", new)
            conn.put_atomic("stock2.csv", b"second")
        ops = [event.op for event in server.events if "rename" in event.op]
        # posix-rename is tried once, then plain rename is used.
        self.assertEqual(ops, ["posix_rename", "rename", "rename"])
        # The final name holds the old file, then nothing, then the complete new one.
        self.assertEqual({content for op, content in seen if op == "write"}, {b"old", new})
        first_upload = [item for item in seen if item[1] != new]
        self.assertEqual(
            first_upload[-3:], [("posix_rename", b"old"), ("remove", b"old"), ("rename", None)]
        )
        with open(self.local("outbound", "stock.csv"), "rb") as fh:
            self.assertEqual(fh.read(), new)
        self.assertEqual(sorted(os.listdir(self.local("outbound"))), ["stock.csv", "stock2.csv"])

    def test_failed_upload_leaves_nothing_behind(self):
        writes = []

        def disk_full(event):
            if event.op == "write":
                writes.append(event)
                if len(writes) == 3:
                    raise OSError("disk full")

        self.server.add_hook(disk_full)
        conn = self.connect()
        with self.assertRaises(sftp.SFTPError) as caught:
            conn.put_atomic("ORD-2.xml", os.urandom(200_000))
        self.assertIn("outbound/ORD-2.xml", str(caught.exception))
        self.assertEqual(os.listdir(self.local("outbound")), [])
        self.server.remove_hook(disk_full)
        conn.put_atomic("ORD-2.xml", b"<ok/>")  # the session is still usable
        self.assertEqual(os.listdir(self.local("outbound")), ["ORD-2.xml"])

    def test_put_atomic_refuses_paths(self):
        conn = self.connect()
        for name in ("../escape.xml", "sub/file.xml", "..", "", "a\\b.xml"):
            with self.assertRaisesRegex(sftp.SFTPConfigError, "plain file name"):
                conn.put_atomic(name, b"x")
        self.assertEqual([e for e in self.server.events if e.op == "open"], [])

    def test_list_ready_skips_incomplete_files(self):
        self.write_local("inbound/b.csv", age=300)
        self.write_local("inbound/a.csv", age=300)
        self.write_local("inbound/c.xml", b"older", age=600)
        self.write_local("inbound/d.csv.part", age=600)
        self.write_local("inbound/e.csv.tmp", age=600)
        self.write_local("inbound/.hidden.csv", age=600)
        self.write_local("inbound/fresh.csv")
        os.makedirs(self.local("inbound", "sub.csv"))
        # A partner upload in progress, without temporary name: only its age betrays it.
        writer = self.connect()
        half = writer.sftp.open("inbound/half.csv", "wb")
        half.write(b"id;qty\n1;")
        half.flush()

        conn = self.connect(min_file_age=60)
        ready = conn.list_ready()
        self.assertEqual([f.name for f in ready], ["c.xml", "a.csv", "b.csv"])
        self.assertEqual(ready[0].size, 5)
        self.assertAlmostEqual(ready[0].mtime, time.time() - 600, delta=5)
        self.assertEqual([f.name for f in conn.list_ready("*.csv")], ["a.csv", "b.csv"])

        half.close()
        eager = self.connect(min_file_age=0)
        self.assertEqual(
            [f.name for f in eager.list_ready("*.csv")], ["a.csv", "b.csv", "fresh.csv", "half.csv"]
        )

    def test_read_and_checksum(self):
        payload = os.urandom(100_000)
        self.write_local("inbound/big.bin", payload)
        conn = self.connect()
        data = conn.read("big.bin")
        self.assertEqual(data, payload)
        self.assertEqual(sftp.file_checksum(data), hashlib.sha256(payload).hexdigest())
        with self.assertRaises(sftp.SFTPFileNotFound) as caught:
            conn.read("missing.csv")
        self.assertIn("inbound/missing.csv", str(caught.exception))

    def test_archive_and_error_moves_with_name_clash(self):
        conn = self.connect()
        when = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
        targets = []
        for content in (b"one", b"two", b"three"):
            self.write_local("inbound/a.csv", content)
            targets.append(conn.archive("a.csv", processed_at=when))
        self.assertEqual(
            targets,
            [
                "archive/a.csv",
                "archive/a.20250102T030405Z.csv",
                "archive/a.20250102T030405Z-2.csv",
            ],
        )
        for target, content in zip(targets, (b"one", b"two", b"three"), strict=True):
            with open(self.local(target), "rb") as fh:
                self.assertEqual(fh.read(), content)

        self.write_local("error/README", b"taken")
        self.write_local("inbound/README", b"bad")
        self.assertEqual(
            conn.move_to_error("README", processed_at=when), "error/README.20250102T030405Z"
        )
        self.write_local("inbound/bad.xml", b"<bad")
        self.assertEqual(conn.move_to_error("bad.xml"), "error/bad.xml")
        self.assertEqual(os.listdir(self.local("inbound")), [])
        with self.assertRaises(sftp.SFTPFileNotFound):
            conn.archive("bad.xml")

    def test_ensure_dirs(self):
        shutil.rmtree(self.root)
        os.makedirs(self.root)
        conn = self.connect(
            inbound_dir="/partner/in", outbound_dir="partner/out", archive_dir="/partner/in/done"
        )
        created = conn.ensure_dirs()
        self.assertEqual(
            created, ["/partner", "/partner/in", "partner/out", "/partner/in/done", "error"]
        )
        self.assertTrue(os.path.isdir(self.local("partner", "in", "done")))
        self.assertEqual(conn.ensure_dirs(), [])
        self.write_local("blocked", b"")
        with self.assertRaisesRegex(sftp.SFTPError, "not a folder"):
            self.connect(error_dir="blocked/error").ensure_dirs()

    def test_path_traversal_is_refused_by_the_server(self):
        outside = os.path.join(self.tmp, "outside")
        os.makedirs(outside)
        self.write_local("../outside/secret.txt", b"secret")
        os.symlink(outside, self.local("inbound", "link"))
        raw = self.connect().sftp  # plain paramiko client: no client-side checks
        attempts = [
            lambda: raw.open("../escape.txt", "wb"),
            lambda: raw.open("/../outside/secret.txt", "rb"),
            lambda: raw.open("inbound/../../outside/secret.txt", "rb"),
            lambda: raw.listdir("/.."),
            lambda: raw.stat("inbound/link/secret.txt"),
            lambda: raw.open("inbound/link/new.txt", "wb"),
            lambda: raw.listdir("inbound/link"),
            lambda: raw.rename("inbound/link", "../stolen"),
            lambda: raw.mkdir("../newdir"),
        ]
        for attempt in attempts:
            with self.assertRaises(PermissionError):
                attempt()
        self.assertEqual(sorted(os.listdir(self.tmp)), ["outside", "root"])
        self.assertEqual(os.listdir(outside), ["secret.txt"])
        self.assertEqual(raw.normalize("/../.."), "/")
        self.assertGreaterEqual(len([e for e in self.server.events if e.op == "denied"]), 5)
        # The client refuses such names before asking the server.
        with self.assertRaises(sftp.SFTPConfigError):
            self.connect().read("../outside/secret.txt")

    def test_concurrent_connections(self):
        errors = []

        def worker(n):
            try:
                with sftp.SFTPConnection(self.settings()) as conn:
                    for i in range(3):
                        conn.put_atomic(f"w{n}-{i}.csv", f"{n};{i}".encode() * 1000)
            except Exception as exc:
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(15)
        self.assertEqual(errors, [])
        self.assertEqual(len(os.listdir(self.local("outbound"))), 12)
        self.assertEqual(self.server.connection_count, 4)

    def test_move_to_a_missing_folder(self):
        self.write_local("inbound/x.csv")
        conn = self.connect(archive_dir="nowhere")
        with self.assertRaisesRegex(sftp.SFTPFileNotFound, "folder nowhere does not exist"):
            conn.archive("x.csv")
        self.assertEqual(os.listdir(self.local("inbound")), ["x.csv"])
