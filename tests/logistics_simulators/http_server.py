"""A real HTTP server on loopback whose answers can be cued, for outbound tests.

    with CuedHTTPServer() as srv:
        srv.cue(503, 503, 200)                      # the next three answers
        srv.cue((429, {"Retry-After": "7"}))         # status with headers
        url = srv.url("/events")
        ...
        srv.requests   # every request received: method, path, headers, body

Answers not cued are ``default_status`` (200) with a small JSON body. A cue may also be
``"hang"``: the server holds the connection longer than any sensible client timeout.
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class RecordedRequest:
    __slots__ = ("method", "path", "headers", "body", "received_at")

    def __init__(self, method, path, headers, body):
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.received_at = time.time()

    def json(self):
        return json.loads(self.body.decode())

    def __repr__(self):
        return f"<{self.method} {self.path} {len(self.body)}B>"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep test output clean
        pass

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        server = self.server
        req = RecordedRequest(self.command, self.path, dict(self.headers.items()), body)
        answer = server.owner._next_answer(req)
        if answer == "hang":
            time.sleep(server.owner.hang_seconds)
            self.close_connection = True
            return
        status, headers, payload = answer
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        if not any(key.lower() == "content-type" for key in headers or {}):
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


class CuedHTTPServer:
    """HTTP server on 127.0.0.1 (random free port) answering from a queue of cues."""

    def __init__(self, default_status=200, handler=None, hang_seconds=5.0, port=0):
        self.default_status = default_status
        self.handler = handler  # optional callable(RecordedRequest) -> (status, headers, body)
        self.hang_seconds = hang_seconds
        self.requests = []
        self._cues = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.owner = self
        self._thread = None

    # lifecycle ---------------------------------------------------------------------------
    def start(self):
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self):
        return self._httpd.server_address[1]

    def url(self, path="/"):
        return f"http://127.0.0.1:{self.port}{path}"

    # cues ----------------------------------------------------------------------------------
    def cue(self, *answers):
        """Queue answers: an int status, ``(status, headers)``, ``(status, headers, body)``
        or ``"hang"``."""
        with self._lock:
            for answer in answers:
                if answer == "hang":
                    self._cues.append("hang")
                    continue
                if isinstance(answer, int):
                    answer = (answer,)
                status = answer[0]
                headers = answer[1] if len(answer) > 1 else {}
                body = answer[2] if len(answer) > 2 else {"status": status}
                self._cues.append((status, headers, body))

    def reset(self):
        with self._lock:
            self._cues.clear()
            self.requests.clear()

    def _next_answer(self, req):
        with self._lock:
            self.requests.append(req)
            if self._cues:
                return self._cues.pop(0)
        if self.handler:
            return self.handler(req)
        return (self.default_status, {}, {"status": self.default_status, "path": req.path})
