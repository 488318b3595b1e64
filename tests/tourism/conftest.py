from __future__ import annotations

from typing import Any

import pytest

from haoban.auth.actors import SYSTEM_ACTOR
from haoban.tourism.places import seed_demo_places


@pytest.fixture
def places_rt(rt: Any) -> Any:
    """The test city with Hengyang's demo places loaded."""
    seed_demo_places(rt, actor=SYSTEM_ACTOR)
    return rt
