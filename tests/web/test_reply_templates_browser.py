"""A handler replies with a reply template in Chromium (issue 13): the picker offers the templates of the
order's category (not another category's), picking one fills the reply box with the order's values, and
the reply is sent."""

from __future__ import annotations

from typing import Any

import pytest

from haoban.orders import access
from haoban.orders import reply_templates as templates
from tests.builders import actors, make_order
from tests.web.test_browser import Browse, LiveServer, live  # noqa: F401

pytestmark = pytest.mark.browser

ROAD = "城乡建设/城市建设和市政管理"


def test_handler_picks_a_template_for_the_orders_category(browser: Any, live: LiveServer) -> None:  # noqa: F811
    rt = live.rt
    code = make_order(rt, status="signed")
    admin = actors(rt)["admin"]
    with rt.db.write() as session:
        access.load(session, code).category_id = rt.directory.category(ROAD).id  # type: ignore[union-attr]
        for title, category, body in (
            ("路灯修复", ROAD, "您好！{department}已修复工单{code}反映的路灯。"),
            ("公交投诉", "交通运输", "您好！公交公司已……"),
        ):
            templates.create_template(
                session,
                data=templates.ReplyTemplateIn(title=title, category=category, body=body),
                directory=rt.directory,
                actor=admin,
            )
    b = Browse(browser, live.url)
    b.login("h_cgj")
    b.go(f"/orders/{code}")
    labels = b.page.eval_on_selector_all("#reply-template option", "os => os.map(o => o.textContent.trim())")
    assert labels[1] == "路灯修复 · 城市建设和市政管理"  # the order's own category first
    assert not any("公交投诉" in x for x in labels)  # another category's is not offered
    assert any(x.startswith("已核实办结") for x in labels)  # the general ones too
    b.page.select_option("#reply-template", label="路灯修复 · 城市建设和市政管理")
    filled = f"您好！市城市管理和综合执法局已修复工单{code}反映的路灯。"
    assert b.page.input_value("#reply-reply") == filled
    assert b.page.evaluate("() => document.activeElement.id") == "reply-reply"  # ready to edit
    b.page.click("#btn-reply")
    b.page.wait_for_load_state()
    b.assert_clean()
    with rt.db.read() as session:
        order = access.load(session, code)
        assert order is not None and order.status == "replied" and order.reply_text == filled
    b.close()
