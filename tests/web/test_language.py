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
