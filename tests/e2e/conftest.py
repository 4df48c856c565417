"""Browser fixtures: the real app served on 127.0.0.1 (CSRF on), driven by the system Chromium.

One Chromium per test process; every test in this folder is in the xdist group "browser" so that
only one runs at a time. Each test starts from an empty database (the `db` fixture truncates after).
Every request a page makes is recorded and must go to the live server: no CDN, no tracking.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORTS = {
    "360": {"width": 360, "height": 740},
    "390": {"width": 390, "height": 844},
    "1280": {"width": 1280, "height": 900},
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Belt and braces: whatever a test file declares, browser tests share one xdist group and the e2e mark.
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.xdist_group("browser"))


@pytest.fixture(scope="session")
def live_app(app: Any, database_url: str, postcode_index: Path) -> Any:
    """A second app on the same test database as `app` (already migrated), with CSRF enabled."""
    from can_crm import create_app

    return create_app(
        {
            "CAN_ENV": "test",
            "TESTING": True,
            "JOB_SWEEP_SECONDS": 0,
            "ROUNDS_TIME_LIMIT_SECONDS": 1,  # the planner searches until its limit: keep tests quick
            "SQLALCHEMY_DATABASE_URI": database_url.replace("postgresql://", "postgresql+psycopg://"),
            "SQLALCHEMY_ENGINE_OPTIONS": {},  # as in production: the poll at checkout checks each connection
            "WTF_CSRF_ENABLED": True,
            "REDIS_URL": None,
            "POSTCODE_INDEX": str(postcode_index),
        }
    )


@pytest.fixture(scope="session")
def live_server(live_app: Any) -> Iterator[str]:
    """The app on 127.0.0.1 and a free port, in a thread. Yields the base URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Recorder:
    """Every URL the browser asked for, so a test can prove nothing left the machine,
    and every asset (CSS, script, font, image) that failed to load."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.urls: list[str] = []
        self.broken_assets: list[str] = []

    def __call__(self, request: Any) -> None:
        self.urls.append(request.url)

    def on_response(self, response: Any) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            self.broken_assets.append(f"{response.status} {response.url}")

    def foreign(self) -> list[str]:
        own = self.base_url + "/"
        return [u for u in self.urls if not (u == self.base_url or u.startswith(own))]


@pytest.fixture
def open_page(browser: Any, live_server: str, db: Any) -> Iterator[Callable[..., Any]]:
    """Open a page in a fresh browser context: `open_page(viewport="360", javascript=True)`.

    At teardown, fails if any page asked for a URL that is not on the live server."""
    contexts: list[Any] = []
    recorders: list[Recorder] = []

    def make(viewport: str = "1280", javascript: bool = True) -> Any:
        context = browser.new_context(
            base_url=live_server, viewport=VIEWPORTS[viewport], java_script_enabled=javascript, locale="en-GB"
        )
        context.set_default_timeout(15_000)
        recorder = Recorder(live_server)
        context.on("request", recorder)
        context.on("response", recorder.on_response)
        contexts.append(context)
        recorders.append(recorder)
        page = context.new_page()
        page.recorder = recorder  # type: ignore[attr-defined]
        return page

    yield make
    foreign = [u for r in recorders for u in r.foreign()]
    broken = sorted({u for r in recorders for u in r.broken_assets})
    for context in contexts:
        context.close()
    assert not foreign, "the browser asked for URLs off this machine:\n" + "\n".join(foreign)
    assert not broken, "assets failed to load:\n" + "\n".join(broken)


@pytest.fixture(autouse=True)
def live_jobs_finish(db: Any, live_app: Any) -> Iterator[None]:
    """The live server's in-process jobs (a new request's messages, a planning run) end before `db` empties the
    tables: set up after `db`, so torn down before it. A job still writing during the TRUNCATE deadlocked it."""
    yield
    live_app.extensions["can_queue"].wait()
