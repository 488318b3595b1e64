"""The dashboard of cross-region cases per partner and mode counts the three 跨省通办 modes (全程网办,
异地代收代办, 多地联办) and 12345 transfers, each direction and state; the page sums them per mode, a mode
nobody used yet included."""

from __future__ import annotations

import re
from typing import Any

from haoban.auth.actors import SYSTEM_ACTOR
from haoban.federation import service
from haoban.federation.models import Partner
from tests.federation.partners import seed_partner
from tests.federation.test_pages import _login

CASES = [  # partner, mode, direction, state
    ("451300", "online", "out", "open"),
    ("451300", "online", "out", "done"),
    ("451300", "proxy", "in", "done"),
    ("451300", "joint", "out", "waiting"),
    ("451300", "transfer", "out", "open"),
    ("450300", "transfer", "in", "done"),
]


def _seed(rt: Any, tmp_path: Any) -> None:
    seed_partner(rt, tmp_path)
    seed_partner(rt, tmp_path, region="450300")
    with rt.db.write() as session:
        partners = {p.region: p for p in session.query(Partner)}
        for n, (region, mode, direction, state) in enumerate(CASES):
            case = service.open_case(
                session,
                case_key=f"K{n}",
                partner=partners[region],
                direction=direction,
                kind=mode,
                mode=mode,
                item="newborn" if mode != "transfer" else "hotline",
                local_ref=f"BJ{n:017d}" if mode != "transfer" else None,
            )
            case.state = state


def test_every_mode_and_transfers_per_partner(rt: Any, tmp_path: Any) -> None:
    _seed(rt, tmp_path)
    with rt.db.read() as session:
        rows = service.dashboard(session, actor=SYSTEM_ACTOR)
    cells = {(r["partner"], r["mode"]): (r["outgoing"], r["incoming"], r["open"], r["done"]) for r in rows}
    assert cells == {
        ("451300", "online"): (2, 0, 1, 1),
        ("451300", "proxy"): (0, 1, 0, 1),
        ("451300", "joint"): (1, 0, 1, 0),  # waiting to be sent counts as open
        ("451300", "transfer"): (1, 0, 1, 0),
        ("450300", "transfer"): (0, 1, 0, 1),
    }
    totals = {
        t["mode"]: (t["outgoing"], t["incoming"], t["open"], t["done"]) for t in service.mode_totals(rows)
    }
    assert totals == {
        "online": (2, 0, 1, 1),
        "proxy": (0, 1, 0, 1),
        "joint": (1, 0, 1, 0),
        "transfer": (1, 1, 1, 1),
    }


def test_the_page_sums_per_mode(client: Any, rt: Any, tmp_path: Any) -> None:
    _seed(rt, tmp_path)
    _login(client, "supervisor")
    page = client.get("/federation")
    assert page.status_code == 200
    for mode, label in (
        ("online", "全程网办"),
        ("proxy", "异地代收代办"),
        ("joint", "多地联办"),
        ("transfer", "跨区域转办"),
    ):
        row = re.search(rf'<tr data-mode="{mode}"><th scope="row">([^<]+)</th>((?:<td>\d+</td>)+)', page.text)
        assert row is not None and row.group(1) == label, mode
    transfer = re.search(r'<tr data-mode="transfer">.*?</tr>', page.text)
    assert transfer is not None and re.findall(r"<td>(\d+)</td>", transfer.group(0)) == ["1", "1", "1", "1"]
    assert 'data-partner="450300" data-mode="transfer"' in page.text
    assert 'href="/applications/BJ00000000000000003"' in page.text and "待发出" in page.text
    assert "Waiting to be sent" in client.get("/federation?lang=en").text
