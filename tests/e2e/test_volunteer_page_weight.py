"""Page weight of "My tasks" on a phone: under 100 KB transferred on the first load (GOV.UK Frontend included,
assets compressed) and under 10 KB on a later load (assets from the browser's cache)."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]

PASSWORD = "correct horse battery staple"


def test_task_list_is_light_on_first_and_later_loads(
    open_page: Any, make_user: Any, make_volunteer: Any, make_request: Any
) -> None:
    from can_crm import unit_of_work
    from can_crm.services.requests import operations as requests
    from can_crm.services.requests.events import Actor

    user = make_user("volunteer")
    volunteer = make_volunteer()
    volunteer.user_id = user.id
    unit_of_work.commit()
    for _ in range(2):
        request = make_request()
        requests.triage(request, {}, Actor(role="coordinator"))
        requests.assign_volunteer(request, volunteer.id, Actor(role="coordinator"))
        request.status = "accepted"  # two accepted tasks, as a volunteer typically has
    unit_of_work.commit()

    page = open_page("390")
    page.goto("/auth/sign-in")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()

    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.clearBrowserCache")
    # Count what crosses the network: with the service worker in the way, its fetches would not be seen here.
    cdp.send("Network.setBypassServiceWorker", {"bypass": True})
    transferred: dict[str, int] = {}
    urls: dict[str, str] = {}
    cdp.on("Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))
    cdp.on("Network.loadingFinished", lambda e: transferred.__setitem__(e["requestId"], int(e["encodedDataLength"])))

    page.goto("/volunteer/tasks", wait_until="networkidle")
    first = sum(transferred.values())
    transferred.clear()
    page.goto("/volunteer/tasks", wait_until="networkidle")
    later = sum(transferred.values())
    for request_id, size in transferred.items():
        print(f"  later: {size:>7} {urls.get(request_id, '?')}")
    print(
        f"\nMy tasks transferred: first load {first} bytes ({first / 1024:.1f} KB), later load {later} bytes "
        f"({later / 1024:.1f} KB)"
    )
    assert first < 100 * 1024
    assert later < 10 * 1024
