"""The department inbox of bundle tasks pages: green channel first, then overdue, then by deadline;
a bounded page whatever the backlog, the same order over the API and on the inbox page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from haoban.applications import queries
from haoban.runtime import Runtime
from tests.applications.conftest import submit_newborn
from tests.web.test_pages_access import login

NOW = datetime.now(UTC)


def submit(rt: Runtime, n: int, *, at: datetime, green: str | None = None) -> str:
    """A newborn application submitted at ``at`` (its first task, at wjw, due from then)."""
    return submit_newborn(rt, n, at=at, green_channel=green)


@pytest.fixture
def backlog(installed: Runtime) -> dict[str, str]:
    """Five applications at wjw: two overdue (one older), two on time, one green channel on time."""
    return {
        "late_old": submit(installed, 1, at=NOW - timedelta(days=30)),
        "late": submit(installed, 2, at=NOW - timedelta(days=20)),
        "fresh": submit(installed, 3, at=NOW - timedelta(minutes=5)),
        "fresher": submit(installed, 4, at=NOW - timedelta(minutes=1)),
        "green": submit(installed, 5, at=NOW - timedelta(minutes=3), green="elderly"),
    }


ORDER = ["green", "late_old", "late", "fresh", "fresher"]


def test_the_api_pages_green_first_then_overdue_then_by_deadline(backlog: dict[str, str], api: Any) -> None:
    pages = []
    for page in (1, 2, 3):
        body = api.get("/api/v1/application-tasks", as_="h_wjw", params={"page": page, "page_size": 2}).json()
        assert body["total"] == 5 and body["page"] == page and body["page_size"] == 2
        pages.append([t["application"] for t in body["items"]])
    assert pages == [[backlog[k] for k in ORDER[i : i + 2]] for i in (0, 2, 4)]
    first = api.get("/api/v1/application-tasks", as_="h_wjw", params={"page_size": 2}).json()["items"]
    assert first[0]["green_channel"] is True and first[1]["deadline_state"] == "overdue"
    # Past the end: an empty page, the total still said.
    assert api.get("/api/v1/application-tasks", as_="h_wjw", params={"page": 9}).json()["items"] == []
    # Another department sees none of them; a page larger than the bound is refused with the reason.
    assert api.get("/api/v1/application-tasks", as_="h_gaj").json()["total"] == 0
    r = api.get("/api/v1/application-tasks", as_="h_wjw", params={"page_size": 5000})
    assert r.status_code == 422 and "page_size" in r.text


def test_a_task_waiting_for_corrections_is_not_counted_as_overdue(
    backlog: dict[str, str], api: Any, installed: Runtime
) -> None:
    # The oldest task goes back to the applicant: its clock stops, so it falls behind the running ones.
    r = api.post(
        f"/api/v1/applications/{backlog['late_old']}/tasks/birth_certificate/request_correction",
        as_="h_wjw",
        json={"reason": "请补正", "fields": ["baby.name"]},
    )
    assert r.status_code == 200, r.text
    items = api.get("/api/v1/application-tasks", as_="h_wjw").json()["items"]
    assert [t["application"] for t in items][:2] == [backlog["green"], backlog["late"]]
    assert backlog["late_old"] in [t["application"] for t in items]


def test_the_query_never_reads_more_than_its_bound(backlog: dict[str, str], installed: Runtime) -> None:
    from haoban.auth.actors import Actor
    from haoban.auth.roles import Role

    actor = Actor(
        id=None,
        username="h",
        name="h",
        role=Role.HANDLER,
        department_id=installed.directory.department("wjw").id,
    )
    with installed.db.read() as session:
        rows, total = queries.inbox(session, actor=actor, page_size=10_000, now=NOW)
        assert total == 5 and len(rows) == 5
        rows, total = queries.inbox(session, actor=actor, page=0, page_size=0, now=NOW)
        assert total == 5 and len(rows) == 1  # clamped to page 1, one row
    assert queries.INBOX_MAX_PAGE_SIZE <= 200


def test_the_inbox_page_pages_bundle_tasks(
    backlog: dict[str, str], client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queries, "INBOX_PAGE_SIZE", 2)
    login(client, "h_wjw")
    seen = []
    for tpage in (1, 2, 3):
        page = client.get("/inbox", params={"tpage": tpage})
        assert page.status_code == 200
        section = page.text[page.text.index('id="bundle-tasks"') :]
        assert 'id="bt-total">5<' in section
        seen.append([k for k in ORDER if f'data-code="{backlog[k]}"' in section])
        if tpage < 3:
            assert f"tpage={tpage + 1}" in section
    assert seen == [ORDER[0:2], ORDER[2:4], ORDER[4:]]
    first = client.get("/inbox").text
    assert "row-overdue" in first[first.index('id="bundle-tasks"') :]
