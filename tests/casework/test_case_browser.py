"""Browser: a window clerk takes a stuck 12345 order on as a case, enters it in the ledger, assigns it,
holds a consultation meeting with a decision, the lead department concludes, and the clerk follows up
and closes it; the order's file links to the case. Screenshots in test-output/screenshots/."""

from __future__ import annotations

from typing import Any

import pytest

from tests.builders import make_order
from tests.web.test_browser import PHONE, SHOTS, Browse, LiveServer, live  # noqa: F401

pytestmark = pytest.mark.browser


def _shot(b: Browse, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    b.page.screenshot(path=str(SHOTS / f"cases-{name}.png"), full_page=True)


def test_window_clerk_opens_a_case_from_a_stuck_order_holds_a_meeting_and_closes_it(
    browser: Any,
    live: LiveServer,  # noqa: F811
) -> None:
    order = make_order(live.rt, status="callback_unsatisfied")
    clerk = Browse(browser, live.url)
    clerk.login("window")
    assert clerk.page.url.endswith("/cases")
    clerk.page.click(f"#escalate-{order}")
    assert clerk.page.input_value("#f-subject")  # prefilled from the order
    clerk.page.select_option("#f-obstacle", "buck_passing")
    clerk.page.fill("#f-item", "路灯维修")
    clerk.page.check("#f-anonymous")
    _shot(clerk, "open")
    clerk.page.click("#btn-open")
    code = clerk.page.inner_text("h1 .mono").strip()
    assert code.startswith("BC") and order in clerk.page.inner_text("#origin")

    clerk.page.click("#btn-ledger")
    clerk.page.select_option("#assign-department", "cgj")
    clerk.page.select_option("#assign-co_departments", ["jtj"])
    clerk.page.fill("#assign-days", "5")
    clerk.page.click("#btn-assign")
    assert "限时办理中" in clerk.page.inner_text("h1")

    clerk.page.fill("#meet-participants", "市城管局 李科长\n市交通局 赵科长\n窗口 周敏")
    clerk.page.fill("#meet-minutes", "城管局牵头，交通局配合，五个工作日内修复路灯。")
    clerk.page.fill("#d0-text", "交通局协调占道施工车辆")
    clerk.page.select_option("#d0-owner", "jtj")
    clerk.page.fill("#d0-due", clerk.page.input_value("#meet-held_on"))
    clerk.page.click("#btn-meet")
    assert "会商中" in clerk.page.inner_text("h1")
    assert "交通局协调占道施工车辆" in clerk.page.inner_text("#meeting-1")
    _shot(clerk, "meeting")

    # The lead department sees the case without the anonymous complainant, and concludes it.
    dept = Browse(browser, live.url)
    dept.login("h_cgj")
    dept.go(f"/cases/{code}")
    assert "投诉人身份仅窗口可见" in dept.page.inner_text("#complainant")
    assert "张三" not in dept.page.content()
    dept.page.select_option("#conclude-outcome", "done")
    dept.page.fill("#conclude-explanation", "路灯已更换灯杆并恢复照明。")
    dept.page.click("#btn-conclude")
    assert "待回访" in dept.page.inner_text("h1")

    clerk.go(f"/cases/{code}")
    assert "张三" in clerk.page.inner_text("#complainant")
    clerk.page.select_option("#follow_up-result", "satisfied")
    clerk.page.click("#btn-follow_up")
    clerk.page.click("#btn-close")
    assert "已办结" in clerk.page.inner_text("h1")
    assert clerk.page.locator("#timeline li").count() == 7
    _shot(clerk, "closed")

    clerk.go(f"/orders/{order}")
    assert code in clerk.page.inner_text("#timeline")
    phone = Browse(browser, live.url, PHONE)
    phone.login("window")
    phone.go(f"/cases/{code}")
    _shot(phone, "closed-phone")
    for b in (clerk, dept, phone):
        b.close()
