"""Issue 13, photos: several per appeal, checked by content, EXIF GPS read and every other EXIF byte
stripped, thumbnails; staff see them on the order and attach their own to the reply; the citizen sees
the department's only with the approved reply; the edge refuses oversize bodies."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from PIL import Image

from haoban.errors import Invalid
from haoban.orders import attachments
from tests.conftest import Api
from tests.portal.photos import jpeg_with_gps, png

TEXT = "蒸湘区解放大道边的人行道砖大面积翘起，老人经过时容易绊倒，请尽快修复。"


def test_clean_reads_gps_strips_exif_and_shrinks() -> None:
    raw = jpeg_with_gps(26.8935, 112.6154)
    assert b"HaobanCam" in raw and b"secret comment" in raw
    photo = attachments.clean(raw)
    assert (photo.latitude, photo.longitude) == (26.8935, 112.6154)
    assert photo.content_type == "image/jpeg" and max(photo.width, photo.height) == attachments.MAX_SIDE
    for blob in (photo.data, photo.thumb):
        assert b"HaobanCam" not in blob and b"secret comment" not in blob and b"Exif" not in blob
        assert not Image.open(io.BytesIO(blob)).getexif()
    thumb = Image.open(io.BytesIO(photo.thumb))
    assert max(thumb.size) == attachments.THUMB_SIDE
    small = attachments.clean(png())
    assert small.content_type == "image/png" and (small.latitude, small.longitude) == (None, None)
    assert small.width == 300  # never enlarged


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"GIF89a" + b"\x00" * 100,  # another kind of image
        b"%PDF-1.4 not a photo",
        b"\xff\xd8\xff\xe0" + b"garbage" * 50,  # JPEG magic, but no image behind it
        b"<svg xmlns='http://www.w3.org/2000/svg'></svg>",
    ],
)
def test_clean_refuses_what_is_not_a_photo(raw: bytes) -> None:
    with pytest.raises(Invalid) as info:
        attachments.clean(raw, name="x.jpg")
    assert "photos" in info.value.detail["fields"]


def test_a_png_named_jpg_is_judged_by_content() -> None:
    assert attachments.clean(png()).content_type == "image/png"


def _file(client: Any, files: list[tuple[str, tuple[str, bytes, str]]], **extra: str) -> Any:
    form = {"type": "complaint", "content": TEXT, "citizen_phone": "13900004321", **extra}
    return client.post("/portal/file", data=form, files=files, follow_redirects=False)


def test_filing_with_photos_and_both_sides_see_them(client: Any, api: Api) -> None:
    client.cookies.clear()
    files = [
        ("photos", ("a.jpg", jpeg_with_gps(), "image/jpeg")),
        ("photos", ("b.png", png(), "image/png")),
    ]
    r = _file(client, files)
    assert r.status_code == 303, r.text
    code = r.headers["location"].split("/")[3].split("?")[0]
    page = client.get(r.headers["location"].replace("/filed/", "/track/"))
    srcs = re.findall(r'<img src="(/portal/track/[^"]+)"', page.text)
    assert len(srcs) == 2
    img = client.get(srcs[0].replace("&amp;", "&"))
    assert img.status_code == 200 and img.headers["content-type"] == "image/jpeg"
    assert b"HaobanCam" not in img.content
    # Without the key, no photo.
    assert client.get(srcs[0].split("?")[0] + "?k=" + "0" * 24).status_code == 404

    # Staff see them on the order page, with the camera's position; a handler attaches one to the reply.
    r = client.post("/login", data={"username": "dispatcher", "password": "demo"}, follow_redirects=False)
    page = client.get(f"/orders/{code}").text
    assert page.count(f'src="/orders/{code}/photos/') == 2 and "26.89350, 112.61540" in page
    full = client.get(re.search(rf'href="(/orders/{code}/photos/\d+)"', page).group(1))  # type: ignore[union-attr]
    assert full.status_code == 200 and Image.open(io.BytesIO(full.content)).size == (1600, 1200)
    status = api.get(f"/api/v1/orders/{code}", as_="operator").json()
    if status["status"] == "pending_dispatch":
        api.act(code, "dispatch", as_="dispatcher", department="cgj")
    dept = api.get(f"/api/v1/orders/{code}", as_="operator").json()["department"]
    api.act(code, "sign", as_=f"h_{dept}")
    client.post("/login", data={"username": f"h_{dept}", "password": "demo"}, follow_redirects=False)
    r = client.post(f"/attachments/orders/{code}", files=[("photos", ("fixed.png", png(), "image/png"))])
    assert r.status_code == 200 and r.url.path == f"/orders/{code}"
    assert client.get(f"/orders/{code}").text.count(f'src="/orders/{code}/photos/') == 3
    # Not something else dressed as a photo.
    r = client.post(f"/attachments/orders/{code}", files=[("photos", ("x.jpg", b"%PDF-1.4", "image/jpeg"))])
    assert r.status_code == 422 and 'id="err-photos"' in r.text
    assert "只接受 JPEG 或 PNG 照片" in r.text  # the page's language, not the service's English
    # Another department's handler cannot fetch them.
    client.post("/login", data={"username": "h_jyj" if dept != "jyj" else "h_cgj", "password": "demo"})
    assert client.get(f"/orders/{code}/photos/1").status_code in (403, 404)

    # The citizen sees the department's photo only with the approved reply.
    client.cookies.clear()
    link = client.post("/portal/track", data={"code": code, "phone_last4": "4321"}).url
    assert len(re.findall(r'<img src="/portal/track/', client.get(str(link)).text)) == 2
    api.act(code, "reply", as_=f"h_{dept}", reply="已修复人行道砖。")
    api.act(code, "review_reply", as_="supervisor", decision="approve")
    assert len(re.findall(r'<img src="/portal/track/', client.get(str(link)).text)) == 3


def test_bad_photos_are_refused_and_nothing_is_filed(client: Any, rt: Any) -> None:
    from sqlalchemy import func, select

    from haoban.orders.models import Order

    def count() -> int:
        with rt.db.read() as session:
            return int(session.scalar(select(func.count()).select_from(Order)) or 0)

    client.cookies.clear()
    before = count()
    r = _file(client, [("photos", ("x.jpg", b"GIF89a" + b"\x00" * 64, "image/jpeg"))])
    assert r.status_code == 422 and 'id="err-photos"' in r.text and "x.jpg" in r.text
    five = [("photos", (f"{i}.png", png(), "image/png")) for i in range(5)]
    r = _file(client, five)
    assert r.status_code in (413, 422)
    assert count() == before
    # The edge: one photo over 8 MB is refused before the route reads it.
    big = b"\xff\xd8\xff" + b"\x00" * (8 * 1024 * 1024 + 10)
    r = _file(client, [("photos", ("big.jpg", big, "image/jpeg"))])
    assert r.status_code == 413
    assert count() == before


def test_photo_place_offers_the_camera_position(client: Any) -> None:
    client.cookies.clear()
    r = client.post(
        "/portal/photo-place", files=[("photo", ("a.jpg", jpeg_with_gps(27.1, 112.7), "image/jpeg"))]
    )
    assert r.status_code == 200 and r.json() == {"latitude": 27.1, "longitude": 112.7}
    r = client.post("/portal/photo-place", files=[("photo", ("b.png", png(), "image/png"))])
    assert r.json() == {"latitude": None, "longitude": None}
    r = client.post("/portal/photo-place", files=[("photo", ("c.jpg", b"nope", "image/jpeg"))])
    assert r.status_code == 422
