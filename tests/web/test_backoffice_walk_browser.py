"""Back-office comforts of issue 13 walked in Chromium: the caller's history appears as the operator types
the incoming number; the 督办 badge does not share the deadline warning's amber; bulk signing in the inbox
from the "select all" box."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from haoban.db import utcnow
from haoban.orders.actions import apply_action
from haoban.orders.schemas import ActionRequest
from tests.builders import actors, make_order
from tests.web.test_browser import Browse, LiveServer, live  # noqa: F401

pytestmark = pytest.mark.browser


def test_caller_history_appears_while_the_number_is_typed(browser: Any, live: LiveServer) -> None:  # noqa: F811
    earlier = make_order(live.rt, status="signed")  # citizen_phone 13812345678
    b = Browse(browser, live.url)
    b.login("operator")
    b.go("/console")
    assert not b.page.is_visible("#caller-panel")
    b.page.locator("#citizen_phone").press_sequentially("138 1234 5678")
    b.page.wait_for_selector(f"#caller-history li[data-code='{earlier}']")
    item = b.page.inner_text(f"#caller-history li[data-code='{earlier}']")
    assert "办理中" in item and "市城市管理和综合执法局" in item
    assert b.page.is_visible("#caller-panel")
    b.page.fill("#citizen_phone", "13900000001")  # a number never heard: says so
    b.page.dispatch_event("#citizen_phone", "input")
    b.page.wait_for_selector(f"#caller-history li[data-code='{earlier}']", state="detached")
    assert b.page.inner_text("#caller-history").strip() == "这个号码以前没有来过电。"
    b.assert_clean()
    b.close()


def test_supervised_badge_is_not_the_warning_amber(browser: Any, live: LiveServer) -> None:  # noqa: F811
    rt = live.rt
    late = make_order(rt, status="signed", now=utcnow() - timedelta(days=60))
    with rt.db.write() as session:
        apply_action(
            session,
            rt,
            code=late,
            action="supervise",
            data=ActionRequest(note="请尽快办结"),
            actor=actors(rt)["supervisor"],
        )
    b = Browse(browser, live.url)
    b.login("h_cgj")
    b.go("/inbox?tab=handling")
    badge = b.page.locator(f"tr[data-code='{late}'] .badge.supervised")
    assert badge.count() == 1
    warn = b.page.evaluate(
        "() => { const s = document.createElement('span'); s.className = 'badge dl-warning';"
        " document.body.appendChild(s); const c = getComputedStyle(s).backgroundColor;"
        " s.remove(); return c; }"
    )
    mine = badge.evaluate("el => getComputedStyle(el).backgroundColor")
    assert mine != warn and mine not in ("rgba(0, 0, 0, 0)", "transparent")
    b.close()


def test_bulk_sign_with_select_all(browser: Any, live: LiveServer) -> None:  # noqa: F811
    codes = [make_order(live.rt, status="dispatched") for _ in range(2)]
    b = Browse(browser, live.url)
    b.login("h_cgj")
    b.go("/inbox?tab=to_sign")
    b.page.check("#select-all")
    for code in codes:
        assert b.page.is_checked(f"input[type=checkbox][value='{code}']")
    b.page.click("#bulk-sign")
    b.page.wait_for_selector("#bulk-done")
    b.assert_clean()
    assert "已批量签收" in b.page.inner_text("#bulk-done")
    b.go("/inbox?tab=handling")
    for code in codes:
        assert b.page.locator(f"tr[data-code='{code}']").count() == 1
    b.close()
