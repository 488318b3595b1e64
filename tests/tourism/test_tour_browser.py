"""Browser journey (Chromium on a phone's viewport): a visitor finds 南岳大庙, books a slot and shows the
QR e-ticket; gate staff check it in (once); a complaint from the place's page reaches the 文旅
handler's inbox. Screenshots go to test-output/screenshots/."""

from __future__ import annotations

from typing import Any

import pytest

from haoban.auth.actors import SYSTEM_ACTOR
from haoban.tourism import tickets
from haoban.tourism.schemas import PlanIn
from haoban.tourism.tickets import seed_demo_places
from tests.tourism.ids import id_number
from tests.web import test_browser as web
from tests.web.test_browser import PHONE, SHOTS, Browse, LiveServer

pytestmark = pytest.mark.browser
# The web journey's fixtures: Debian's Chromium and a live server on the test database.
live = web.live


def _shot(b: Browse, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    b.page.screenshot(path=str(SHOTS / f"tour-{name}-phone.png"), full_page=True)


def test_visitor_books_shows_qr_gate_checks_in_and_complains(browser: Any, live: LiveServer) -> None:
    rt = live.rt
    seed_demo_places(rt, actor=SYSTEM_ACTOR)
    # Today's visit must be open whatever the hour the suite runs: a whole-day slot at the temple.
    with rt.db.write() as session:
        tickets.set_plan(
            session,
            place_code="nanyue-damiao",
            data=PlanIn(slots=[{"start": "00:00", "end": "24:00", "capacity": 5000}], book_days_ahead=7),
            actor=SYSTEM_ACTOR,
        )

    visitor = Browse(browser, live.url, PHONE)
    visitor.go("/tour")
    visitor.page.fill("#q", "南岳大庙")
    visitor.page.click("form[role=search] button[type=submit]")
    visitor.page.click("#places li[data-code='nanyue-damiao'] h2 a")
    assert "南岳大庙" in visitor.page.inner_text("#place-name")
    _shot(visitor, "place")
    visitor.page.click("#book-link")
    visitor.page.locator("input[name=slot_id]").first.check()
    visitor.page.fill("#name_0", "张三")
    visitor.page.fill("#id_0", id_number(7))
    visitor.page.fill("#phone", "13912345678")
    visitor.page.click("#book-form button[type=submit]")
    visitor.page.wait_for_selector(".ticket .qr svg")
    visitor.assert_clean()
    _shot(visitor, "ticket")
    visitor.page.click(".ticket details summary")
    token = visitor.page.inner_text(".ticket .token").strip()
    order_url = visitor.page.url

    gate = Browse(browser, live.url, PHONE)
    gate.login("gate")
    assert gate.page.url.endswith("/tour/gate")
    gate.page.fill("#gate", "大庙东门")
    gate.page.fill("#code", token)
    gate.page.click("#gate-form button[type=submit]")
    gate.page.wait_for_selector("#gate-ok")
    _shot(gate, "gate-ok")
    gate.page.fill("#gate", "大庙西门")
    gate.page.fill("#code", token)
    gate.page.click("#gate-form button[type=submit]")
    gate.page.wait_for_selector("#gate-refused")
    assert gate.page.inner_text("#first-gate") == "大庙东门"
    gate.close()

    visitor.page.goto(order_url)
    assert visitor.page.locator(".ticket[data-status='used']").count() == 1

    visitor.go("/tour/places/nanyue-damiao")
    visitor.page.fill("#c-content", "大庙门口的停车场收费不明码标价，还要求扫码加价。")
    visitor.page.fill("#c-phone", "13712345678")
    visitor.page.click("#complain-form button[type=submit]")
    code = visitor.page.inner_text("#complaint-filed a").strip()
    _shot(visitor, "complaint")
    visitor.close()

    handler = Browse(browser, live.url)
    handler.login("h_wlj")
    assert handler.page.url.endswith("/inbox")
    assert handler.page.locator("tr", has_text=code).count() == 1
    handler.close()
