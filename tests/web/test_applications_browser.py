"""Real browser (Debian's Chromium): the newborn bundle from the portal to the mailed results — one form
on a phone, each department's handler finishes its task from the inbox, the window gives the parcel to
the courier, the applicant's bookmarked timeline shows the tracking number — and a window clerk's
walk-in registration with a green-channel flag."""

from __future__ import annotations

import re
from typing import Any

import pytest

from haoban.applications import registry
from haoban.auth.actors import SYSTEM_ACTOR
from haoban.bundles.definitions import shipped_example
from tests.web.test_browser import PHONE, SHOTS, Browse, LiveServer, live  # noqa: F401

pytestmark = pytest.mark.browser

NEWBORN = shipped_example("newborn")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
# Which demo account handles each newborn task, in an order the process allows.
HANDLERS = (
    ("birth_certificate", "h_wjw"),
    ("vaccination", "h_wjw"),
    ("hukou", "h_gaj"),
    ("insurance_enrolment", "h_ybj"),
    ("insurance_payment", "h_tax"),
    ("social_security_card", "h_rsj"),
)


def _install(server: LiveServer) -> None:
    with server.rt.db.write() as session:
        registry.install_shipped(session, server.rt, actor=SYSTEM_ACTOR)


def fill_newborn(page: Any) -> None:
    """The newborn form as a parent fills it: text, radios, a select, a date-time, four files."""
    f = NEWBORN["form"]
    page.fill("#applicant_name", "李娟")
    page.fill("#applicant_phone", "13812345678")
    page.fill("#applicant_id_number", "430405199001011233")
    page.fill("#f-baby-name", f["baby"]["name"])
    page.check("input[name='baby.sex'][value='female']")
    page.fill("#f-baby-born_at", "2026-11-28T08:30")
    page.fill("#f-baby-hospital", f["baby"]["hospital"])
    page.fill("#f-baby-weight_g", str(f["baby"]["weight_g"]))
    for who in ("mother", "father"):
        page.fill(f"#f-{who}-name", f[who]["name"])
        page.fill(f"#f-{who}-id_number", f[who]["id_number"])
    page.check("input[name='household.follows'][value='father']")
    page.fill("#f-household-head_id_number", f["household"]["head_id_number"])
    page.fill("#f-household-address", f["household"]["address"])
    page.check("input[name='insurance.pay_method'][value='wechat']")
    page.select_option("#f-social_security_card-bank", "工商银行")
    page.fill("#f-contact-phone", "13812345678")
    page.check("input[name='delivery.method'][value='post']")
    page.fill("#f-delivery-recipient", f["delivery"]["recipient"])
    page.fill("#f-delivery-address", f["delivery"]["address"])
    page.set_input_files(
        "#mat-parents_id_cards", files=[{"name": "身份证.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.set_input_files(
        "#mat-household_register",
        files=[{"name": "户口簿.pdf", "mimeType": "application/pdf", "buffer": PDF + b"h"}],
    )
    page.set_input_files(
        "#mat-marriage_certificate", files=[{"name": "结婚证.png", "mimeType": "image/png", "buffer": PNG}]
    )


def test_newborn_journey_from_the_portal_to_the_mailed_results(browser: Any, live: LiveServer) -> None:  # noqa: F811
    _install(live)
    SHOTS.mkdir(parents=True, exist_ok=True)
    citizen = Browse(browser, live.url, PHONE)
    citizen.go("/portal")
    citizen.page.click("#bundles-link a")
    citizen.page.click("li[data-code='newborn'] a.btn")
    citizen.page.wait_for_selector("#apply-form")
    citizen.assert_clean()
    # Submitting with the baby's name missing keeps everything typed and names the field.
    fill_newborn(citizen.page)
    citizen.page.fill("#f-baby-name", "")
    citizen.page.click("#btn-apply")
    citizen.page.wait_for_selector("#err-f-baby-name")
    assert citizen.page.input_value("#f-baby-hospital") == NEWBORN["form"]["baby"]["hospital"]
    fill_newborn(citizen.page)
    citizen.page.screenshot(path=str(SHOTS / "bundle-apply-phone.png"), full_page=True)
    citizen.page.click("#btn-apply")
    citizen.page.wait_for_selector("#submitted")
    citizen.assert_clean()
    code = citizen.page.inner_text("#app-code").strip()
    assert re.fullmatch(r"BJ\d{17}", code)
    timeline_url = citizen.page.url
    assert timeline_url.endswith(f"/portal/applications/{code}?p=5678&new=1")
    assert citizen.page.locator("#tasks tr[data-status='pending']").count() == 1
    citizen.page.screenshot(path=str(SHOTS / "bundle-timeline-submitted-phone.png"), full_page=True)

    # Each department's handler finds its task in the inbox next to the orders and finishes it.
    for task, username in HANDLERS:
        handler = Browse(browser, live.url)
        handler.login(username)
        assert handler.page.url.endswith("/inbox")
        row = handler.page.locator(f"#bundle-tasks tr[data-code='{code}'][data-task='{task}']")
        row.locator("button[type=submit]").click()  # 受理
        handler.page.wait_for_selector(f"#form-{task}-approve")
        handler.assert_clean()
        form = handler.page.locator(f"#form-{task}-approve")
        for key, value in NEWBORN["results"][task].items():
            form.locator(f"[name='result.{key}']").fill(str(value))
        form.locator("button[type=submit]").click()
        handler.page.wait_for_selector("#done")
        handler.assert_clean()
        assert handler.page.get_attribute(f"#task-{task}", "data-status") == "approved"
        if task == "birth_certificate":
            handler.page.screenshot(path=str(SHOTS / "bundle-application-handler.png"), full_page=True)
        handler.close()

    # The window gives the packed results to the courier (统一窗口出件).
    clerk = Browse(browser, live.url)
    clerk.login("window")
    clerk.go("/window")
    clerk.page.locator(f"#hand-out tr[data-code='{code}'] button[type=submit]").click()
    clerk.page.wait_for_selector("#done")
    clerk.assert_clean()
    clerk.close()

    # The applicant's bookmarked page: every item approved, the parcel's tracking number.
    citizen.page.goto(timeline_url.replace("&new=1", ""))
    citizen.assert_clean()
    assert citizen.page.locator("#tasks tr[data-status='approved']").count() == 6
    assert citizen.page.inner_text("#tracking-no").strip() == "EMS" + code.removeprefix("BJ")
    assert "已寄出" in citizen.page.inner_text("#results")
    assert "已办结" in citizen.page.inner_text("#app-status")
    citizen.page.screenshot(path=str(SHOTS / "bundle-timeline-delivered-phone.png"), full_page=True)
    # The electronic licences: listed with their verification codes; anyone holding one verifies it.
    licences = citizen.page.locator("#licences li")
    assert licences.count() >= 3
    assert "出生医学证明" in citizen.page.inner_text("#licences")
    first = licences.first
    with citizen.page.expect_download() as download:
        first.locator("a[download]").click()
    assert download.value.suggested_filename == first.get_attribute("data-code") + ".json"
    first.locator("a[href^='/verify/']").click()
    citizen.page.wait_for_selector("#verdict")
    assert citizen.page.get_attribute("#verdict", "data-status") == "valid"
    citizen.go(f"/bundles/newborn?app={code}&p=5678")
    assert citizen.page.locator("#process g[data-state='approved']").count() == 6
    citizen.close()


def test_a_window_clerk_registers_a_walk_in(browser: Any, live: LiveServer) -> None:  # noqa: F811
    _install(live)
    SHOTS.mkdir(parents=True, exist_ok=True)
    clerk = Browse(browser, live.url)
    clerk.login("window")
    clerk.go("/window")
    clerk.page.click("#register-bundles li[data-code='newborn'] a")
    clerk.page.wait_for_selector("#window-fields")
    clerk.assert_clean()
    clerk.page.check("input[name='mode'][value='window']")
    clerk.page.select_option("#green_channel", "elderly")
    fill_newborn(clerk.page)
    clerk.page.fill("#note", "老人腿脚不便，窗口人员协助填表")
    clerk.page.screenshot(path=str(SHOTS / "window-register.png"), full_page=True)
    clerk.page.click("#btn-apply")
    clerk.page.wait_for_selector("#done")
    clerk.assert_clean()
    assert "绿色通道" in clerk.page.inner_text("#green")
    code = re.search(r"BJ\d{17}", clerk.page.inner_text("h1")).group(0)
    assert "窗口受理" in clerk.page.inner_text("main")
    clerk.page.click("text=← 返回")
    clerk.page.wait_for_selector("#registered")
    row = clerk.page.locator(f"#registered tr[data-code='{code}']")
    assert "绿色通道" in row.inner_text() and "待受理" not in row.inner_text()
    clerk.page.screenshot(path=str(SHOTS / "window-console.png"), full_page=True)
    # The department sees the walk-in first in its inbox (green channel).
    handler = Browse(browser, live.url)
    handler.login("h_wjw")
    first = handler.page.locator("#bundle-tasks tbody tr").first
    assert first.get_attribute("data-code") == code and "绿色通道" in first.inner_text()
    handler.close()
    clerk.close()
