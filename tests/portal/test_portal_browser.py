"""Issue 13 in Chromium on a phone: filing, then the receipt and the tracking page survive reloads and the
language switch (never a raw JSON 405), and nothing is filed twice."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from haoban.orders.models import Order
from tests.web.test_browser import PHONE, Browse, LiveServer, live  # noqa: F401  (the live fixture)

pytestmark = pytest.mark.browser

TEXT = "蒸湘区红湘路口的井盖松动了，车一压就响，晚上很吵，还怕有人踩空。"


def _count(server: LiveServer) -> int:
    with server.rt.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Order)) or 0)


def test_tracking_after_reload_on_a_phone(browser: Any, live: LiveServer) -> None:  # noqa: F811
    b = Browse(browser, live.url, PHONE)
    before = _count(live)
    b.go("/portal")
    b.page.fill("#content", TEXT)
    b.page.fill("#citizen_phone", "13912340000")
    b.page.click("#file-form button[type=submit]")
    code = b.page.inner_text("#tracking-code").strip()
    b.page.reload()  # the receipt is a GET: a reload files nothing
    b.assert_clean()
    assert b.page.inner_text("#tracking-code").strip() == code
    assert _count(live) == before + 1
    b.page.click("#track-link")
    assert code in b.page.inner_text("h1")
    link = b.page.url
    b.page.reload()
    b.assert_clean()
    assert b.page.url == link and "已收到您的诉求" in b.page.inner_text("#track-timeline")
    b.page.click("header a.lang")  # the language switch comes back to the same appeal
    b.assert_clean()
    assert "We received your appeal" in b.page.inner_text("#track-timeline")
    b.page.reload()
    assert code in b.page.inner_text("h1")
    # A fresh browser (a bookmark) opens the link too.
    other = Browse(browser, live.url, PHONE)
    other.page.goto(link)
    other.assert_clean()
    assert code in other.page.inner_text("h1")
    # An unknown page is the site's page, not JSON.
    other.page.goto(live.url + "/nope")
    assert other.page.locator("section.error-page").count() == 1
    other.close()
    b.close()
