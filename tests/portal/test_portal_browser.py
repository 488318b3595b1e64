"""Issue 13 in Chromium on a phone: filing, then the receipt and the tracking page survive reloads and the
language switch (never a raw JSON 405), and nothing is filed twice."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, select

from haoban.orders.models import Order
from tests.portal.photos import jpeg_with_gps
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


def test_filing_with_a_photo_and_a_map_pin_on_a_phone(browser: Any, live: LiveServer, tmp_path: Any) -> None:  # noqa: F811
    photo = tmp_path / "pothole.jpg"
    photo.write_bytes(jpeg_with_gps(26.8935, 112.6154))
    b = Browse(browser, live.url, PHONE)
    b.go("/portal")
    b.page.wait_for_selector("#pick-map[data-places]")  # the gazetteer's places drawn, no tiles: offline
    assert int(b.page.get_attribute("#pick-map", "data-places") or 0) >= 5
    b.page.fill("#content", TEXT)
    # The address names a town: the district is filled from the text.
    b.page.fill("#address", "西渡镇老街")
    b.page.wait_for_selector("#district[data-filled=text]", state="attached")
    assert b.page.input_value("#district") == "hengyangxian"
    # A photo with GPS: its place is offered, and taken.
    b.page.set_input_files("#photos", str(photo))
    b.page.wait_for_selector("#photo-place:not([hidden])")
    b.page.click("#photo-place")
    assert b.page.input_value("#latitude") == "26.893500"
    assert b.page.input_value("#district") == "yanfeng"  # the pin lies nearest 雁峰区's seat
    # Then a tap on the map moves the pin.
    box = b.page.locator("#pick-map").bounding_box()
    assert box is not None and box["width"] <= PHONE["width"]
    b.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    assert b.page.input_value("#latitude") != "26.893500"
    lat, lon = float(b.page.input_value("#latitude")), float(b.page.input_value("#longitude"))
    b.page.fill("#citizen_phone", "13912341111")
    b.page.click("#file-form button[type=submit]")
    code = b.page.inner_text("#tracking-code").strip()
    overflow = b.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1
    b.page.click("#track-link")
    b.page.wait_for_selector("#track-photos img")
    src = b.page.get_attribute("#track-photos img", "src") or ""
    thumb = b.ctx.request.get(live.url + src.replace("&amp;", "&"))  # the thumbnail the page shows
    assert thumb.ok and max(Image.open(io.BytesIO(thumb.body())).size) == 320
    with live.rt.db.read() as session:
        order = session.scalar(select(Order).where(Order.code == code))
        assert order is not None and (round(order.latitude, 5), round(order.longitude, 5)) == (
            round(lat, 5),
            round(lon, 5),
        )
    b.close()


def test_plus_one_on_a_nearby_appeal(browser: Any, live: LiveServer) -> None:  # noqa: F811
    first = Browse(browser, live.url, PHONE)
    first.go("/portal")
    first.page.fill("#content", LIGHTS)
    first.page.select_option("#district", "zhengxiang")
    first.page.fill("#citizen_phone", "13912342222")
    first.page.click("#file-form button[type=submit]")
    master = first.page.inner_text("#tracking-code").strip()
    first.close()

    b = Browse(browser, live.url, PHONE)
    b.go("/portal")
    b.page.select_option("#district", "zhengxiang")
    b.page.fill("#citizen_phone", "13912343333")
    b.page.fill("#content", LIGHTS_AGAIN)
    b.page.wait_for_selector("#nearby-list li button.join")
    text = b.page.inner_text("#nearby")
    assert master not in text and "闪黄灯" not in text  # neither the code nor the other caller's words
    b.page.click("#nearby-list li button.join")
    assert b.page.is_visible("#joined")
    code = b.page.inner_text("#tracking-code").strip()
    b.page.click("#track-link")
    assert master in b.page.inner_text("#track-master")
    b.page.click("#track-master a")
    assert master in b.page.inner_text("h1")
    b.assert_clean()
    b.close()
    with live.rt.db.read() as session:
        mine = session.scalar(select(Order).where(Order.code == code))
        assert mine is not None and mine.status == "merged" and mine.master is not None
        assert mine.master.code == master


LIGHTS = "蒸湘区红湘路与解放大道交叉口的红绿灯坏了，一直闪黄灯，车辆乱成一团，很危险。"
LIGHTS_AGAIN = "红湘路和解放大道路口红绿灯不亮了，早高峰堵死了，请赶紧修"
