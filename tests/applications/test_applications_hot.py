"""The hot-instance cache: an instance is reused only with the exact state stored, never after a failure."""

from __future__ import annotations

from typing import Any

import pytest

from haoban.applications import results, service
from tests.applications.conftest import NEWBORN, act, apply, finish, open_tasks


def test_a_call_that_failed_after_the_engine_moved_leaves_no_changed_instance_behind(
    installed: Any, api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = apply(api).json()["code"]
    act(api, code, "birth_certificate", "accept")

    def broken(*_a: Any, **_k: Any) -> None:
        raise RuntimeError("the licence store is down")

    monkeypatch.setattr(results, "issue_licence", broken)
    with pytest.raises(RuntimeError):
        api.post(
            f"/api/v1/applications/{code}/tasks/birth_certificate/approve",
            as_="h_wjw",
            json={"result": NEWBORN["results"]["birth_certificate"]},
        )
    monkeypatch.undo()
    # The engine had approved the task in memory; the transaction rolled back, and so must the instance.
    assert open_tasks(api, code) == {"birth_certificate": "accepted"}
    act(api, code, "birth_certificate", "approve", result=NEWBORN["results"]["birth_certificate"])
    assert open_tasks(api, code)["hukou"] == "pending"


def test_a_state_written_elsewhere_is_loaded_not_taken_from_the_cache(installed: Any, api: Any) -> None:
    code = apply(api).json()["code"]
    finish(api, code, "birth_certificate")
    cache = service.hot(installed)
    with installed.db.read() as session:
        from haoban.applications import access

        app = access.load(session, code)
        assert app is not None and cache.take(app, keep=True) is not None
        # Another process moved the application on: the stored bytes differ, the cached copy is stale.
        app.state = app.state + b" "
        assert cache.take(app, keep=True) is None
