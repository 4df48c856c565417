"""A local HTTP server standing in for GOV.UK Notify: it checks what the real client sends (path, a JWT
signed with the key, the JSON payload) and remembers each accepted message. Shared by several tests."""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import jwt

SERVICE_ID = "26785a09-ab16-4eb0-8407-a37497a57506"
SECRET = "3d844edf-8d35-48ac-975b-e847b4f122b0"
API_KEY = f"can_test-{SERVICE_ID}-{SECRET}"


@dataclass
class FakeNotify:
    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    fail_with: int | None = None  # answer every send with this status
    delay_seconds: float = 0.0  # accept the message, then wait this long before answering
    lock: threading.Lock = field(default_factory=threading.Lock)


def _handler(state: FakeNotify) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _authorised(self) -> bool:
            header = self.headers.get("Authorization", "")
            try:
                claims = jwt.decode(header.removeprefix("Bearer "), SECRET, algorithms=["HS256"])
            except jwt.PyJWTError as exc:
                state.rejected.append(f"bad token: {exc}")
                return False
            if claims.get("iss") != SERVICE_ID or abs(time.time() - int(claims.get("iat", 0))) > 30:
                state.rejected.append(f"bad claims: {claims}")
                return False
            return True

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if not self._authorised():
                return self._answer(403, {"errors": [{"error": "AuthError"}], "status_code": 403})
            parsed = urlparse(self.path)
            if parsed.path != "/v2/notifications":
                return self._answer(404, {"errors": [{"error": "NotFound"}], "status_code": 404})
            reference = parse_qs(parsed.query).get("reference", [None])[0]
            with state.lock:
                found = [m for m in state.received if m["payload"].get("reference") == reference]
            return self._answer(
                200, {"notifications": [{"id": m["id"], "reference": reference} for m in found], "links": {}}
            )

        def do_POST(self) -> None:  # noqa: N802
            if not self._authorised():
                return self._answer(403, {"errors": [{"error": "AuthError"}], "status_code": 403})
            kind = self.path.rsplit("/", 1)[-1]
            if self.path not in ("/v2/notifications/sms", "/v2/notifications/email", "/v2/notifications/letter"):
                return self._answer(404, {"errors": [{"error": "NotFound"}], "status_code": 404})
            payload = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            if state.fail_with:
                return self._answer(state.fail_with, {"errors": [{"error": "Failed"}], "status_code": state.fail_with})
            message = {"id": str(uuid.uuid4()), "path": self.path, "kind": kind, "payload": payload}
            with state.lock:
                state.received.append(message)
            if state.delay_seconds:
                time.sleep(state.delay_seconds)
            self._answer(201, {"id": message["id"], "reference": payload.get("reference"), "content": {}})

    return Handler


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that stopped waiting (the delayed answer above, a killed worker) is expected. The standard
        # handler would print a traceback to whatever sys.stderr is at that moment, possibly a later test's
        # captured output, long after this server's test ended.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


@contextmanager
def fake_notify() -> Iterator[FakeNotify]:
    state = FakeNotify()
    server = _Server(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
