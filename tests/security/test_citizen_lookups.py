"""Issue 10, citizens' look-ups: one limiter for every look-up by code, the same answer for a wrong code
and wrong digits, codes that cannot be walked, and X-Forwarded-For believed from trusted proxies only."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from sqlalchemy import update
from starlette.requests import Request

from haoban.config import Settings
from haoban.deps import client_address
from haoban.orders.models import Order
from tests.conftest import Api


def _lookups(client: Any, code: str) -> list[Any]:
    return [
        lambda: client.get(f"/api/v1/track/{code}", params={"phone_last4": "0000"}),
        lambda: client.get(f"/api/v1/ratings/{code}", params={"phone_last4": "0000"}),
        lambda: client.post("/portal/track", data={"code": code, "phone_last4": "0000"}),
    ]


def test_one_allowance_for_every_lookup_by_code(client: Any, rt: Any, api: Api) -> None:
    code = api.create()["code"]
    limit = rt.settings.track_rate_per_minute
    calls = _lookups(client, code)
    statuses = [calls[i % 3]().status_code for i in range(limit + 6)]
    assert 429 not in statuses[:limit]
    assert set(statuses[limit:]) == {429}  # track, ratings and the portal drew on one allowance


def test_x_forwarded_for_does_not_reset_the_count(client: Any, rt: Any, api: Api) -> None:
    code = api.create()["code"]
    limit = rt.settings.track_rate_per_minute
    answered = 0
    for i in range(100):
        r = client.get(
            f"/api/v1/track/{code}",
            params={"phone_last4": "0000"},
            headers={"X-Forwarded-For": f"203.0.113.{i}"},
        )
        answered += r.status_code != 429
    assert answered == limit
    # The portal's filing limit holds the same way.
    filed = 0
    for i in range(15):
        r = client.post(
            "/portal/file",
            data={
                "type": "complaint",
                "content": f"路灯坏了第{i}天了，晚上很黑",
                "citizen_phone": "13812345678",
            },
            headers={"X-Forwarded-For": f"198.51.100.{i}"},
            follow_redirects=False,
        )
        filed += r.status_code == 303
    assert filed == 10


def _request(peer: str, xff: str | None, trusted: str) -> Request:
    settings = Settings(database_url="sqlite://", secret_key="k" * 40, trusted_proxies=trusted)
    app = SimpleNamespace(state=SimpleNamespace(runtime=SimpleNamespace(settings=settings)))
    headers = [(b"x-forwarded-for", xff.encode())] if xff else []
    scope = {"type": "http", "client": (peer, 1234), "headers": headers, "app": app}
    return Request(scope)


def test_trusted_proxies_are_configured_explicitly() -> None:
    # Default: nobody is trusted, whatever the header says.
    assert client_address(_request("127.0.0.1", "198.51.100.7", "")) == "127.0.0.1"
    # A trusted proxy's header names the client: the right-most hop that is not a trusted proxy.
    trusted = "10.0.0.0/8,127.0.0.1"
    assert client_address(_request("10.0.0.5", "198.51.100.7", trusted)) == "198.51.100.7"
    assert client_address(_request("10.0.0.5", "6.6.6.6, 198.51.100.7, 10.0.0.9", trusted)) == "198.51.100.7"
    # An untrusted peer's header is ignored.
    assert client_address(_request("192.0.2.1", "198.51.100.7", trusted)) == "192.0.2.1"


def test_ratings_answer_a_right_code_like_a_wrong_one(client: Any, api: Api) -> None:
    order = api.create(citizen_phone="13812345678")
    wrong_code = client.get("/api/v1/ratings/HB20000101000001", params={"phone_last4": "5678"})
    wrong_digits = client.get(f"/api/v1/ratings/{order['code']}", params={"phone_last4": "0000"})
    right_unrated = client.get(f"/api/v1/ratings/{order['code']}", params={"phone_last4": "5678"})
    assert wrong_code.status_code == wrong_digits.status_code == right_unrated.status_code == 404
    assert wrong_code.json() == wrong_digits.json() == right_unrated.json()


def test_codes_cannot_be_walked_and_old_codes_stay_valid(client: Any, api: Api, rt: Any) -> None:
    codes = [api.create()["code"] for _ in range(6)]
    assert all(len(c) == 19 for c in codes)
    sequence = [int(c[10:16]) for c in codes]
    assert sequence == sorted(sequence)  # still readable: day and running number
    tails = {c[16:] for c in codes}
    assert len(tails) >= 3  # the tail is random: the next code cannot be derived from this one
    # A code in the old format (issued before) still tracks.
    with rt.db.write() as session:
        session.execute(update(Order).where(Order.code == codes[0]).values(code="HB20200101000001"))
    r = client.get("/api/v1/track/HB20200101000001", params={"phone_last4": "5678"})
    assert r.status_code == 200, r.text
