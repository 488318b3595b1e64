"""Keyboard-only journeys in Chromium (issue 18): filing an appeal, tracking it, rating it, and asking staff
to call back — with Tab, Enter and Space only (and typing into fields). Every stop shows a visible focus
ring; the skip link is the first stop and moves the focus into the main part; after a failed submit the
focus lands on the first field in error."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.builders import make_order
from tests.web.test_browser import DESKTOP, PHONE, Browse, LiveServer, live  # noqa: F401

pytestmark = pytest.mark.browser

MAX_TABS = 80


def focused(page: Any) -> dict[str, Any]:
    return page.evaluate(
        """() => { const e = document.activeElement; const s = getComputedStyle(e);
        const r = e.getBoundingClientRect();
        return { id: e.id, tag: e.tagName.toLowerCase(), name: e.getAttribute('name'), type: e.type || '',
          cls: e.className || '', outline: s.outlineStyle + ' ' + s.outlineWidth,
          invalid: e.getAttribute('aria-invalid'), inView: r.width > 0 && r.height > 0 && r.left >= 0 }; }"""
    )


def tab_to(page: Any, selector: str) -> int:
    """Press Tab until ``selector`` has the focus; every element passed on the way shows a focus ring."""
    for n in range(1, MAX_TABS + 1):
        page.keyboard.press("Tab")
        f = focused(page)
        if f["tag"] != "body" and f["tag"] != "main":
            assert not f["outline"].startswith("none"), f"no visible focus on {f}"
        if page.evaluate("(s) => document.activeElement === document.querySelector(s)", selector):
            return n
    raise AssertionError(f"{selector} not reached with {MAX_TABS} Tabs on {page.url}")


def submit(page: Any, key: str = "Enter") -> None:
    """Press ``key`` on the focused control and wait for the page it leads to."""
    with page.expect_navigation():
        page.keyboard.press(key)


def test_skip_link_is_first_and_moves_focus_to_main(browser: Any, live: LiveServer) -> None:  # noqa: F811
    b = Browse(browser, live.url, PHONE)
    skipped = []
    for path in ("/services", "/portal/apply", "/tour", "/portal/benefits", "/portal/rate-service"):
        b.go(path)
        b.page.keyboard.press("Tab")
        f = focused(b.page)
        if "skip" not in f["cls"]:
            # A page whose first field takes the focus on arrival still offers the skip link first.
            assert f["tag"] in ("input", "textarea", "select"), (path, f)
            continue
        skipped.append(path)
        assert f["inView"], f"the skip link is focused but not visible on {path}"
        b.page.keyboard.press("Enter")
        assert focused(b.page)["id"] == "main", path
        # The next Tab continues inside the main part, not back in the header.
        b.page.keyboard.press("Tab")
        assert b.page.evaluate("document.querySelector('main').contains(document.activeElement)"), path
    assert len(skipped) >= 3, skipped
    b.close()


def test_file_an_appeal_and_track_it_with_the_keyboard(browser: Any, live: LiveServer) -> None:  # noqa: F811
    b = Browse(browser, live.url, DESKTOP)
    b.go("/portal")
    assert focused(b.page)["id"] == "content"  # the first thing to write has the focus

    # A failed submit: the focus lands on the field in error, which says so.
    tab_to(b.page, "#file-form button[type=submit]")
    submit(b.page)
    f = focused(b.page)
    assert f["id"] == "content" and f["invalid"] == "true"
    assert b.page.is_visible("#err-content")

    b.page.keyboard.type("小区门口的路灯坏了三天，晚上很黑，请尽快修理。")
    tab_to(b.page, "#citizen_phone")
    b.page.keyboard.type("13912345678")
    tab_to(b.page, "#file-form button[type=submit]")
    submit(b.page)
    b.page.wait_for_selector("#tracking-code")
    code = b.page.inner_text("#tracking-code").strip()
    assert re.fullmatch(r"HB\d+", code)
    tab_to(b.page, "#track-link")
    submit(b.page)
    assert "/portal/track/" in b.page.url and code in b.page.inner_text("main")
    b.assert_clean()

    # Tracking from the portal's form, by code and phone digits.
    b.go("/portal")
    tab_to(b.page, "#code")
    b.page.keyboard.type(code)
    tab_to(b.page, "#phone_last4")
    b.page.keyboard.type("5678")
    submit(b.page)
    assert "/portal/track/" in b.page.url and code in b.page.inner_text("main")
    b.assert_clean()
    b.close()


def test_rate_a_finished_appeal_with_the_keyboard(browser: Any, live: LiveServer) -> None:  # noqa: F811
    code = make_order(live.rt, status="closed")  # citizen phone 13812345678
    b = Browse(browser, live.url, PHONE)
    b.go("/portal")
    tab_to(b.page, "#code")
    b.page.keyboard.type(code)
    tab_to(b.page, "#phone_last4")
    b.page.keyboard.type("5678")
    tab_to(b.page, "#track button[type=submit]")
    submit(b.page)
    b.page.wait_for_selector("#rate-form")

    # Submitting without a level: the focus goes to the first level, marked invalid.
    tab_to(b.page, "#btn-rate")
    submit(b.page)
    b.page.wait_for_selector("#err-level")
    f = focused(b.page)
    assert f["name"] == "level" and f["type"] == "radio", f

    b.page.keyboard.press("Space")  # choose the focused level
    level = b.page.evaluate("document.activeElement.value")
    assert b.page.evaluate("document.activeElement.checked")
    tab_to(b.page, "#rate-comment")
    b.page.keyboard.type("修得很快")
    tab_to(b.page, "#btn-rate")
    submit(b.page)
    b.page.wait_for_selector("#rated")
    assert "修得很快" in b.page.inner_text("#rate")
    assert level
    b.assert_clean()
    b.close()


def test_ask_staff_to_call_back_with_the_keyboard(browser: Any, live: LiveServer) -> None:  # noqa: F811
    b = Browse(browser, live.url, PHONE)
    b.go("/services")
    tab_to(b.page, "#call-me-back")
    submit(b.page)
    b.page.wait_for_selector("#help-form")
    assert focused(b.page)["id"] == "hp-name"
    b.page.keyboard.type("王奶奶")
    tab_to(b.page, "#hp-phone")
    b.page.keyboard.type("13912345678")
    tab_to(b.page, "#hp-need")
    b.page.keyboard.type("想办老年证")
    # The time choices: Tab enters the group on the checked one; Space keeps it.
    tab_to(b.page, "input[name=preferred_time]:checked")
    b.page.keyboard.press("Space")
    tab_to(b.page, "#hp-submit")
    submit(b.page)
    b.page.wait_for_selector("#help-code")
    assert b.page.inner_text("#help-code").startswith("BB")
    b.assert_clean()
    b.close()


def test_in_the_elderly_mode_the_fixed_help_bar_never_hides_the_focus(
    browser: Any,
    live: LiveServer,  # noqa: F811
) -> None:
    """长辈版 keeps its help bar fixed at the bottom of the screen: Tab must never land under it."""
    b = Browse(browser, live.url, PHONE)
    b.ctx.add_cookies([{"name": "haoban_care", "value": "1", "url": live.url}])
    hidden: list[str] = []
    for path in ("/portal", "/portal/help", "/services"):
        b.go(path)
        assert b.page.evaluate("document.documentElement.classList.contains('care')")
        for _ in range(30):
            b.page.keyboard.press("Tab")
            where = b.page.evaluate(
                """() => { const e = document.activeElement; const bar = document.getElementById('care-bar');
                if (!e || bar.contains(e) || e === document.body) return null;
                const r = e.getBoundingClientRect(); if (!r.width || !r.height) return null;
                const x = Math.min(r.left + r.width / 2, innerWidth - 1);
                const y = r.top + Math.min(r.height / 2, 20);
                const top = document.elementFromPoint(x, y);
                return (top && bar.contains(top)) ? (e.id || e.name || e.tagName) : null; }"""
            )
            if where:
                hidden.append(f"{path}: {where}")
    assert hidden == []
    b.close()
