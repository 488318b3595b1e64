"""The visitor's pages: book a slot, see the QR e-ticket, refund; the gate's scan page."""

from __future__ import annotations

import re
from typing import Any

from tests.tourism.conftest import open_day
from tests.tourism.ids import id_number


def _login(client: Any, username: str) -> None:
    r = client.post("/login", data={"username": username, "password": "demo"}, follow_redirects=False)
    assert r.status_code == 303, r.text


def test_book_show_qr_check_in_at_the_gate(places_rt: Any, client: Any) -> None:
    day = open_day(client, "nanyue-damiao")
    page = client.get("/tour/places/nanyue-damiao")
    assert 'id="book-link"' in page.text
    form = client.get("/tour/places/nanyue-damiao/book", params={"day": day})
    assert form.status_code == 200
    slot_id = re.findall(r'name="slot_id" value="(\d+)"', form.text)[0]
    bad = client.post(
        "/tour/places/nanyue-damiao/book",
        data={
            "day": day,
            "slot_id": slot_id,
            "name_0": "张三",
            "id_0": "430400199001010000",
            "phone": "13912345678",
        },
    )
    assert bad.status_code == 422 and 'id="err-id_0"' in bad.text
    r = client.post(
        "/tour/places/nanyue-damiao/book",
        data={"day": day, "slot_id": slot_id, "name_0": "张三", "id_0": id_number(5), "phone": "13912345678"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    order = client.get(r.headers["location"])
    assert order.status_code == 200 and "<svg" in order.text and 'data-status="valid"' in order.text
    serial = re.findall(r'class="mono serial">([A-Z0-9]+)<', order.text)[0]

    _login(client, "gate")
    assert client.get("/tour/gate").status_code == 200
    # A typed serial works before the visit day only if the day has come: this one is for a later day.
    early = client.post("/tour/gate", data={"gate": "东门", "code": serial})
    assert early.status_code == 409 and 'data-reason="early"' in early.text
    client.cookies.clear()
    assert client.get("/tour/gate", follow_redirects=False).status_code == 303  # login first

    # Refund from the order page: the ticket is refunded and its QR code disappears.
    location = r.headers["location"]
    key = location.split("k=", 1)[1]
    code = location.split("/tour/orders/", 1)[1].split("?", 1)[0]
    done = client.post(
        f"/tour/orders/{code}/refund", data={"k": key, "serial": serial}, follow_redirects=True
    )
    assert done.status_code == 200 and 'data-status="refunded"' in done.text and "<svg" not in done.text
    assert client.get(f"/tour/orders/{code}", params={"k": "wrong-key-000"}).status_code == 404
