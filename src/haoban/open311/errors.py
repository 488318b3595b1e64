"""The spec's error answer: a list of ``{code, description}`` with the HTTP status as the code."""

from __future__ import annotations

from typing import Any


class Open311Error(Exception):
    """An answer in the spec's error form: ``[{code, description}, …]`` with this HTTP status. Several
    descriptions (say, every missing attribute) give several entries of the list."""

    def __init__(self, status: int, description: str, *more: str) -> None:
        super().__init__(description)
        self.http_status = status
        self.description = description
        self.descriptions = [description, *more]

    def body(self) -> list[dict[str, Any]]:
        return [{"code": self.http_status, "description": d} for d in self.descriptions]
