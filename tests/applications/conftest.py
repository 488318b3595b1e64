"""Fixtures for applications: the shipped bundles installed, a newborn application through the API."""

from __future__ import annotations

import json
from typing import Any

import pytest

from haoban.applications import registry
from haoban.auth.actors import SYSTEM_ACTOR
from haoban.bundles.definitions import shipped_example
from haoban.runtime import Runtime

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
NEWBORN = shipped_example("newborn")
# Which demo account handles each newborn task.
HANDLER = {
    "birth_certificate": "h_wjw",
    "vaccination": "h_wjw",
    "hukou": "h_gaj",
    "social_security_card": "h_rsj",
    "insurance_enrolment": "h_ybj",
    "insurance_payment": "h_tax",
}
APPLICANT = {"name": "李娟", "phone": "13812345678", "id_number": "430405199001011233"}


@pytest.fixture
def installed(rt: Runtime) -> Runtime:
    with rt.db.write() as session:
        registry.install_shipped(session, rt, actor=SYSTEM_ACTOR)
    return rt


def newborn_files() -> list[tuple[str, tuple[str, bytes, str]]]:
    return [
        ("parents_id_cards", ("身份证.pdf", PDF, "application/pdf")),
        ("household_register", ("户口簿.pdf", PDF + b"hh", "application/pdf")),
        ("marriage_certificate", ("结婚证.png", PNG, "image/png")),
    ]


def apply(
    api: Any, *, as_: str | None = None, form: dict | None = None, files: Any = None, **extra: Any
) -> Any:
    body = {"bundle": "newborn", "form": form or NEWBORN["form"], "applicant": APPLICANT, **extra}
    data = {"data": json.dumps(body, ensure_ascii=False)}
    files = newborn_files() if files is None else files
    if as_ is None:
        return api.client.post("/api/v1/applications", data=data, files=files)
    return api.client.post("/api/v1/applications", data=data, files=files, headers=api.headers(as_))


def act(
    api: Any, code: str, task: str, action: str, *, as_: str | None = None, expect: int = 200, **body: Any
) -> Any:
    r = api.post(f"/api/v1/applications/{code}/tasks/{task}/{action}", as_=as_ or HANDLER[task], json=body)
    assert r.status_code == expect, r.text
    return r.json()


def finish(api: Any, code: str, task: str) -> dict[str, Any]:
    act(api, code, task, "accept")
    return act(api, code, task, "approve", result=NEWBORN["results"][task])


def open_tasks(api: Any, code: str) -> dict[str, str]:
    detail = api.get(f"/api/v1/applications/{code}", as_="supervisor").json()
    return {t["task_id"]: t["status"] for t in detail["tasks"]}
