"""The window's pages over TestClient: the console, opening from a stuck order, the case page's forms,
the board and dashboard figures, the reform list; anonymity holds on every page a department opens."""

from __future__ import annotations

from typing import Any

from tests.builders import make_order
from tests.casework.builders import COMPANY, NAME, PHONE, VALID_USCC, make_case
from tests.web.test_pages_access import login, no_trace


def test_window_opens_a_case_from_a_stuck_order_and_works_it(client: Any, rt: Any) -> None:
    order = make_order(rt, status="callback_unsatisfied")
    assert login(client, "window").headers["location"] == "/cases"
    page = client.get("/cases")
    assert page.status_code == 200 and order in page.text and f"escalate-{order}" in page.text
    form = client.get(f"/cases?order={order}")
    assert f'name="origin_code" value="{order}"' in form.text
    r = client.post(
        "/cases/new",
        data={
            "origin_code": order,
            "kind": "difficult",
            "subject": "路灯仍未修好",
            "content": "回访不满意，多次反映无果。",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    code = r.headers["location"].split("/cases/")[1].split("?")[0]
    page = client.get(f"/cases/{code}")
    assert f'href="/orders/{order}"' in page.text and "form-ledger" in page.text
    # Refused input shows the form again with the reason; nothing moves.
    r = client.post(f"/cases/{code}/act/ledger", data={})
    assert r.status_code == 422 and "obstacle" in r.text
    no_trace(r)
    assert (
        client.post(
            f"/cases/{code}/act/ledger", data={"obstacle": "buck_passing"}, follow_redirects=False
        ).status_code
        == 303
    )
    r = client.post(
        f"/cases/{code}/act/assign",
        data={"department": "cgj", "co_departments": ["gjj", "jtj"], "days": "5"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = client.get(f"/cases/{code}")
    assert "form-meet" in page.text and "市住房公积金管理中心" in page.text
    r = client.post(f"/cases/{code}/act/meet", data={"held_on": "", "participants": "", "minutes": ""})
    assert r.status_code == 422
    no_trace(r)
    order_page = client.get(f"/orders/{order}")  # the window reads the order; its file links back
    assert order_page.status_code == 200 and f'href="/cases/{code}"' in order_page.text


def test_a_new_case_with_a_bad_credit_code_is_refused_on_the_page(client: Any, rt: Any) -> None:
    login(client, "window")
    r = client.post(
        "/cases/new",
        data={"kind": "business", "subject": "x", "content": "y", "company_uscc": "91110000600037341X"},
    )
    assert r.status_code == 422 and "统一社会信用代码" in r.text
    no_trace(r)


def test_pages_keep_an_anonymous_complainant_from_departments(client: Any, rt: Any) -> None:
    code = make_case(rt, status="consulting", anonymous=True)
    for who in ("h_cgj", "h_gjj", "h_jtj", "supervisor", "auditor", "admin"):
        login(client, who)
        for path in (f"/cases/{code}", "/cases", "/cases?tab=ledger", "/board", "/dashboard", "/reform"):
            r = client.get(path)
            if r.status_code == 403:
                continue
            assert r.status_code == 200, (who, path, r.status_code)
            for secret in (NAME, PHONE, COMPANY, VALID_USCC):
                assert secret not in r.text, (who, path, secret)
    login(client, "window")
    r = client.get(f"/cases/{code}")
    assert NAME in r.text and VALID_USCC in r.text


def test_board_dashboard_and_reform_list_show_cases(client: Any, rt: Any) -> None:
    from datetime import UTC, datetime, timedelta

    make_case(rt, status="assigned", now=datetime.now(UTC) - timedelta(days=30))  # long overdue
    make_case(rt, status="closed")
    login(client, "supervisor")
    board = client.get("/board")
    assert board.status_code == 200 and 'id="sec-cases"' in board.text and "data-case=" in board.text
    dash = client.get("/dashboard")
    assert dash.status_code == 200 and 'id="cs-fig-back_and_forth"' in dash.text
    reform = client.get("/reform")
    assert reform.status_code == 200 and 'data-key="back_and_forth"' in reform.text
    r = client.post(
        "/reform/proposals",
        data={"title": "营业执照变更一次办", "obstacle": "back_and_forth", "owner": "scjg"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "营业执照变更一次办" in client.get("/reform").text
    login(client, "h_cgj")
    assert client.get("/reform").status_code == 403
