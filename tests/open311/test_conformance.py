"""Conformance with a third-party client: the ``georeport`` package from PyPI (a thin GeoReport v2 wrapper
over ``requests`` and ``xmltodict``) talks to the app on a live loopback server, in XML and in JSON.

georeport 0.3.1 has no call that creates a request (it only reads), so the POSTs here are plain
form-encoded ``requests.post`` calls to the client's own ``root_address`` with its ``api_key``, exactly as
the spec describes them; everything read back goes through the client.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
import xmltodict
from georeport import GeoReport

from haoban.auth.actors import SYSTEM_ACTOR
from haoban.open311 import keys
from haoban.orders.intake import prepare_order, write_prepared
from haoban.orders.schemas import OrderCreate
from haoban.runtime import Runtime
from tests.builders import actors, make_order
from tests.web.test_browser import LiveServer

NOISE = "环境保护/环境污染/噪音污染"
LAMPS = "城乡建设/城市建设和市政管理/城市公共设施"
W3C = "%Y-%m-%dT%H:%M:%SZ"


@pytest.fixture
def server(rt: Runtime) -> Iterator[LiveServer]:
    with LiveServer(rt) as live:
        yield live


def _key(rt: Runtime) -> str:
    with rt.db.write() as session:
        return keys.issue_key(session, actor=SYSTEM_ACTOR, name="georeport conformance").api_key


def _code(rt: Runtime, path: str) -> str:
    ref = rt.directory.category(path)
    assert ref is not None
    return ref.code


def _as_list(value: Any) -> list[dict[str, Any]]:
    """xmltodict gives one element as a dict and several as a list."""
    return value if isinstance(value, list) else [value]


def _post(client: GeoReport, fmt: str, **fields: str) -> requests.Response:
    return requests.post(
        f"{client.root_address}/requests.{fmt}", data={"api_key": client.api_key or "", **fields}, timeout=30
    )


def _old_order(rt: Runtime, category: str, days_ago: int) -> str:
    data = OrderCreate(
        type="complaint", content="老旧路灯不亮，请维修。", citizen_phone="13812345678", category=category
    )
    with rt.db.write() as session:
        prepared = prepare_order(
            rt, data=data, actor=actors(rt)["operator"], now=datetime.now(UTC) - timedelta(days=days_ago)
        )
        return write_prepared(session, [prepared])[0].code


def _errors(exc: requests.HTTPError, fmt: str) -> list[dict[str, Any]]:
    response = exc.response
    assert response is not None
    if fmt == "json":
        return list(response.json())
    return [
        {"code": int(e["code"]), "description": e["description"]}
        for e in _as_list(xmltodict.parse(response.content)["errors"]["error"])
    ]


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_the_georeport_client_reads_what_we_serve(server: LiveServer, rt: Runtime, fmt: str) -> None:
    client = GeoReport(f"{server.url}/open311/v2", api_key=_key(rt), output_format=fmt)
    noise, lamps = _code(rt, NOISE), _code(rt, LAMPS)

    services = _as_list(client.get_service_list())
    by_code = {s["service_code"]: s for s in services}
    assert len(by_code) == len(rt.directory.categories_by_id)
    assert str(by_code[noise]["metadata"]).lower() == "true" and by_code[noise]["type"] == "realtime"
    assert by_code[noise]["group"] == "环境保护"

    definition = client.get_service_definition(noise)
    assert definition["service_code"] == noise
    attributes = (
        definition["attributes"] if fmt == "json" else _as_list(definition["attributes"]["attribute"])
    )
    period = attributes[0]
    assert period["code"] == "noise_period" and str(period["required"]).lower() == "true"
    values = period["values"] if fmt == "json" else _as_list(period["values"]["value"])
    assert [v["key"] for v in values] == ["day", "night", "both"]

    # Two noise reports and one street-lamp report, posted as the spec says (form-encoded, api_key).
    posted = []
    for service, extra in (
        (noise, {"attribute[noise_period]": "night", "lat": "26.8968", "long": "112.5719"}),
        (noise, {"attribute[noise_period]": "day", "address_string": "雁峰区先锋路"}),
        (lamps, {"address_string": "石鼓区解放路", "attribute[facility_id]": "LD-0231"}),
    ):
        r = _post(client, fmt, service_code=service, description="请尽快处理", **extra)
        assert r.status_code == 200, r.text
        answer = r.json()[0] if fmt == "json" else xmltodict.parse(r.content)["service_requests"]["request"]
        assert answer["token"] and answer["service_notice"]
        posted.append(answer["service_request_id"])
    closed = make_order(rt, status="closed")
    old = _old_order(rt, lamps, days_ago=200)

    one = client.get_service_request(posted[0])
    assert one["service_request_id"] == posted[0] and one["status"] == "open"
    assert one["service_code"] == noise and one["agency_responsible"] and one["expected_datetime"]

    def ids(**query: str) -> set[str]:
        return {r["service_request_id"] for r in _as_list(client.get_service_requests(**query))}

    assert ids(service_request_id=",".join([posted[0], posted[2], closed])) == {posted[0], posted[2], closed}
    assert ids(service_code=noise) == set(posted[:2])
    assert ids(service_code=f"{noise},{lamps}") == set(posted)
    assert closed in ids(status="closed") and not set(posted) & ids(status="closed")
    assert set(posted) <= ids(status="open") and closed not in ids(status="open")
    now = datetime.now(UTC)
    assert ids(
        start_date=(now - timedelta(days=210)).strftime(W3C),
        end_date=(now - timedelta(days=190)).strftime(W3C),
    ) == {old}
    assert set(posted) <= ids(
        start_date=(now - timedelta(days=1)).strftime(W3C), end_date=(now + timedelta(hours=1)).strftime(W3C)
    )


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_the_georeport_client_sees_the_spec_errors(server: LiveServer, rt: Runtime, fmt: str) -> None:
    client = GeoReport(f"{server.url}/open311/v2", api_key=_key(rt), output_format=fmt)
    now = datetime.now(UTC)
    with pytest.raises(requests.HTTPError) as caught:
        client.get_service_requests(
            start_date=(now - timedelta(days=91)).strftime(W3C), end_date=now.strftime(W3C)
        )
    assert caught.value.response is not None and caught.value.response.status_code == 400
    assert _errors(caught.value, fmt) == [
        {"code": 400, "description": "start_date and end_date may be at most 90 days apart"}
    ]
    with pytest.raises(requests.HTTPError) as caught:
        client.get_service_definition("NOPE")
    assert caught.value.response is not None and caught.value.response.status_code == 404
    assert _errors(caught.value, fmt) == [
        {"code": 404, "description": "no service 'NOPE'; see services.json"}
    ]
    with pytest.raises(requests.HTTPError) as caught:
        client.get_service_requests(service_code="NOPE")
    assert _errors(caught.value, fmt)[0]["description"] == "unknown service_code 'NOPE'; see services.json"
    # A bad api_key: the spec's 403 list.
    forged = GeoReport(client.root_address, api_key="o311_forged", output_format=fmt)
    r = _post(forged, fmt, service_code=_code(rt, LAMPS), address_string="解放路")
    assert r.status_code == 403
    with pytest.raises(requests.HTTPError) as caught:
        r.raise_for_status()
    assert _errors(caught.value, fmt) == [{"code": 403, "description": keys.BAD_KEY}]
