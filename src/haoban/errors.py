"""Domain errors. Services raise these; the app maps them to HTTP status codes in one place."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, **detail: Any) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, **self.detail}


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"


class Unauthorized(DomainError):
    status_code = 401
    code = "unauthorized"


class Conflict(DomainError):
    """The action is not allowed now: wrong state, or someone else changed the record first."""

    status_code = 409
    code = "conflict"


class Invalid(DomainError):
    """Input that cannot be accepted; ``fields`` maps a field name to what is wrong with it."""

    status_code = 422
    code = "invalid"

    def __init__(self, message: str, *, fields: dict[str, str] | None = None, **detail: Any) -> None:
        super().__init__(message, fields=fields or {}, **detail)


class RateLimited(DomainError):
    status_code = 429
    code = "rate_limited"
