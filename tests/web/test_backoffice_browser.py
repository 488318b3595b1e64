"""Staff pages in Chromium (issue 13): the operator's confirmation, the inbox order on a phone."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from haoban.db import utcnow
from tests.builders import make_order
from tests.web.test_browser import PHONE, SHOTS, Browse, LiveServer, live  # noqa: F401

pytestmark = pytest.mark.browser


def test_operator_confirmation_names_department_and_deadline(browser: Any, live: LiveServer) -> None:  # noqa: F811
    b = Browse(browser, live.url)
    b.login("operator")
    b.page.fill("#content", "滨江路的路灯坏了三天，晚上很黑，请尽快修理。")
    b.page.eval_on_selector("#department", "el => { el.closest('details').open = true; }")
    b.page.fill("input.dept-filter[data-for=department]", "城市管理")  # the filter narrows 51 entries
    assert b.page.input_value("#department") == "cgj"
    b.page.keyboard.press("Control+Enter")
    b.page.wait_for_selector("#registered-tell")
    b.assert_clean()
    tell = b.page.inner_text("#registered-tell")
    assert "市城市管理和综合执法局" in tell
    assert re.search(r"办理时限 \d{4}-\d{2}-\d{2} \d{2}:\d{2}", tell)
    SHOTS.mkdir(parents=True, exist_ok=True)
    b.page.screenshot(path=str(SHOTS / "console-confirmation.png"))

    # 110/119/120/122 are one press away, never folded: the first press transfers
    assert b.page.is_visible("#transfer-110")
    b.page.fill("#content", "家里着火了，烟很大")
    b.page.click("#transfer-119")
    b.page.wait_for_selector("#registered-tell")
    assert "已转 119" in b.page.inner_text("#registered-tell")
    b.close()


def test_inbox_lists_overdue_first_on_a_phone(browser: Any, live: LiveServer) -> None:  # noqa: F811
    now = utcnow()
    fresh = make_order(live.rt, status="signed", now=now - timedelta(minutes=10))
    late = make_order(live.rt, status="signed", now=now - timedelta(days=45))
    b = Browse(browser, live.url, PHONE)
    b.login("h_cgj")
    b.go("/inbox?tab=handling")
    codes = b.page.eval_on_selector_all("table.orders tbody tr", "rows => rows.map(r => r.dataset.code)")
    assert codes.index(late) < codes.index(fresh)
    first = b.page.locator("table.orders tbody tr").first
    assert first.get_attribute("data-state") == "overdue"
    assert re.search(r"已超时 \d+ 天", first.inner_text())
    # on a phone the 已超时 tab is in view and each timestamp says what it is
    tab = b.page.locator("nav.tabs a[href='/inbox?tab=overdue']")
    box = tab.bounding_box()
    assert box is not None and box["x"] + box["width"] <= PHONE["width"]
    label = b.page.evaluate(
        "() => getComputedStyle(document.querySelector('td[data-label]'), '::before').content"
    )
    assert "工单编号" in label
    SHOTS.mkdir(parents=True, exist_ok=True)
    b.page.screenshot(path=str(SHOTS / "inbox-phone-overdue-first.png"), full_page=True)
    b.close()
