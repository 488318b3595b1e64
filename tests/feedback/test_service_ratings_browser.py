"""Browser: a window clerk registers a visit and hands out its QR code; the person opens the link on a
phone, enters the last four digits of their phone and gives a 差评 about the wait; the department answers
on its page, a supervisor accepts, and the person's bookmarked page shows what was done. Screenshots in
test-output/screenshots/."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.test_browser import PHONE, SHOTS, Browse, LiveServer, live  # noqa: F401

pytestmark = pytest.mark.browser
PERSON_PHONE = "13700004321"


def _shot(b: Browse, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    b.page.screenshot(path=str(SHOTS / f"service-rating-{name}.png"), full_page=True)


def test_a_visit_is_rated_on_a_phone_and_put_right(browser: Any, live: LiveServer) -> None:  # noqa: F811
    clerk = Browse(browser, live.url)
    clerk.login("window")
    clerk.page.click("#svc-visits-link")
    clerk.page.fill("#visit-item", "gaj-official-seal-engraving")
    clerk.page.fill("#visit-phone", PERSON_PHONE)
    clerk.page.click("#btn-visit")
    clerk.assert_clean()
    code = clerk.page.inner_text("#visit-code").strip()
    assert code.startswith("CK") and clerk.page.locator("#visit-qr svg").count() == 1
    link = clerk.page.get_attribute("#visit-link", "href")
    _shot(clerk, "slip")

    person = Browse(browser, live.url, viewport=PHONE)
    person.go(link or "")
    assert person.page.input_value("#sr-code") == code
    person.page.fill("#sr-last4", PERSON_PHONE[-4:])
    person.page.click("#btn-svc-next")
    person.assert_clean()
    bookmark = person.page.url
    assert PERSON_PHONE[-4:] not in bookmark
    person.page.check("input[name=level][value=unsatisfied]")
    person.page.check("input[name=aspects][value=efficiency]")
    person.page.fill("#svc-comment", "排队一个多小时")
    _shot(person, "form-phone")
    person.page.click("#btn-svc-rate")
    person.assert_clean()
    assert "不满意" in person.page.inner_text("#svc-rated")
    assert person.page.locator("#svc-rectification").count() == 1

    dept = Browse(browser, live.url)
    dept.login("h_gaj")
    dept.page.click("#svc-rects-link")
    card = dept.page.locator("article", has_text=code)
    card.locator("textarea[name=answer]").fill("高峰期增开两个窗口，并推行网上预约")
    card.locator("button[type=submit]").click()
    dept.assert_clean()
    assert dept.page.locator("#rect-done").count() == 1

    boss = Browse(browser, live.url)
    boss.login("supervisor")
    boss.go("/rectifications/services?status=answered")
    card = boss.page.locator("article", has_text=code)
    card.locator("select[name=decision]").select_option("accept")
    card.locator("form.review-form button[type=submit]").click()
    boss.assert_clean()

    person.page.goto(bookmark)
    assert "高峰期增开两个窗口" in person.page.inner_text("#svc-rect-answer")
    _shot(person, "result-phone")
    for b in (clerk, person, dept, boss):
        b.close()
