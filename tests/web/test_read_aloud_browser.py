"""朗读 / Read aloud in Chromium (issue 18): the control speaks the page with the browser's speech synthesis
when there is one, and plays the server's espeak-ng audio when there is none; a server without espeak-ng
says so in the bar. Operated from the keyboard only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from haoban.tourism.guides import espeak_available
from haoban.web import read_aloud
from tests.web.test_browser import PHONE, Browse, LiveServer, live  # noqa: F401

pytestmark = pytest.mark.browser

FAKE_SYNTH = """
window.__spoken = [];
Object.defineProperty(window, 'speechSynthesis', { configurable: true, value: {
  getVoices: () => [],
  speak: (u) => { window.__spoken.push({ text: u.text, lang: u.lang }); window.__utterance = u; },
  cancel: () => { window.__cancelled = (window.__cancelled || 0) + 1; },
}});
"""
NO_SYNTH = "Object.defineProperty(window, 'speechSynthesis', { configurable: true, value: undefined });"


def _tab_to(page: Any, selector: str, limit: int = 40) -> None:
    """Press Tab until ``selector`` has the focus (the keyboard is the only input)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement === document.querySelector(s)", selector):
            return
    raise AssertionError(f"{selector} is not reachable with Tab")


def test_the_browser_speaks_the_page_and_stops(browser: Any, live: LiveServer) -> None:  # noqa: F811
    b = Browse(browser, live.url)
    b.ctx.add_init_script(FAKE_SYNTH)
    b.go("/portal/help")
    _tab_to(b.page, "#read-aloud")
    b.page.keyboard.press("Enter")
    spoken = b.page.evaluate("window.__spoken")
    assert len(spoken) == 1 and spoken[0]["lang"] == "zh-CN"
    assert spoken[0]["text"].startswith("请工作人员帮我办") and "怎么称呼您" in spoken[0]["text"]
    assert b.page.get_attribute("#read-aloud", "aria-pressed") == "true"
    assert b.page.inner_text("#read-aloud") == "停止朗读"
    b.page.keyboard.press("Enter")  # the same control stops it
    assert b.page.get_attribute("#read-aloud", "aria-pressed") == "false"
    assert b.page.evaluate("window.__cancelled") >= 1
    b.go("/portal/help?lang=en")
    _tab_to(b.page, "#read-aloud")
    b.page.keyboard.press("Space")
    spoken = b.page.evaluate("window.__spoken")
    assert spoken[-1]["lang"].startswith("en") and spoken[-1]["text"].startswith("Ask a member of staff")
    b.assert_clean()
    b.close()


def test_without_speech_synthesis_the_server_audio_plays(
    browser: Any,
    live: LiveServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    if not espeak_available():
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    live.rt.settings.media_dir = tmp_path / "media"
    b = Browse(browser, live.url, PHONE)
    b.ctx.add_init_script(NO_SYNTH)
    b.go("/services")
    _tab_to(b.page, "#read-aloud")
    b.page.keyboard.press("Enter")
    b.page.wait_for_function(
        "() => document.getElementById('read-aloud-audio')"
        " || (STATUS.textContent && !STATUS.textContent.endsWith('…'))".replace(
            "STATUS", "document.getElementById('read-aloud-status')"
        ),
        timeout=60_000,
    )
    assert b.page.query_selector("#read-aloud-audio"), b.page.inner_text("#read-aloud-status")
    src = b.page.get_attribute("#read-aloud-audio", "src") or b.page.evaluate(
        "document.getElementById('read-aloud-audio').src"
    )
    assert "/read-aloud/" in src and src.endswith(".wav")
    assert b.page.evaluate("document.getElementById('read-aloud-audio').controls")
    assert len(list((tmp_path / "media" / "speech").glob("*.wav"))) == 1
    b.assert_clean()
    b.close()


def test_a_server_without_espeak_says_so(
    browser: Any,
    live: LiveServer,  # noqa: F811
    monkeypatch: Any,
    tmp_path: Path,
) -> None:
    live.rt.settings.media_dir = tmp_path / "media"
    monkeypatch.setattr(read_aloud, "espeak_available", lambda: False)
    b = Browse(browser, live.url)
    b.ctx.add_init_script(NO_SYNTH)
    b.go("/tour")
    _tab_to(b.page, "#read-aloud")
    b.page.keyboard.press("Enter")
    b.page.wait_for_function(
        "() => document.getElementById('read-aloud-status').textContent.includes('espeak-ng')"
    )
    assert "服务器未安装 espeak-ng" in b.page.inner_text("#read-aloud-status")
    assert b.page.query_selector("#read-aloud-audio") is None
    b.close()
