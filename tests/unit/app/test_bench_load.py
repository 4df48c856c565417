"""The benchmarks' load generator (scripts/bench_web.py) sends the cookie a browser would: the one the server set
last. With the sign-in cookie sent for ever, every request after the app's first minute rewrote the session (its
idle clock), a cost no browser's requests carry. Its report gives each round's ratio to the ceiling beside the
whole run's."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "scripts"))

import bench_web as bw  # noqa: E402 - importable once the path is set


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    received: list[str]


class _SetsCookieOnce(BaseHTTPRequestHandler):
    """Sets `session=second` (and an unrelated cookie) in answer to `session=first`; otherwise sets nothing."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        cookie = self.headers.get("Cookie", "")
        self.server.received.append(cookie)  # type: ignore[attr-defined]
        self.send_response(200)
        if cookie == "session=first":
            self.send_header("Set-Cookie", "other=x; Path=/")
            self.send_header("Set-Cookie", "session=second; HttpOnly; Path=/")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass


@pytest.fixture
def server() -> Iterator[_Server]:
    httpd = _Server(("127.0.0.1", 0), _SetsCookieOnce)
    httpd.received = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def test_the_load_generator_sends_the_session_cookie_the_server_set_last(server: _Server) -> None:
    target = bw.Target("page", server.server_address[1], "GET", "/", {"Cookie": "session=first"})
    result = bw.load(target, concurrency=2, seconds=0.3, max_requests=40, warmup=0.0)
    assert result.count > 2 and result.errors == 0
    assert target.headers["Cookie"] == "session=second"  # not the unrelated cookie set beside it
    # At most one request per connection went out before the new cookie came back; every later one carried it.
    assert server.received.count("session=first") <= 2
    assert server.received[-1] == "session=second"
    assert set(server.received) == {"session=first", "session=second"}


def test_a_target_without_a_cookie_takes_none(server: _Server) -> None:
    target = bw.Target("ceiling", server.server_address[1], "GET", "/")
    target.keep_cookie(["session=second; Path=/"])
    assert "Cookie" not in target.headers


def test_only_the_cookie_of_the_same_name_is_replaced_and_a_malformed_one_is_ignored() -> None:
    target = bw.Target("page", 1, "GET", "/", {"Cookie": "theme=dark; session=first"})
    target.keep_cookie(["", "garbage", ";", "sessionx=other", " session=second ; HttpOnly; Path=/"])
    assert target.headers["Cookie"] == "theme=dark; session=second"
    unchanged = target.headers
    target.keep_cookie(["session=second; Path=/"])  # the same value again: nothing to swap
    assert target.headers is unchanged


def test_the_sign_in_helpers_read_a_cookie_without_its_attributes() -> None:
    assert bw.cookie_pair("session=abc; Expires=Thu, 01 Jan 2099 00:00:00 GMT; HttpOnly") == "session=abc"
    assert bw.cookie_pair("") == ""


def test_the_report_gives_the_ratio_to_the_ceiling_of_each_round_beside_the_whole(server: _Server) -> None:
    # One load is one round: its requests a second, beside the count and time that make the whole.
    part = bw.load(bw.Target("page", server.server_address[1], "GET", "/"), 2, 0.2, 1000, 0.0)
    assert part.round_rps == [pytest.approx(part.rps)]

    def round_of(name: str, count: int) -> bw.Result:
        return bw.Result(name, count, 0, 1.0, [5.0] * count, {200: count}, {"app": count / 1000}, [float(count)])

    ceiling = round_of("ceiling", 1000).merge(round_of("ceiling", 500))
    page = round_of("page", 300).merge(round_of("page", 200))
    entry = bw.result_entry(page, ceiling)
    assert entry["ratio_to_ceiling"] == pytest.approx(500 / 1500, abs=1e-3)
    assert entry["ratio_by_round"] == [0.3, 0.4]  # in order: the machine's speed moved between the rounds
    assert entry["cpu_ms_per_request"] == {"app": 1.0}
    row = bw.table_row("page", entry)
    assert row.rstrip().endswith("0.30 0.40") and "0.33" in row

    # A round in which the ceiling answered nothing has no ratio ("-"), not a division by zero.
    stalled = round_of("ceiling", 1000).merge(round_of("ceiling", 0))
    entry = bw.result_entry(page, stalled)
    assert entry["ratio_by_round"] == [0.3, None]
    assert bw.table_row("page", entry).rstrip().endswith("0.30 -")
    # Rounds that do not pair up are a mistake in the run, said at once rather than compared wrongly.
    with pytest.raises(ValueError):
        bw.result_entry(page, round_of("ceiling", 1000))
