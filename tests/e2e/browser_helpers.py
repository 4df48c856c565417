"""Helpers for the browser tests: axe-core, screenshots, layout checks. Imported by the test modules."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "artifacts" / "screenshots"


def format_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:5]:
            target = " ".join(str(t) for t in node["target"])
            lines.append(f"    at {target}: {node['html'][:200]}")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            if summary:
                lines.append(f"      {summary[:300]}")
    return "\n".join(lines)


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Run axe-core (served from node_modules, injected by the test) on the page as it is now."""
    # Evaluated through the DevTools protocol, not added as a <script>: the app's Content-Security-Policy
    # (a nonce per response) rightly refuses a script tag the page did not put there itself.
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("async () => JSON.stringify((await axe.run(document)).violations)")
    return list(json.loads(result))


def assert_accessible(page: Any, label: str) -> None:
    violations = axe_violations(page)
    assert not violations, f"axe-core found violations on {label} ({page.url}):\n{format_violations(violations)}"


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    path = SCREENSHOTS / f"{re.sub(r'[^a-z0-9_-]+', '-', name.lower())}-{width}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def no_horizontal_scroll(page: Any) -> bool:
    """The page fits the viewport: tables scroll inside their wrapper, the page itself does not."""
    return bool(page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1"))


def sign_in_page(page: Any, email: str, password: str) -> None:
    """Sign a fixture-made user in through the pages: password, then (staff) the TOTP code."""
    # why: conftest is the one place that knows the fixtures' TOTP secret
    from tests.conftest import unused_totp_code

    page.goto("/auth/sign-in")
    page.get_by_label("Email address").fill(email)
    page.locator("#password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    if "/auth/two-factor" in page.url and "/setup" not in page.url:
        page.get_by_label("Security code").fill(unused_totp_code(email))
        page.get_by_role("button", name="Continue").click()
        page.wait_for_load_state()
