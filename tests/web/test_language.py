"""Every staff page and error speaks one language (issue 13): Chinese in the Chinese UI, English in the
English UI. The checker is tests/web/language.py (reusable for the citizen pages)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.builders import make_order
from tests.web.language import untranslated
from tests.web.test_pages_access import login

# (who, path) — every staff page of issue 13, each admin tab, the order page, and error pages.
PAGES = [
    ("operator", "/console"),
    ("dispatcher", "/console/queue"),
    ("h_cgj", "/inbox?tab=to_sign"),
    ("h_cgj", "/inbox?tab=handling"),
    ("h_cgj", "/inbox?tab=overdue"),
    ("h_cgj", "/inbox?tab=all"),
    ("supervisor", "/board"),
    ("admin", "/admin?tab=departments"),
    ("admin", "/admin?tab=users"),
    ("admin", "/admin?tab=rules"),
    ("admin", "/admin?tab=templates"),
    ("admin", "/admin?tab=sla"),
    ("admin", "/admin?tab=calendar"),
    ("supervisor", "/dashboard"),
    ("supervisor", "/dashboard?from=2026-11-20&to=2026-11-01"),
    ("supervisor", "/orders/{signed}"),
    ("supervisor", "/orders/{replied}"),
    ("supervisor", "/orders/NOPE0000"),
    ("h_cgj", "/board"),
]
# Posts that fail and show their errors (validation, domain and Pydantic messages).
POSTS = [
    ("operator", "/console", {"content": "", "mode": "answer"}),
    ("operator", "/console", {"content": "路灯坏了", "mode": "dispatch", "district": "nowhere"}),
    ("admin", "/admin/rules", {"name": "x", "outcome": "transfer"}),
    ("admin", "/admin/templates", {"title": "x", "body": "{nowhere}", "category": "nowhere"}),
    ("admin", "/admin/rules", {"name": "x", "outcome": "answer"}),
    ("admin", "/admin/users", {"op": "create", "username": "h_x", "password": "abcd", "role": "handler"}),
    (
        "admin",
        "/admin/sla",
        {
            "order_type": "consult",
            "urgency": "normal",
            "sign_amount": "9999",
            "sign_unit": "working_days",
            "handle_amount": "-1",
            "handle_unit": "working_days",
        },
    ),
    ("supervisor", "/orders/{signed}/act/request_extension", {"days": "99", "reason": "x"}),
    ("supervisor", "/orders/{replied}/act/review_reply", {"decision": "reject"}),
    ("supervisor", "/orders/{signed}/act/merge", {"master": "HB000"}),
]


# What the tests typed and the page quotes back (a missing code, an unknown district).
ECHOED = {"NOPE", "nowhere"}


@pytest.fixture
def codes(rt: Any) -> dict[str, str]:
    return {s: make_order(rt, status=s) for s in ("signed", "replied", "dispatched", "pending_dispatch")}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_staff_page_speaks_one_language(client: Any, codes: dict[str, str], lang: str) -> None:
    problems: dict[str, list[str]] = {}
    for who, path in PAGES:
        login(client, who)
        url = path.format(**codes)
        r = client.get(url + ("&" if "?" in url else "?") + f"lang={lang}")
        found = untranslated(r.text, lang, allow=ECHOED)
        if found:
            problems[f"GET {url}"] = sorted(set(found))
    for who, path, data in POSTS:
        login(client, who)
        url = path.format(**codes)
        client.get(f"/lang/{lang}")
        client.cookies.set("haoban_lang", lang)
        r = client.post(url, data=data, follow_redirects=True)
        found = untranslated(r.text, lang, allow=ECHOED)
        if found:
            problems[f"POST {url} {sorted(data)}"] = sorted(set(found))
    assert not problems, "\n".join(f"{k}: {v}" for k, v in problems.items())


# --- the citizen portal and the other services' pages (issue 13, part 2) ---------------------------------

CITIZEN_PAGES = [
    (None, "/login"),
    (None, "/portal"),
    (None, "{track}"),
    (None, "{filed}"),
    (None, "/portal/mine"),
    (None, "/portal/benefits"),
    (None, "/portal/apply"),
    (None, "/portal/apply/newborn"),
    (None, "/portal/applications/{application}"),
    (None, "/portal/applications/{application}?p=5678"),
    (None, "/portal/rate-service"),
    (None, "/services"),
    (None, "/services?q=新生儿落户"),
    (None, "/services/items/gaj-newborn-hukou-registration"),
    (None, "/services/metrics"),
    (None, "/verify?code=ABCDEFGHJKMNPQRS"),
    (None, "/tour"),
    (None, "/tour/places/nanyue-damiao"),
    (None, "/tour/places/nanyue-damiao/book"),
    (None, "/tour/map"),
    (None, "/tour/ask?q=开放时间"),
    ("supervisor", "/tour/dashboard"),
    ("gate", "/tour/gate"),
    ("window", "/cases"),
    ("window", "/cases/{case}"),
    ("h_cgj", "/cases/{case}"),
    ("supervisor", "/reform"),
    ("admin", "/admin/benefits"),
    ("admin", "/admin/benefits/grants/{grant}"),
    ("h_wjw", "/applications/{application}"),
    ("admin", "/admin?tab=open311"),
    ("admin", "/admin/logins"),
    ("admin", "/admin/logins?since=2025-13-45&result=nonsense"),
]
CITIZEN_POSTS = [
    (None, "/login", {"username": "", "password": ""}),
    (None, "/login", {"username": "operator", "password": "wrong"}),
    (None, "/portal/file", {"type": "complaint", "content": "", "citizen_phone": "1"}),
    (None, "/portal/file", {"type": "complaint", "content": "路灯坏了三天很黑", "citizen_phone": "12"}),
    (None, "/portal/track", {"code": "HB000", "phone_last4": "12"}),
    (None, "/portal/track", {"code": "HB000", "phone_last4": "1234"}),
    (None, "/portal/benefits", {"who": "person", "code": "{grant}", "phone_last4": "12"}),
    (None, "/portal/benefits", {"who": "person", "code": "{grant}", "phone_last4": "0000"}),
    (None, "/portal/apply/newborn", {"applicant_name": ""}),
    (None, "/portal/applications", {"code": "BJ0", "phone_last4": "1"}),
    (None, "/portal/mine/code", {"phone": "123"}),
    ("window", "/cases/new", {"kind": "business"}),
    ("admin", "/admin/open311", {"name": ""}),
]


@pytest.fixture
def citizen_data(rt: Any, client: Any) -> dict[str, str]:
    from sqlalchemy import select

    from haoban.applications import registry
    from haoban.auth.actors import SYSTEM_ACTOR
    from haoban.benefits import matching
    from haoban.benefits.models import Grant
    from haoban.orders.citizen import track_token
    from haoban.tourism.tickets import seed_demo_places
    from tests.applications.test_applications_pages import submit_page
    from tests.benefits.conftest import TODAY, City, birthday
    from tests.casework.builders import make_case

    order = make_order(rt, status="replied")
    key = track_token(rt.settings.secret_key, code=order, last4="5678")
    with rt.db.write() as session:
        registry.install_shipped(session, rt, actor=SYSTEM_ACTOR)
        from haoban.benefits import store

        store.install_shipped(session, actor=SYSTEM_ACTOR)
    seed_demo_places(rt, actor=SYSTEM_ACTOR)
    City(rt).resident(birthday(88), phone="13800001111", bank_account="6217000022223333")
    with rt.db.write() as session:
        matching.match(session, today=TODAY)
    with rt.db.read() as session:
        grant = session.scalars(select(Grant)).first().code
    r = submit_page(client)
    assert r.status_code == 303, r.text
    application = r.headers["location"].split("/")[-1].split("?")[0]
    return {
        "track": f"/portal/track/{order}?k={key}",
        "filed": f"/portal/filed/{order}?k={key}",
        "application": application,
        "grant": grant,
        "case": make_case(rt, status="consulting"),
    }


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_citizen_and_service_page_speaks_one_language(
    client: Any, citizen_data: dict[str, str], lang: str
) -> None:
    problems: dict[str, list[str]] = {}
    for who, path in CITIZEN_PAGES:
        client.cookies.clear()
        if who:
            login(client, who)
        url = path.format(**citizen_data)
        r = client.get(url + ("&" if "?" in url else "?") + f"lang={lang}")
        assert r.status_code < 500, (url, r.status_code)
        found = untranslated(r.text, lang, allow=ECHOED)
        if found:
            problems[f"GET {url} ({r.status_code})"] = sorted(set(found))
    for who, path, data in CITIZEN_POSTS:
        client.cookies.clear()
        if who:
            login(client, who)
        client.cookies.set("haoban_lang", lang)
        data = {k: v.format(**citizen_data) for k, v in data.items()}
        r = client.post(path, data=data, follow_redirects=True)
        assert r.status_code < 500, (path, r.status_code)
        found = untranslated(r.text, lang, allow=ECHOED)
        if found:
            problems[f"POST {path} {sorted(data)} ({r.status_code})"] = sorted(set(found))
    assert not problems, "\n".join(f"{k}: {v}" for k, v in problems.items())
