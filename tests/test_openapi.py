"""/docs shows real shapes: every JSON answer of the API declares a response model."""

from __future__ import annotations

from typing import Any

NOT_JSON = {"text/csv", "application/yaml", "application/pdf", "image/jpeg", "image/png"}


def _is_shaped(schema: dict[str, Any], components: dict[str, Any]) -> bool:
    if "$ref" in schema:
        return True
    if schema.get("type") == "array":
        return _is_shaped(schema.get("items", {}), components)
    if "anyOf" in schema:
        return all(_is_shaped(s, components) for s in schema["anyOf"] if s.get("type") != "null")
    return bool(schema.get("properties"))


def test_every_json_answer_has_a_model(client: Any) -> None:
    spec = client.get("/openapi.json").json()
    components = spec.get("components", {}).get("schemas", {})
    shapeless = []
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            for code, answer in op["responses"].items():
                if not code.startswith("2"):
                    continue
                content = answer.get("content", {})
                if not content or set(content) & NOT_JSON:
                    continue  # 204 No Content, or a CSV / YAML download
                if not _is_shaped(content["application/json"]["schema"], components):
                    shapeless.append(f"{method.upper()} {path} {code}")
    assert shapeless == []
    # Every router is in the document (one path of each).
    assert {
        "/api/v1/orders/{code}",
        "/api/v1/workflow",
        "/api/v1/admin/users",
        "/api/v1/admin/sla-rules",
        "/api/v1/calendar/deadline",
        "/api/v1/analytics/kpis",
        "/api/v1/hotspots",
        "/api/v1/knowledge/search",
        "/api/v1/ratings",
        "/api/v1/admin/dispatch/rules",
        "/api/v1/auth/me",
        "/api/v1/applications/{code}",
    } <= set(spec["paths"])


def test_order_list_documents_its_cursor(client: Any) -> None:
    spec = client.get("/openapi.json").json()
    op = spec["paths"]["/api/v1/orders"]["get"]
    params = {p["name"] for p in op["parameters"]}
    assert {"cursor", "page", "page_size"} <= params
    assert "cursor" in op["description"] and "10,000" in op["description"]  # the capped total
    assert "first 1,000 orders" in op["description"]  # numbered pages
    page_param = next(p for p in op["parameters"] if p["name"] == "page")
    assert "1,000" in page_param["description"] and "next" in page_param["description"]
    page = spec["components"]["schemas"]["OrderPage"]["properties"]
    assert {"next_cursor", "next", "total", "total_exact"} <= set(page)
