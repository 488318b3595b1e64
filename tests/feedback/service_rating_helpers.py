"""Helpers for the tests of 好差评 for services: a finished newborn application, a window visit, a rating."""

from __future__ import annotations

from typing import Any

from tests.applications.conftest import HANDLER, apply, finish

APP_LAST4 = "5678"  # the newborn applicant's phone: 13812345678
VISIT_PHONE = "13700001234"
SEAL_ITEM = "gaj-official-seal-engraving"  # 公章刻制备案, public security (gaj)
HUKOU_ITEM = "gaj-newborn-hukou-registration"
ORDER = ["birth_certificate", "vaccination", "hukou", "insurance_enrolment", "insurance_payment"]


def finished_application(api: Any, *, as_: str | None = None) -> str:
    """A newborn application (six items, five departments) taken to completed."""
    r = apply(api, as_=as_)
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    for task in [*ORDER, "social_security_card"]:
        finish(api, code, task)
    assert api.get(f"/api/v1/applications/{code}", as_="supervisor").json()["status"] == "completed"
    assert set(HANDLER) == {*ORDER, "social_security_card"}
    return code


def visit(
    api: Any, *, as_: str = "window", item: str = SEAL_ITEM, phone: str = VISIT_PHONE, **extra: Any
) -> Any:
    r = api.post("/api/v1/service-visits", as_=as_, json={"item": item, "person_phone": phone, **extra})
    assert r.status_code == 201, r.text
    return r.json()


def rate(api: Any, code: str, level: str, *, last4: str, **extra: Any) -> Any:
    return api.client.post(
        "/api/v1/service-ratings", json={"code": code, "phone_last4": last4, "level": level, **extra}
    )
