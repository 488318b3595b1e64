"""Browser: a parent confirms the 育儿补贴 pushed for their child, on Debian's Chromium."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from haoban.auth.actors import SYSTEM_ACTOR
from haoban.benefits import matching, sources, store
from haoban.benefits.models import Grant
from tests.benefits.conftest import TODAY, birthday
from tests.web.test_browser import PHONE, SHOTS, Browse, LiveServer, live  # noqa: F401

pytestmark = pytest.mark.browser


def test_a_parent_confirms_a_pushed_childcare_subsidy(browser: Any, live: LiveServer) -> None:  # noqa: F811
    from haoban.benefits import demo

    rt = live.rt
    parent = demo.id_number(birthday(31), False, 3)
    child = demo.id_number(birthday(1, 2), True, 4)
    with rt.db.write() as session:
        store.install_shipped(session, actor=SYSTEM_ACTOR)
        common = {"district": "珠晖区", "hukou_status": "active"}
        sources.store_rows(
            session,
            source=sources.RESIDENTS,
            rows=[
                {
                    "id_number": parent,
                    "name": "示例妈妈",
                    "sex": "F",
                    "birth_date": birthday(31),
                    **common,
                    "phone": "13912348765",
                    "bank_account": "6217001234567890",
                    "guardian_id_number": None,
                },
                {
                    "id_number": child,
                    "name": "示例宝宝",
                    "sex": "M",
                    "birth_date": birthday(1, 2),
                    **common,
                    "phone": None,
                    "bank_account": None,
                    "guardian_id_number": parent,
                },
            ],
            filename="test",
            actor=SYSTEM_ACTOR,
        )
        matching.match(session, today=TODAY)
    with rt.db.read() as session:
        code = session.scalars(select(Grant.code).where(Grant.policy_code == "childcare_subsidy")).one()

    for viewport, name in ((None, "desktop"), (PHONE, "phone")):
        b = Browse(browser, live.url, **({"viewport": viewport} if viewport else {}))
        b.go("/portal")
        b.page.click("#benefits-link a")
        b.page.fill("#bn-code", code)
        b.page.fill("#bn-last4", "8765")
        b.page.click("#bn-person button[type=submit]")
        b.page.wait_for_load_state()
        b.assert_clean()
        card = b.page.locator(f"#grant-{code}")
        assert "育儿补贴" in card.inner_text() and "¥300.00" in card.inner_text()
        if name == "desktop":
            assert "6217 **** **** 7890" in card.inner_text()
            SHOTS.mkdir(parents=True, exist_ok=True)
            b.page.screenshot(path=str(SHOTS / "benefits-portal-desktop.png"), full_page=True)
            card.locator("button[name=confirm]").click()
            b.page.wait_for_load_state()
            b.assert_clean()
            assert b.page.locator(f"#grant-{code}").get_attribute("data-status") == "confirmed"
            assert "已确认" in b.page.inner_text("#bn-list")
        else:
            assert b.page.locator(f"#grant-{code}").get_attribute("data-status") == "confirmed"
            b.page.screenshot(path=str(SHOTS / "benefits-portal-phone.png"), full_page=True)
        b.close()
    with rt.db.read() as session:
        g = session.scalars(select(Grant).where(Grant.code == code)).one()
    assert g.status == "confirmed" and g.account == "6217001234567890"
