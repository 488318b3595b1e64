"""Approvals' engine steps worked out before the write transaction (``service.prepare_approvals``): used
under the lock only while the application's stored state is the one they were computed from; when
another writer changed the application in between, the step is computed again from what is stored,
so no update is lost and the case file is what it would have been."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from haoban.applications import access, bulk, service
from haoban.runtime import Runtime
from tests.applications.conftest import NEWBORN
from tests.applications.test_applications_bulk import AT, case_file, handler
from tests.applications.test_applications_inbox import submit

LATER = AT + timedelta(hours=2)


def one(rt: Runtime, code: str, task_id: str, action: str, *, dept: str) -> None:
    data = service.TaskAction(result=NEWBORN["results"][task_id] if action == "approve" else None)
    with rt.db.write() as session:
        service.act(
            session,
            rt,
            code=code,
            task_id=task_id,
            action=action,
            data=data,
            actor=handler(rt, dept),
            now=LATER,
        )


def approve_in_bulk(rt: Runtime, code: str, task_id: str, result: dict[str, Any]) -> None:
    """A public-security handler's bulk approval of one task."""
    with rt.db.write() as session:
        bulk.act_many(
            session,
            rt,
            action="approve",
            actor=handler(rt, "gaj"),
            now=LATER,
            items=[bulk.BulkItem(code, task_id, result)],
        )


def approve_hukou_in_bulk(rt: Runtime, code: str) -> None:
    approve_in_bulk(rt, code, "hukou", NEWBORN["results"]["hukou"])


def at_second_round(rt: Runtime, n: int) -> str:
    """An application whose birth certificate is issued, with hukou and vaccination accepted."""
    code = submit(rt, n, at=AT)
    one(rt, code, "birth_certificate", "accept", dept="wjw")
    one(rt, code, "birth_certificate", "approve", dept="wjw")
    one(rt, code, "hukou", "accept", dept="gaj")
    one(rt, code, "vaccination", "accept", dept="wjw")
    return code


def engine_outcomes(rt: Runtime, code: str) -> dict[str, Any]:
    with rt.db.read() as session:
        app = access.load(session, code)
        assert app is not None
        loaded = service.engine(rt).loads(
            app.state, definitions=lambda c, v: service._definition(session, rt, app)
        )
        return {tid: o["outcome"] for tid, o in loaded.outcomes().items()}


@pytest.fixture
def used(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The task ids whose prepared step was stored under the lock."""
    seen: list[str] = []
    store = service._store_prepared

    def spy(rt: Runtime, app: Any, step: service.Prepared) -> None:
        seen.append(step.task_id)
        store(rt, app, step)

    monkeypatch.setattr(service, "_store_prepared", spy)
    return seen


def test_a_prepared_step_is_used_when_nothing_changed(installed: Runtime, used: list[str]) -> None:
    code = at_second_round(installed, 1)
    approve_hukou_in_bulk(installed, code)
    assert used == ["hukou"]
    assert engine_outcomes(installed, code) == {"birth_certificate": "approved", "hukou": "approved"}


def test_a_change_between_the_step_and_the_lock_is_not_lost(
    installed: Runtime, used: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer approves vaccination after hukou's step was worked out and before the bulk
    action's transaction: the step no longer fits, hukou is approved on the state with vaccination."""
    raced = at_second_round(installed, 1)
    control = at_second_round(installed, 2)
    prepare = service.prepare_approvals

    def and_meanwhile(rt: Runtime, items: Any, *, at: Any) -> dict[Any, service.Prepared]:
        steps = prepare(rt, items, at=at)
        assert list(steps) == [(raced, "hukou")]
        one(rt, raced, "vaccination", "approve", dept="wjw")  # its own transaction, committed
        return steps

    monkeypatch.setattr(service, "prepare_approvals", and_meanwhile)
    approve_hukou_in_bulk(installed, raced)
    assert used == []  # the stale step was worked out again under the lock
    assert engine_outcomes(installed, raced) == {
        "birth_certificate": "approved",
        "vaccination": "approved",
        "hukou": "approved",
    }
    # The same as when the two approvals come one after the other with nothing prepared in between.
    monkeypatch.setattr(service, "prepare_approvals", prepare)
    one(installed, control, "vaccination", "approve", dept="wjw")
    approve_hukou_in_bulk(installed, control)
    assert used == ["hukou"]
    assert case_file(installed, raced) == case_file(installed, control)


def test_two_steps_of_one_application_are_prepared_one_on_the_other(
    installed: Runtime, used: list[str]
) -> None:
    """Two ready tasks of one application: the second step starts from the state the first gives, and
    both fit under the lock when they are done in that order in one transaction."""
    code = at_second_round(installed, 1)
    results = NEWBORN["results"]
    steps = service.prepare_approvals(
        installed,
        [(code, "hukou", results["hukou"]), (code, "vaccination", results["vaccination"])],
        at=LATER,
    )
    assert steps[(code, "vaccination")].before == steps[(code, "hukou")].state
    assert steps[(code, "hukou")].instance is None and steps[(code, "vaccination")].instance is not None
    with installed.db.write() as session:
        loaded = access.load_many(session, [code], lock=True)
        for task_id, dept in (("hukou", "gaj"), ("vaccination", "wjw")):
            service.act(
                session,
                installed,
                code=code,
                task_id=task_id,
                action="approve",
                data=service.TaskAction(result=results[task_id]),
                actor=handler(installed, dept),
                now=LATER,
                loaded=loaded[code],
                prepared=steps[(code, task_id)],
            )
    assert used == ["hukou", "vaccination"]
    assert engine_outcomes(installed, code) == {
        "birth_certificate": "approved",
        "hukou": "approved",
        "vaccination": "approved",
    }


def test_a_step_for_another_time_or_result_is_not_used(installed: Runtime, used: list[str]) -> None:
    code = at_second_round(installed, 1)
    result = NEWBORN["results"]["hukou"]
    steps = service.prepare_approvals(installed, [(code, "hukou", result)], at=LATER)
    with installed.db.read() as session:
        app = access.load(session, code)
        assert app is not None
        step = steps[(code, "hukou")]
        assert step.fits(app, task_id="hukou", result=result, at=LATER)
        assert not step.fits(app, task_id="hukou", result=result, at=LATER + timedelta(seconds=1))
        assert not step.fits(app, task_id="hukou", result={**result, "x": 1}, at=LATER)
        assert not step.fits(app, task_id="vaccination", result=result, at=LATER)


@pytest.fixture
def starts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every engine start (the one before the transaction, and any made again under the lock)."""
    from haoban.bundles.engine import BundleEngine

    seen: list[str] = []
    start = BundleEngine.start

    def spy(self: Any, definition: Any, **kw: Any) -> Any:
        seen.append(definition.code)
        return start(self, definition, **kw)

    monkeypatch.setattr(BundleEngine, "start", spy)
    return seen


def test_a_submission_starts_once_before_its_transaction_and_files_the_same_case(
    installed: Runtime, starts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    early = submit(installed, 1, at=AT)
    assert starts == ["newborn"]
    monkeypatch.setattr(service, "_prepare_start", lambda *a, **k: None)
    late = submit(installed, 2, at=AT)  # started under the lock, as before
    assert starts == ["newborn", "newborn"]
    assert case_file(installed, early) == case_file(installed, late)
    assert engine_outcomes(installed, early) == engine_outcomes(installed, late) == {}


def test_a_start_whose_inputs_changed_meanwhile_is_made_again(
    installed: Runtime, starts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """As if a held licence or the bundle's latest version changed between the start and the lock:
    the references found under the lock differ, so the start is made again from them."""
    import dataclasses

    prepare = service._prepare_start

    def stale(*args: Any, **kwargs: Any) -> service.PreparedStart | None:
        found = prepare(*args, **kwargs)
        assert found is not None
        return dataclasses.replace(found, refs={**found.refs, "birth_medical_certificate": "licence:OLD"})

    monkeypatch.setattr(service, "_prepare_start", stale)
    code = submit(installed, 1, at=AT)
    assert starts == ["newborn", "newborn"]
    with installed.db.read() as session:
        app = access.load(session, code)
        assert app is not None
        loaded = service.engine(installed).loads(
            app.state, definitions=lambda c, v: service._definition(session, installed, app)
        )
        assert "licence:OLD" not in loaded.materials.values()
        assert set(loaded.materials) == {"parents_id_cards", "household_register"}


def test_a_task_the_bundle_does_not_have_is_refused_as_before(installed: Runtime) -> None:
    """Preparing meets the unknown task first: it leaves it to the action, which refuses it (404)."""
    from haoban.errors import NotFound

    code = at_second_round(installed, 1)
    assert service.prepare_approvals(installed, [(code, "no_such_task", {"x": 1})], at=LATER) == {}
    with pytest.raises(NotFound, match=f"{code}/no_such_task"):
        approve_in_bulk(installed, code, "no_such_task", {"x": 1})


def test_a_single_approval_works_its_step_out_before_its_transaction(
    installed: Runtime, api: Any, used: list[str]
) -> None:
    """The API's (and the CLI's, the staff pages') one approval goes through ``service.act_alone``."""
    code = at_second_round(installed, 1)
    r = api.post(
        f"/api/v1/applications/{code}/tasks/hukou/approve",
        as_="h_gaj",
        json={"result": NEWBORN["results"]["hukou"]},
    )
    assert r.status_code == 200, r.text
    assert used == ["hukou"]
    assert engine_outcomes(installed, code) == {"birth_certificate": "approved", "hukou": "approved"}
