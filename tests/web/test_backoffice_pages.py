"""The staff pages as a 12345 centre uses them (issue 13): console, queue, inbox, board.

Over TestClient; the browser journeys are in test_backoffice_browser.py.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from haoban.db import utcnow
from tests.builders import make_order
from tests.web.test_pages_access import login, no_trace


def _codes_in(html: str, selector_attr: str = "data-code") -> list[str]:
    return re.findall(rf'<tr[^>]*{selector_attr}="(HB\d+)"', html)


def test_console_confirmation_names_department_and_deadline(client: Any) -> None:
    login(client, "operator")
    r = client.post(
        "/console",
        data={
            "content": "滨江路的路灯坏了三天，晚上很黑",
            "department": "cgj",
            "mode": "dispatch",
            "type": "complaint",
        },
        follow_redirects=True,
    )
    assert r.status_code == 200
    no_trace(r)
    tell = re.search(r'<p id="registered-tell">(.*?)</p>', r.text, re.S)
    assert tell, r.text
    assert "市城市管理和综合执法局" in tell.group(1)
    assert re.search(r'id="registered-deadline">\d{4}-\d{2}-\d{2} \d{2}:\d{2}<', tell.group(1))
    # English: the department's English name
    code = re.search(r'id="registered-code">(HB\d+)<', r.text).group(1)  # type: ignore[union-attr]
    r = client.get(f"/console?code={code}&lang=en")
    assert "Urban Management" in r.text and "Dispatched to" in r.text


def test_console_transfer_buttons_always_visible_and_work_on_first_press(client: Any) -> None:
    login(client, "operator")
    page = client.get("/console").text
    details = page[page.index("<details") : page.index("</details>")]
    for line in ("110", "119", "120", "122"):
        assert f'id="transfer-{line}"' in page
        assert f'id="transfer-{line}"' not in details  # not folded away
    # the first submit button stays "register and dispatch" (Enter and Ctrl+Enter use it)
    first_submit = re.search(r'<button type="submit"[^>]*id="([^"]+)"', page)
    assert first_submit and first_submit.group(1) == "btn-register"
    r = client.post(
        "/console",
        data={"content": "路口两车相撞，有人受伤", "transfer_now": "122", "type": "help"},
        follow_redirects=True,
    )
    assert r.status_code == 200 and "field-error" not in r.text and "flash error" not in r.text
    assert "已转 122" in r.text


def test_queue_oldest_first_and_department_picker_grouped(client: Any, rt: Any) -> None:
    now = utcnow()
    old = make_order(rt, status="pending_dispatch", now=now - timedelta(days=2))
    new = make_order(rt, status="pending_dispatch", now=now - timedelta(hours=1))
    login(client, "dispatcher")
    html = client.get("/console/queue").text
    assert html.index(f'data-code="{old}"') < html.index(f'data-code="{new}"')
    assert 'class="dept-filter"' in html and "<optgroup" in html
    assert "市直部门" in html and "区县政府" in html


def test_inbox_overdue_and_supervised_first_with_handling_deadline(client: Any, rt: Any) -> None:
    now = utcnow()
    fresh = make_order(rt, status="signed", now=now - timedelta(minutes=5))
    late = make_order(rt, status="signed", now=now - timedelta(days=60))
    login(client, "h_cgj")
    html = client.get("/inbox?tab=handling").text
    rows = _codes_in(html)
    assert rows.index(late) < rows.index(fresh)
    assert "办理时限" in html
    row = html[html.index(f'data-code="{late}"') :]
    row = row[: row.index("</tr>")]
    assert re.search(r"已超时 \d+ 天", row)
    fresh_row = html[html.index(f'data-code="{fresh}"') :]
    fresh_row = fresh_row[: fresh_row.index("</tr>")]
    assert "剩 " in fresh_row
    assert 'class="tabs wrap"' in html


def test_board_overdue_only_late_sorted_and_decisions_read_differently(client: Any, rt: Any) -> None:
    now = utcnow()
    in_time = make_order(rt, status="replied", now=now - timedelta(days=60))  # replied at once: not late
    late_a = make_order(rt, status="signed", now=now - timedelta(days=90))
    late_b = make_order(rt, status="signed", now=now - timedelta(days=40))
    login(client, "supervisor")
    html = client.get("/board").text
    section = html[html.index('id="sec-overdue_orders"') : html.index('id="sec-returns_review"')]
    assert in_time not in section
    assert section.index(late_a) < section.index(late_b)
    assert "正常" not in section

    # approve and reject confirm differently
    approve = make_order(rt, status="replied")
    reject = make_order(rt, status="replied")
    r = client.post(
        f"/orders/{approve}/act/review_reply",
        data={"back": "/board", "decision": "approve"},
        follow_redirects=True,
    )
    assert "已同意答复" in r.text
    r = client.post(
        f"/orders/{reject}/act/review_reply",
        data={"back": "/board", "decision": "reject", "reason": "答复未说明修复时间"},
        follow_redirects=True,
    )
    assert "已驳回答复" in r.text and "已同意答复" not in r.text


def test_board_empty_supervision_note_stays_on_the_board(client: Any, rt: Any) -> None:
    late = make_order(rt, status="signed", now=utcnow() - timedelta(days=90))
    login(client, "supervisor")
    r = client.post(
        f"/orders/{late}/act/supervise", data={"back": "/board", "note": ""}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/board?")
    r = client.get(r.headers["location"])
    assert r.status_code == 200
    assert f'id="err-note-{late}"' in r.text and "必填" in r.text
    assert f'id="note-{late}"' in r.text and 'aria-invalid="true"' in r.text
