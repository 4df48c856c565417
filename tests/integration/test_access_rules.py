"""Every route declares exactly one access rule, and the rule is enforced."""

from __future__ import annotations

from typing import Any

from can_crm.access import ACCESS_ATTR


def _rules_of(app: Any, endpoint: str) -> list[Any]:
    view = app.view_functions[endpoint]
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        return [getattr(getattr(view_class, m.lower(), None), ACCESS_ATTR, None) for m in view_class.methods]
    return [getattr(view, ACCESS_ATTR, None)]


def test_every_route_has_an_access_rule(app: Any) -> None:
    missing = []
    for rule in app.url_map.iter_rules():
        if any(r is None for r in _rules_of(app, rule.endpoint)):
            missing.append(f"{rule.rule} -> {rule.endpoint}")
    assert not missing, "routes without an access rule:\n" + "\n".join(sorted(missing))


def test_signed_out_users_reach_only_public_routes(app: Any, client: Any) -> None:
    """Every non-public GET route sends an anonymous visitor to sign in (pages) or answers 401 (API)."""
    leaks = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or any(r == "public" for r in _rules_of(app, rule.endpoint)):
            continue
        url = rule.rule
        for arg in rule.arguments:
            url = url.replace(f"<{arg}>", "1").replace(f"<int:{arg}>", "1").replace(f"<path:{arg}>", "x")
            url = url.replace(f"<string:{arg}>", "CAN-AAAA-AAAA")
        response = client.get(url)
        expected = 401 if url.startswith("/api/") else 302
        if response.status_code != expected:
            leaks.append(f"{url}: {response.status_code}")
    assert not leaks, "\n".join(leaks)


def test_ids_past_the_database_range_are_not_found(app: Any, client: Any, make_user: Any, login: Any) -> None:
    login(make_user("coordinator"))
    assert client.get("/coordinator/volunteers/99999999999999999999").status_code == 404


def test_a_reference_with_a_control_character_is_not_found(
    app: Any, client: Any, make_user: Any, login: Any, make_request: Any
) -> None:
    """PostgreSQL refuses a NUL in text: a reference carrying one answered 500 on the request page. Every route taking
    a name in its path (a reference, a token, a key) finds nothing for it instead, whatever the method."""
    login(make_user("coordinator"))
    reference = make_request().reference
    assert client.get(f"/coordinator/requests/{reference}").status_code == 200
    for bad in ("%00", f"{reference}%00", "a%01b", "%7F", f"{reference[:4]}%0A{reference[4:]}"):
        for path in (f"/coordinator/requests/{bad}", f"/partner/requests/{bad}", f"/volunteer/offers/{bad}/accept"):
            assert client.get(path).status_code in (404, 405), path
        assert client.post(f"/coordinator/requests/{bad}/triage", data={"urgency": "3"}).status_code == 404
        response = client.get(f"/api/v1/requests/{bad}")
        assert response.status_code == 404 and response.is_json


def test_a_bearer_call_is_the_token_user_whatever_cookie_comes_with_it(client: Any, make_user: Any, login: Any) -> None:
    from can_crm import unit_of_work
    from can_crm.services.accounts import users

    login(make_user("coordinator"))
    partner = make_user("partner")
    _, token = users.issue_token(partner)
    unit_of_work.commit()
    assert client.get("/api/v1/residents").status_code == 200
    response = client.get("/api/v1/residents", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert client.get("/api/v1/residents", headers={"Authorization": "Bearer can_nonsense"}).status_code == 401


def test_control_characters_in_queue_search_are_refused(client: Any, make_user: Any, login: Any) -> None:
    login(make_user("coordinator"))
    assert client.get("/coordinator/?q=abc%00def").status_code == 400
