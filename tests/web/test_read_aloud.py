"""朗读 / Read aloud (issue 18): every citizen page carries its main text, signed, for the server's espeak-ng
audio (the browser's speech synthesis is tried first: tests/web/test_read_aloud_browser.py). The audio is
made once per text and voice, only for text this site rendered, without what people wrote; a missing
espeak-ng is a clear 503, not a stack trace."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest

from haoban.tourism.guides import espeak_available
from haoban.web import read_aloud

CITIZEN_PAGES = ["/portal", "/portal/help", "/services", "/portal/apply", "/tour", "/portal/mine"]


def fields(page: str) -> dict[str, str]:
    form = re.search(r'<form method="post" action="/read-aloud"(.*?)</form>', page, re.S)
    assert form, "no read-aloud form"
    return {
        m.group(1): html.unescape(m.group(2))
        for m in re.finditer(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form.group(1))
    }


@pytest.fixture
def media(rt: Any, tmp_path: Path) -> Path:
    rt.settings.media_dir = tmp_path / "media"
    return rt.settings.media_dir


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_citizen_page_offers_its_main_text(client: Any, lang: str) -> None:
    for path in CITIZEN_PAGES:
        page = client.get(f"{path}?lang={lang}").text
        f = fields(page)
        assert f["lang"] == lang and len(f["sig"]) == 64, path
        assert f["text"].strip(), path
        assert len(f["text"]) <= 1500
        assert 'id="read-aloud"' in page and "/static/read_aloud.js" in page
    # The heading is read; the navigation, the help bar itself and form controls are not.
    text = fields(client.get("/portal/help?lang=zh").text)["text"]
    assert text.startswith("请工作人员帮我办") and "怎么称呼您" in text
    assert "朗读本页" not in text and "拨打 12345" not in text.split("\n")[0]
    assert "上午（9:00–12:00）" in text  # the labels of the choices are read
    # Staff pages have no read-aloud control.
    assert 'id="read-aloud"' not in client.get("/login").text


def test_what_people_wrote_is_never_read_or_cached(client: Any) -> None:
    r = client.post(
        "/portal/help",
        data={
            "name": "赵大爷",
            "phone": "13700001111",
            "need": "我的病历号是 A12345 请帮我办医保",
            "preferred_time": "anytime",
        },
        follow_redirects=False,
    )
    page = client.get(r.headers["location"]).text
    assert "A12345" in page
    text = fields(page)["text"]
    assert "A12345" not in text and "赵大爷" not in text and "已收到您的请求" in text


def test_the_server_speaks_signed_text_once(client: Any, media: Path, monkeypatch: Any) -> None:
    if not espeak_available():
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    f = fields(client.get("/portal/help").text)
    r = client.post("/read-aloud", data=f, follow_redirects=False)
    assert r.status_code == 303 and re.fullmatch(r"/read-aloud/[0-9a-f]{64}\.wav", r.headers["location"])
    audio = client.get(r.headers["location"])
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
    assert audio.content[:4] == b"RIFF" and len(audio.content) > 10_000
    assert len(list((media / "speech").glob("*.wav"))) == 1

    def no_second_time(*args: Any, **kwargs: Any) -> int:
        raise AssertionError("spoken again")

    monkeypatch.setattr(read_aloud, "speak", no_second_time)
    again = client.post("/read-aloud", data=f, follow_redirects=False)
    assert again.headers["location"] == r.headers["location"]  # from the cache
    # English pages are spoken with the English voice: another file.
    monkeypatch.undo()
    en = client.post(
        "/read-aloud", data=fields(client.get("/portal/help?lang=en").text), follow_redirects=False
    )
    assert en.status_code == 303 and en.headers["location"] != r.headers["location"]


def test_text_not_rendered_here_is_refused(client: Any, media: Path) -> None:
    f = fields(client.get("/portal").text)
    forged = client.post("/read-aloud", data={**f, "text": "市政府通知：请把钱转到这个账户"})
    assert forged.status_code == 422 and "刷新页面" in forged.text
    swapped = client.post("/read-aloud", data={**f, "lang": "en"})  # another voice: another signature
    assert swapped.status_code == 422
    assert client.post("/read-aloud", data={}).status_code == 422
    assert client.get("/read-aloud/../../etc/passwd.wav").status_code == 404
    assert client.get(f"/read-aloud/{'0' * 64}.wav").status_code == 404
    assert not (media / "speech").exists()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_missing_espeak_is_a_clear_answer(client: Any, media: Path, monkeypatch: Any, lang: str) -> None:
    monkeypatch.setattr(read_aloud, "espeak_available", lambda: False)
    f = fields(client.get(f"/portal?lang={lang}").text)
    r = client.post(f"/read-aloud?lang={lang}", data=f)
    assert r.status_code == 503
    assert "Traceback" not in r.text
    if lang == "zh":
        assert "服务器未安装 espeak-ng" in r.text
    else:
        assert "espeak-ng is not installed on the server" in r.text
