"""Attachments both ways (issue 13): a handler attaches photos on the reply form itself, in the same step
as the reply; a bad file refuses the whole reply (nothing written, the text kept, the error beside the
photo field in the page's language); the citizen sees the reply's photos once the reply is approved."""

from __future__ import annotations

import re
from typing import Any

from haoban.orders import access, attachments
from tests.builders import make_order
from tests.conftest import Api
from tests.portal.photos import jpeg_with_gps, png
from tests.web.language import untranslated
from tests.web.test_pages_access import login


def _staff_photos(rt: Any, code: str) -> list[Any]:
    with rt.db.read() as session:
        order = access.load(session, code)
        assert order is not None
        return attachments.list_for(session, order_id=order.id, origin="staff")


def test_reply_with_photos_in_one_step(client: Any, api: Api, rt: Any) -> None:
    code = make_order(rt, status="signed")
    login(client, "h_cgj")
    page = client.get(f"/orders/{code}").text
    form = page[page.index('id="form-reply"') - 200 : page.index('id="btn-reply"')]
    assert 'enctype="multipart/form-data"' in form and 'id="reply-photos"' in form

    # a file that is not a photo: the reply is refused as a whole, the typed text kept
    r = client.post(
        f"/orders/{code}/act/reply",
        data={"reply": "已修复路灯。"},
        files=[("photos", ("fix.jpg", b"%PDF-1.4 not a photo", "image/jpeg"))],
    )
    assert r.status_code == 422 and 'id="err-reply-photos"' in r.text
    assert "不是可读取的 JPEG 或 PNG 图片" in r.text and "已修复路灯。" in r.text
    assert not untranslated(r.text, "zh", allow={"fix", "jpg"})
    assert api.get(f"/api/v1/orders/{code}", as_="h_cgj").json()["status"] == "signed"
    assert _staff_photos(rt, code) == []

    r = client.post(
        f"/orders/{code}/act/reply",
        data={"reply": "已修复路灯，见照片。"},
        files=[
            ("photos", ("before.jpg", jpeg_with_gps(), "image/jpeg")),
            ("photos", ("after.png", png(), "image/png")),
        ],
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert api.get(f"/api/v1/orders/{code}", as_="h_cgj").json()["status"] == "replied"
    shots = _staff_photos(rt, code)
    assert len(shots) == 2 and all(s.public and s.uploaded_by for s in shots)
    assert client.get(f"/orders/{code}").text.count(f'src="/orders/{code}/photos/') == 2

    # the citizen sees them only once the reply is approved
    client.cookies.clear()
    link = client.post("/portal/track", data={"code": code, "phone_last4": "5678"}).url
    assert not re.findall(r'<img src="/portal/track/', client.get(str(link)).text)
    api.act(code, "review_reply", as_="supervisor", decision="approve")
    assert len(re.findall(r'<img src="/portal/track/', client.get(str(link)).text)) == 2


def test_a_reply_without_photos_still_works_and_other_actions_take_none(
    client: Any, api: Api, rt: Any
) -> None:
    code = make_order(rt, status="signed")
    login(client, "h_cgj")
    r = client.post(f"/orders/{code}/act/reply", data={"reply": "已修复。"}, follow_redirects=False)
    assert r.status_code == 303
    assert _staff_photos(rt, code) == []
    other = make_order(rt, status="dispatched")
    r = client.post(
        f"/orders/{other}/act/sign",
        data={},
        files=[("photos", ("a.png", png(), "image/png"))],
        follow_redirects=False,
    )
    assert r.status_code == 303 and _staff_photos(rt, other) == []  # only the reply carries photos
