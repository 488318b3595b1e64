"""Issue 10, codes that cannot be walked: cases (``BC…``) and applications (``BJ…``) end in random digits
like orders (``HB…``), so the code of the next record cannot be worked out from one you hold, and a
guess built from a real code gets the answer a code that never existed gets."""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest

from haoban.applications import registry
from haoban.auth.actors import SYSTEM_ACTOR
from tests.applications.conftest import APPLICANT, apply
from tests.casework.builders import make_case
from tests.conftest import Api

SHAPE = {
    "BC": re.compile(r"^BC(\d{8})(\d{4})(\d{3})$"),
    "BJ": re.compile(r"^BJ(\d{8})(\d{6})(\d{3})$"),
}


@pytest.fixture
def installed(rt: Any) -> Any:
    with rt.db.write() as session:
        registry.install_shipped(session, rt, actor=SYSTEM_ACTOR)
    return rt


def _parts(code: str) -> tuple[str, int, str]:
    m = SHAPE[code[:2]].match(code)
    assert m, f"unexpected code shape {code!r}"
    return m.group(1), int(m.group(2)), m.group(3)


def _neighbours(code: str) -> list[str]:
    """What someone holding ``code`` would try: the next and previous numbers (same suffix), and the
    next code read as one number."""
    day, n, suffix = _parts(code)
    width = len(code) - 2 - 8 - 3
    return [
        f"{code[:2]}{day}{n + 1:0{width}d}{suffix}",
        f"{code[:2]}{day}{max(n - 1, 0):0{width}d}{suffix}",
        f"{code[:2]}{int(code[2:]) + 1}",
    ]


def _not_sequential(codes: list[str]) -> None:
    numbers = [_parts(c)[1] for c in codes]
    assert numbers == list(range(numbers[0], numbers[0] + len(codes)))  # still readable and sorted
    gaps = {int(b[2:]) - int(a[2:]) for a, b in itertools.pairwise(codes)}
    assert 1 not in gaps  # the old codes were consecutive numbers: one code gave away the next


def test_case_codes_are_not_sequential_and_guesses_look_like_missing_codes(rt: Any, api: Api) -> None:
    codes = [make_case(rt) for _ in range(4)]
    _not_sequential(codes)
    missing = api.get("/api/v1/cases/BC202601019999000", as_="window")
    assert missing.status_code == 404
    for guess in {g for c in codes for g in _neighbours(c)} - set(codes):
        r = api.get(f"/api/v1/cases/{guess}", as_="window")
        assert r.status_code == 404
        assert r.text.replace(guess, "X") == missing.text.replace("BC202601019999000", "X")
    assert api.get(f"/api/v1/cases/{codes[0]}", as_="window").status_code == 200


def test_application_codes_are_not_sequential_and_tracking_still_works(installed: Any, api: Api) -> None:
    codes = []
    for _ in range(3):
        r = apply(api)
        assert r.status_code == 201, r.text
        codes.append(r.json()["code"])
    _not_sequential(codes)
    last4 = APPLICANT["phone"][-4:]
    track = api.client.get(f"/api/v1/applications/{codes[1]}/track", params={"phone_last4": last4})
    assert track.status_code == 200 and track.json()["code"] == codes[1]
    missing = api.client.get("/api/v1/applications/BJ20260101999999000/track", params={"phone_last4": last4})
    wrong_digits = api.client.get(f"/api/v1/applications/{codes[1]}/track", params={"phone_last4": "0000"})
    assert missing.status_code == wrong_digits.status_code == 404
    assert missing.json() == wrong_digits.json()
    for guess in {g for c in codes for g in _neighbours(c)} - set(codes):
        r = api.client.get(f"/api/v1/applications/{guess}/track", params={"phone_last4": last4})
        assert (r.status_code, r.json()) == (404, missing.json())
