"""In the browser: the console's emergency banner (red, urgency set, one press transfers the call) and no
banner for an ordinary question about 火车站; candidates with their reasons while typing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.test_browser import Browse, LiveServer, live  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser

GAS = "我家厨房燃气泄漏了，满屋子的味道，我老婆已经头晕恶心了"
ORDINARY = "请问衡阳火车站到南岳的班车几点发车，天气冷了有没有加班车"
BURST = (
    "蒸湘区红湘路与解放大道交叉口自来水管道爆裂，路面全是水，我们这边停水了",
    "解放大道红湘路附近供水管破裂，从早上开始一直停水",
)


def test_emergency_banner_transfers_in_one_press(browser: Any, live: LiveServer) -> None:  # noqa: F811
    b = Browse(browser, live.url)
    b.login("operator")
    b.go("/console")
    b.page.fill("#content", ORDINARY)
    b.page.wait_for_timeout(1200)
    assert b.page.is_hidden("#emergency-banner")
    assert b.page.input_value("#urgency") == "normal"

    b.page.fill("#content", GAS)
    b.page.wait_for_selector("#emergency-banner", state="visible", timeout=10_000)
    assert "燃气泄漏" in b.page.inner_text("#emergency-kind")
    assert b.page.input_value("#urgency") == "urgent"
    first = b.page.locator("#emergency-banner button[data-line]").first
    assert first.get_attribute("data-line") == "119" and "suggested" in (first.get_attribute("class") or "")
    assert "suggested" in (b.page.get_attribute("#emergency-120", "class") or "")  # dizziness: 120 too
    b.page.fill("#citizen_phone", "13900000501")
    b.page.click("#emergency-119")
    b.page.wait_for_selector("#registered a")
    code = b.page.inner_text("#registered a").strip()
    b.go(f"/orders/{code}")
    assert "119" in b.page.content()
    with live.rt.db.read() as session:
        from sqlalchemy import select

        from haoban.orders.models import Order

        status, target, urgency = session.execute(
            select(Order.status, Order.transfer_target, Order.urgency).where(Order.code == code)
        ).one()
    assert (status, target, urgency) == ("transferred", "119", "urgent")
    b.close()


def test_incident_candidates_show_their_reasons_while_typing(browser: Any, live: LiveServer) -> None:  # noqa: F811
    b = Browse(browser, live.url)
    b.login("operator")
    b.go("/console")
    b.page.fill("#content", BURST[0])
    b.page.select_option("#district", label="蒸湘区")
    b.page.fill("#citizen_phone", "13900000502")
    b.page.click("#btn-register")
    b.page.wait_for_selector("#registered a")
    first = b.page.inner_text("#registered a").strip()
    b.go("/console")
    b.page.select_option("#district", label="蒸湘区")
    b.page.fill("#content", BURST[1])
    b.page.wait_for_selector(f"#similar a[href='/orders/{first}']", timeout=10_000)
    item = b.page.inner_text(f"#similar li[data-code='{first}']")
    assert "红湘路 × 解放大道" in item and "停水/爆管" in item and "地点" in item
    b.close()
