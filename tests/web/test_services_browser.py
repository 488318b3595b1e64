"""Real browser (Debian's Chromium): a citizen on a phone searches the service catalogue, opens the
guide, switches to English; a licence is checked on the verify page."""

from __future__ import annotations

from typing import Any

import pytest

from haoban.auth.actors import SYSTEM_ACTOR
from haoban.licences import service as licences
from tests.web.test_browser import PHONE, SHOTS, Browse, LiveServer, live  # noqa: F401

pytestmark = pytest.mark.browser


def test_search_then_guide_then_verify(browser: Any, live: LiveServer) -> None:  # noqa: F811
    SHOTS.mkdir(parents=True, exist_ok=True)
    citizen = Browse(browser, live.url, PHONE)
    citizen.go("/services")
    citizen.page.fill("#q", "宝宝出生后怎么上户口")
    citizen.page.press("#q", "Enter")
    citizen.page.wait_for_selector("#items")
    citizen.assert_clean()
    first = citizen.page.locator("#items li").first
    assert first.get_attribute("data-code") == "gaj-newborn-hukou-registration"
    first.locator("a").click()
    citizen.page.wait_for_selector("#materials")
    citizen.assert_clean()
    assert "出生登记（新生儿入户）" in citizen.page.inner_text("h1")
    row = citizen.page.locator("#materials tr", has_text="出生医学证明")
    assert "免提交" in row.inner_text()
    citizen.page.screenshot(path=str(SHOTS / "services-guide-phone.png"), full_page=True)

    citizen.page.click("a.lang")
    citizen.page.wait_for_selector("#materials")
    assert "Not needed" in citizen.page.inner_text("#materials")

    with live.rt.db.write() as s:
        lic = licences.issue(
            s,
            kind="wjw-birth-medical-certificate",
            holder_id="430402202611300011",
            holder_name="张小宝",
            actor=SYSTEM_ACTOR,
        )
        code, digest = lic.code, lic.sha256
    citizen.go("/verify")
    citizen.page.fill("#code", code.lower())
    citizen.page.press("#code", "Enter")
    citizen.page.wait_for_selector("#verdict")
    citizen.assert_clean()
    assert citizen.page.get_attribute("#verdict", "data-status") == "valid"
    assert citizen.page.inner_text("#sha256").strip() == digest
    citizen.page.screenshot(path=str(SHOTS / "licence-verify-phone.png"), full_page=True)
    citizen.close()
