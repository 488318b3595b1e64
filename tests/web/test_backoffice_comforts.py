"""Back-office comforts (issue 13, part 4): caller history in the console, bulk dispatch and bulk sign."""

from __future__ import annotations

import re
from typing import Any

from tests.builders import make_order
from tests.web.language import untranslated
from tests.web.test_language import ECHOED
from tests.web.test_pages_access import login


def test_caller_history_lists_the_numbers_earlier_orders(client: Any, rt: Any) -> None:
    earlier = make_order(rt, status="signed")  # citizen_phone 13812345678
    login(client, "operator")
    page = client.get("/console").text
    assert 'id="caller-panel"' in page
    r = client.get("/console/caller?phone=138 1234 5678")
    assert r.status_code == 200
    codes = [o["code"] for o in r.json()["orders"]]
    assert earlier in codes
    first = r.json()["orders"][0]
    assert first["status_label"] == "办理中" and first["department"] == "市城市管理和综合执法局"
    assert client.get("/console/caller?phone=13900000000").json()["orders"] == []
    assert client.get("/console/caller?phone=12").json()["orders"] == []
    login(client, "h_cgj")  # not a call-centre page
    assert client.get("/console/caller?phone=13812345678", follow_redirects=False).status_code == 403


def test_bulk_dispatch_from_the_queue(client: Any, rt: Any) -> None:
    a = make_order(rt, status="pending_dispatch")
    b = make_order(rt, status="pending_dispatch")
    signed = make_order(rt, status="signed")  # not in the queue: refused, the others go through
    login(client, "dispatcher")
    page = client.get("/console/queue").text
    assert 'id="bulk-form"' in page and f'value="{a}" form="bulk-form"' in page
    r = client.post(
        "/console/queue/bulk",
        data={"codes": [a, b, signed], "department": "cgj"},
        follow_redirects=True,
    )
    assert r.status_code == 200
    done = r.text[r.text.index('id="bulk-done"') :]
    done = done[: done.index("</p>")]
    assert a in done and b in done and signed not in done
    failed = r.text[r.text.index('id="bulk-failed"') :]
    assert signed in failed[: failed.index("</div>")]
    assert not untranslated(r.text, "zh", allow=ECHOED)
    for code in (a, b):
        assert client.get(f"/api/v1/orders/{code}").json()["status"] == "dispatched"
    r = client.post("/console/queue/bulk", data={"department": "cgj"}, follow_redirects=True)
    assert "请先勾选工单" in r.text


def test_bulk_sign_in_the_inbox(client: Any, rt: Any) -> None:
    a = make_order(rt, status="dispatched")
    b = make_order(rt, status="dispatched")
    login(client, "h_cgj")
    page = client.get("/inbox?tab=to_sign").text
    assert 'id="bulk-sign"' in page
    r = client.post("/inbox/bulk_sign", data={"codes": [a, b]}, follow_redirects=True)
    assert r.status_code == 200
    assert re.search(r'id="bulk-done">[^<]*已批量签收', r.text)
    page = client.get("/inbox?tab=handling").text
    assert a in page and b in page


def test_reply_templates_per_category_on_the_reply_form(client: Any, rt: Any) -> None:
    code = make_order(rt, status="signed")
    login(client, "h_cgj")
    page = client.get(f"/orders/{code}").text
    assert 'id="reply-template"' in page and 'data-target="reply-reply"' in page
    options = re.findall(r'<option value="([^"]+)" data-template="\d+" translate="no">([^<]+)</option>', page)
    assert options and all("{" not in text for text, _title in options)
    assert any("市城市管理和综合执法局" in text for text, _title in options)  # the lead department filled in
    assert any(title.startswith("已核实办结") for _text, title in options)  # named by their titles
    assert not untranslated(client.get(f"/orders/{code}?lang=en").text, "en")
    login(client, "supervisor")  # no reply form, no templates
    assert 'id="reply-template"' not in client.get(f"/orders/{code}").text
