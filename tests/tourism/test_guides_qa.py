"""Spoken guides (espeak-ng through the job runner, cached by text hash, served as files) and the
question box (retrieval with sources; "I don't know" and 12345 when nothing fits)."""

from __future__ import annotations

from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import update

from haoban.jobs.registry import run_once
from haoban.tourism import guides, qa
from haoban.tourism.models import Place

pytestmark = pytest.mark.skipif(not guides.espeak_available(), reason="espeak-ng is not installed")


@pytest.fixture
def media_rt(places_rt: Any, tmp_path: Path) -> Any:
    places_rt.settings.media_dir = tmp_path / "media"
    return places_rt


def test_the_job_speaks_every_guide_once_and_a_changed_text_again(media_rt: Any, client: Any) -> None:
    first = run_once(media_rt, "tourism.guides")
    assert first["made"] >= 10 and first["failed"] == 0
    again = run_once(media_rt, "tourism.guides")
    assert again["made"] == 0 and again["cached"] == first["made"]
    files = list(guides.guides_dir(media_rt.settings).glob("*.wav"))
    assert len(files) == first["made"] and all(f.read_bytes()[:4] == b"RIFF" for f in files)
    place = client.get("/api/v1/tourism/places/zhurong-peak").json()
    assert place["guide_audio"] and place["guide_audio"].startswith("/tour/audio/")
    audio = client.get(place["guide_audio"])
    assert (
        audio.status_code == 200
        and audio.headers["content-type"] == "audio/wav"
        and audio.content[:4] == b"RIFF"
    )
    assert "<audio" in client.get("/tour/places/zhurong-peak").text
    with media_rt.db.write() as session:
        session.execute(
            update(Place).where(Place.code == "zhurong-peak").values(guide="祝融峰是衡山最高峰。")
        )
    assert client.get("/api/v1/tourism/places/zhurong-peak").json()["guide_audio"] is None  # not made yet
    assert run_once(media_rt, "tourism.guides")["made"] == 1
    assert client.get("/api/v1/tourism/places/zhurong-peak").json()["guide_audio"]
    assert client.get("/tour/audio/../../etc/passwd.wav").status_code == 404
    assert client.get("/tour/audio/" + "0" * 64 + ".wav").status_code == 404


def _questions() -> list[dict[str, Any]]:
    text = resources.files("haoban.tourism").joinpath("questions.yaml").read_text(encoding="utf-8")
    return list(yaml.safe_load(text)["questions"])


def test_question_box_finds_the_answer_in_the_top_three(places_rt: Any) -> None:
    found = unknown_right = answerable = unanswerable = 0
    misses = []
    with places_rt.db.read() as session:
        for item in _questions():
            got = qa.ask(session, places_rt, question=item["q"], today=date(2026, 12, 1))
            if item["expect"] is None:
                unanswerable += 1
                unknown_right += not got["known"]
                continue
            answerable += 1
            top = [(a["place"], a["kind"]) for a in got["answers"][:3]]
            if tuple(item["expect"]) in top:
                found += 1
            else:
                misses.append((item["q"], top))
    assert answerable >= 25 and unanswerable >= 5
    assert found / answerable >= 0.8, misses
    assert unknown_right / unanswerable >= 0.8


def test_ask_api_and_page_show_the_source_or_12345(places_rt: Any, client: Any) -> None:
    r = client.get("/api/v1/tourism/ask", params={"q": "南岳大庙几点开门"}).json()
    assert r["known"] and r["answers"][0]["place"] == "nanyue-damiao" and r["answers"][0]["source"]
    r = client.get("/api/v1/tourism/ask", params={"q": "怎么办理护照"}).json()
    assert not r["known"] and r["fallback"]["hotline"] == "12345"
    page = client.get("/tour/ask", params={"q": "祝融峰怎么上去"})
    assert page.status_code == 200 and 'href="/tour/places/zhurong-peak"' in page.text
    page = client.get("/tour/ask", params={"q": "股票今天涨了吗"})
    assert 'id="ask-unknown"' in page.text and "12345" in page.text
