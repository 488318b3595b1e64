from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from haoban.auth.actors import SYSTEM_ACTOR
from haoban.config import city_tz
from haoban.tourism.tickets import seed_demo_places


def city_today() -> date:
    """Today in the city's time zone, as the ticket service counts days (the machine runs on UTC:
    between 16:00 and 24:00 UTC the city is already a day ahead)."""
    return datetime.now(UTC).astimezone(city_tz()).date()


@pytest.fixture
def places_rt(rt: Any) -> Any:
    """The test city with Hengyang's demo places loaded."""
    seed_demo_places(rt, actor=SYSTEM_ACTOR)
    return rt


def open_day(client: Any, place: str) -> str:
    """The first day from tomorrow on which ``place`` sells tickets (skips closing days)."""
    from datetime import timedelta

    day = city_today() + timedelta(days=1)
    for _ in range(7):
        r = client.get(f"/api/v1/tourism/places/{place}/slots", params={"day": day.isoformat()})
        assert r.status_code == 200, r.text
        if r.json()["closed_reason"] is None:
            return day.isoformat()
        day += timedelta(days=1)
    raise AssertionError(f"{place} sells nothing in the coming week")


@pytest.fixture
def small_plan(places_rt: Any) -> Any:
    """A test place whose single slot tomorrow holds 3 visitors; returns (place code, slot id, day)."""
    from datetime import timedelta

    from haoban.tourism import tickets
    from haoban.tourism.models import Place
    from haoban.tourism.places import get_place
    from haoban.tourism.schemas import PlanIn

    day = city_today() + timedelta(days=1)
    with places_rt.db.write() as session:
        session.add(Place(code="tiny-hall", name="小展厅", kind="venue", hours="{}", photos="[]", tags="[]"))
        session.flush()
        tickets.set_plan(
            session,
            place_code="tiny-hall",
            data=PlanIn(
                slots=[{"start": "00:00", "end": "24:00", "capacity": 3}],
                price_fen=5000,
                refund_rule=[{"before_hours": 24, "percent": 100}, {"before_hours": 0, "percent": 50}],
            ),
            actor=SYSTEM_ACTOR,
        )
        place = get_place(session, code="tiny-hall")
        slot = tickets.ensure_slots(
            session, places_rt, place=place, plan=tickets.plan_for(session, place), day=day
        )[0]
        return ("tiny-hall", slot.id, day)
