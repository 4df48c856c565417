"""The OpenAPI 3 document at /api/v1/openapi.json is generated from the code and covers every API route."""

from __future__ import annotations

import re
from typing import Any

import pytest

from can_crm.access import ACCESS_ATTR

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def spec(client: Any) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.is_json
    return response.get_json()


def api_rules(app: Any) -> list[Any]:
    return [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1")]


def openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def test_document_is_public_and_openapi_3(spec: dict[str, Any]) -> None:
    assert re.match(r"^3\.\d+\.\d+$", spec["openapi"])
    assert spec["info"]["title"] and spec["info"]["version"]
    assert "X-CSRFToken" in spec["info"]["description"]
    assert set(spec) <= {"openapi", "info", "paths", "components", "tags", "servers", "security", "externalDocs"}
    assert spec["paths"] and spec["components"]["schemas"]


def test_every_api_route_is_documented(app: Any, spec: dict[str, Any]) -> None:
    missing = []
    for rule in api_rules(app):
        path = spec["paths"].get(openapi_path(rule.rule), {})
        for method in sorted(m.lower() for m in rule.methods if m.lower() in HTTP_METHODS):
            if method not in path:
                missing.append(f"{method.upper()} {rule.rule}")
    assert not missing, missing
    assert len(api_rules(app)) >= 11


def test_required_endpoints_are_present(spec: dict[str, Any]) -> None:
    paths = spec["paths"]
    for path, method in [
        ("/api/v1/requests", "post"),
        ("/api/v1/requests", "get"),
        ("/api/v1/requests/{reference}", "get"),
        ("/api/v1/requests/{reference}/transitions", "post"),
        ("/api/v1/requests/{reference}/triage", "post"),
        ("/api/v1/requests/{reference}/assign", "post"),
        ("/api/v1/residents", "get"),
        ("/api/v1/residents/{resident_id}", "get"),
        ("/api/v1/residents/{resident_id}", "patch"),
        ("/api/v1/jobs/{job_id}", "get"),
        ("/api/v1/openapi.json", "get"),
    ]:
        assert method in paths.get(path, {}), f"{method.upper()} {path}"
    create = paths["/api/v1/requests"]["post"]
    assert set(create["responses"]) >= {"201", "401", "403", "422"}
    assert create["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/RequestIn"}
    transition = paths["/api/v1/requests/{reference}/transitions"]["post"]
    assert "409" in transition["responses"]


def test_operations_are_well_formed(spec: dict[str, Any]) -> None:
    for path, item in spec["paths"].items():
        declared_in_path = set(re.findall(r"{([a-z_]+)}", path))
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            assert operation["responses"], f"{method} {path} has no responses"
            assert all(re.match(r"^([1-5]\d\d|default)$", code) for code in operation["responses"])
            params = [*item.get("parameters", []), *operation.get("parameters", [])]
            path_params = {p["name"] for p in params if p["in"] == "path"}
            assert path_params == declared_in_path, f"{method} {path}: {path_params} != {declared_in_path}"
            assert all(p["in"] in {"path", "query", "header", "cookie"} for p in params)
            assert operation.get("tags"), f"{method} {path} has no tag"


def test_schemas_and_references_resolve(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    for name in ("RequestIn", "ResidentIn", "RequestDetail", "RequestOut", "RequestPage", "TransitionIn", "Error"):
        assert name in schemas, name
    request_in = schemas["RequestIn"]
    assert request_in["required"] == ["type"]
    assert request_in["additionalProperties"] is False
    assert set(request_in["properties"]["type"]["enum"]) == {
        "food_parcel",
        "shopping",
        "prescription",
        "befriending",
        "transport",
        "dog_walking",
        "other",
    }
    assert set(schemas["TransitionIn"]["properties"]["to"]["enum"]) >= {"new", "triaged", "closed", "escalated"}
    assert schemas["Error"]["properties"]["error"] == {"$ref": "#/components/schemas/ErrorBody"}
    assert set(schemas["ErrorBody"]["properties"]) == {"code", "message", "fields"}

    refs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    refs.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    assert refs
    for ref in refs:
        target: Any = spec
        assert ref.startswith("#/"), ref
        for part in ref[2:].split("/"):
            assert part in target, f"unresolved {ref}"
            target = target[part]


def test_security_is_described(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert schemes["sessionCookie"]["in"] == "cookie"
    assert spec["security"] == [{"bearerAuth": []}, {"sessionCookie": []}]
    assert spec["paths"]["/api/v1/openapi.json"]["get"]["security"] == []


def test_every_api_view_has_exactly_one_access_rule(app: Any) -> None:
    for rule in api_rules(app):
        view = app.view_functions[rule.endpoint]
        assert not hasattr(view, "view_class"), f"{rule.endpoint}: use function views"
        assert getattr(view, ACCESS_ATTR, None) is not None, rule.endpoint
    assert getattr(app.view_functions["api_v1.openapi_json"], ACCESS_ATTR) == "public"
    assert getattr(app.view_functions["api_v1.residents.get_resident"], ACCESS_ATTR) == ("coordinator",)
