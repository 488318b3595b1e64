"""Every status an API operation can answer is declared in the OpenAPI document.

The statuses come from machinery every route shares, so they are declared here, once, from what an
operation is: the edge guard (400 control characters, 413 bodies over the cap), validation (422),
bearer authentication (401) and roles (403), a path naming a record (404), writes racing or refused by
a record's state (409, and 400 for a request the domain cannot take), rate limits on the anonymous and
login routes (429) and a busy database (503). A route's own ``responses=`` declaration wins.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "properties": {
        "error": {"type": "string", "description": "a short machine-readable code"},
        "message": {"type": "string", "description": "what went wrong, for a person"},
        "fields": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "per-field problems (422)",
        },
    },
    "required": ["error", "message"],
}
DESCRIPTIONS = {
    "400": "The request cannot be taken (control characters, a request the domain refuses)",
    "401": "Not logged in, or the token is invalid, expired or revoked",
    "403": "The account's role may not do this",
    "404": "No such record (or not visible to this account)",
    "409": "The record's state does not allow this now, or it already exists",
    "413": "The request body is larger than this route accepts",
    "422": "A field is missing or not valid",
    "429": "Too many requests or failed logins; wait and retry",
    "503": "The database is busy; retry in a moment",
}
WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})


def statuses_for(path: str, method: str, operation: dict[str, Any]) -> set[str]:
    out = {"400", "422", "503"}
    if method in WRITE_METHODS:
        out |= {"409", "413"}
    if operation.get("security"):
        out |= {"401", "403"}
    else:
        out.add("429")  # anonymous routes (citizens' look-ups, login) are rate limited
    if "{" in path or method in WRITE_METHODS:
        out.add("404")  # a path or a body naming a record that does not exist
    if path.startswith("/api/v1/auth/"):
        out |= {"401", "429"}
    return out


def declare_statuses(app: FastAPI) -> None:
    """Install an ``openapi()`` that adds the shared error statuses to every API operation."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        spec = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        spec.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        ref = {"$ref": "#/components/schemas/Error"}
        for path, operations in spec.get("paths", {}).items():
            for method, op in operations.items():
                responses = op.setdefault("responses", {})
                # Validation errors have the app's error shape, not FastAPI's default one.
                if "HTTPValidationError" in str(responses.get("422", "")):
                    del responses["422"]
                for status in sorted(statuses_for(path, method, op)):
                    content = {"application/json": {"schema": ref}}
                    responses.setdefault(status, {"description": DESCRIPTIONS[status], "content": content})
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]
