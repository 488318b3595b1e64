"""朗读 / Read aloud (issue 18): a control on every citizen page that reads the page's main text.

In the browser, ``static/read_aloud.js`` speaks the text with the Web Speech API (``speechSynthesis``)
when the browser has it. Otherwise — no speech synthesis, no voice for the language, or no script at all
— the control is a plain form that posts the text to ``/read-aloud``; the server speaks it with Debian's
espeak-ng (offline, the tourism guides' ``speak``), keeps the WAV in a cache named by the hash of
(voice, text) and redirects to it: the same text is spoken once, whichever process asks.

Only text this server rendered is spoken: the page carries the text with an HMAC of it under the site's
secret, and the POST is refused without a matching one (nobody can make the city's server say anything
else). What the page quotes from people (marked ``translate="no"``: names, appeal texts, echoed input),
form controls and hidden parts are left out, so personal data never reaches the cache.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response
from markupsafe import Markup, escape

from haoban.config import Settings
from haoban.deps import client_address
from haoban.errors import DomainError, Invalid, NotFound
from haoban.ratelimit import check_rate
from haoban.tourism.guides import MAX_CHARS, espeak_available, speak
from haoban.web.common import PageRoute, redirect, runtime, templates

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# Speaking is CPU work: a few new texts per minute per address (cached ones cost nothing).
SPEAK_RATE_PER_MINUTE = 6
_KEY = re.compile(r"^[0-9a-f]{64}$")
_SKIP_TAGS = {
    *("script", "style", "template", "noscript", "svg"),
    *("select", "option", "textarea", "input", "button"),
}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_BLOCK = {"p", "li", "h1", "h2", "h3", "h4", "dt", "dd", "tr", "section", "div", "label", "legend", "caption"}


class SpeechUnavailable(DomainError):
    status_code = 503
    code = "speech_unavailable"


def voice_for(settings: Settings, lang: str) -> str:
    return settings.speech_voice_en if lang == "en" else settings.tourism_voice


def speech_dir(settings: Settings) -> Path:
    return Path(settings.media_dir) / "speech"


def speech_key(text: str, *, voice: str) -> str:
    return hashlib.sha256(f"{voice}\x00{text}".encode()).hexdigest()


def signature(secret: str, *, voice: str, text: str) -> str:
    return hmac.new(secret.encode(), f"read-aloud|{voice}|{text}".encode(), hashlib.sha256).hexdigest()


class _MainText(HTMLParser):
    """The words a reader sees in the page's main part, block by block, without quoted input."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []  # (tag, skipped)
        self.blocks: list[str] = []
        self.current: list[str] = []

    def _skipping(self) -> bool:
        return any(skipped for _tag, skipped in self.stack)

    def _flush(self) -> None:
        text = " ".join("".join(self.current).split())
        if text:
            self.blocks.append(text)
        self.current = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in _BLOCK:
            self._flush()
        if tag in _VOID:
            return
        skipped = (
            tag in _SKIP_TAGS
            or "hidden" in a
            or a.get("aria-hidden") == "true"
            or a.get("translate") == "no"
            or "data-no-read" in a
            or "sr" in (a.get("class") or "").split()
        )
        self.stack.append((tag, skipped))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break
        if tag in _BLOCK:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self._skipping():
            self.current.append(data)


def main_text(html: str) -> str:
    """The text to read from the rendered main part of a page, cut at a sentence end near MAX_CHARS."""
    parser = _MainText()
    parser.feed(html)
    parser.close()
    parser._flush()
    text = "\n".join(parser.blocks)
    if len(text) <= MAX_CHARS:
        return text
    cut = text[:MAX_CHARS]
    end = max(cut.rfind(c) for c in "。！？.!?\n")
    return cut[: end + 1] if end > MAX_CHARS // 2 else cut


def read_aloud_fields(request: Any, html: str, lang: str) -> Markup:
    """Hidden fields of the read-aloud form: the page's main text, its voice and their signature."""
    settings = request.app.state.runtime.settings
    text = main_text(str(html))
    voice = voice_for(settings, lang)
    sig = signature(settings.secret_key, voice=voice, text=text)
    return Markup(
        f'<input type="hidden" name="text" value="{escape(text)}">'
        f'<input type="hidden" name="lang" value="{escape(lang)}">'
        f'<input type="hidden" name="sig" value="{sig}">'
    )


templates.env.globals["read_aloud_fields"] = read_aloud_fields


def _speak(request: Request, form: dict[str, Any]) -> Response:
    rt = runtime(request)
    settings = rt.settings
    lang = "en" if form.get("lang") == "en" else "zh"
    # Browsers send a form's line breaks as CRLF (HTML's form encoding): the page signed LF.
    text = str(form.get("text") or "").replace("\r\n", "\n")
    voice = voice_for(settings, lang)
    good = signature(settings.secret_key, voice=voice, text=text)
    if not text.strip() or not hmac.compare_digest(str(form.get("sig") or ""), good):
        raise Invalid(
            "read aloud: this page's text could not be checked; reload the page and try again",
            fields={"text": "not signed by this site"},
            message_zh="朗读失败：无法核对本页文字，请刷新页面后再试",
        )
    key = speech_key(text, voice=voice)
    out = speech_dir(settings) / f"{key}.wav"
    if not out.is_file():
        if not espeak_available():
            raise SpeechUnavailable(
                "read-aloud audio is not available: espeak-ng is not installed on the server "
                "(apt-get install espeak-ng); your browser's own reader, or 12345, can help meanwhile",
                message_zh="朗读音频暂不可用：服务器未安装 espeak-ng。"
                "可使用浏览器自带的朗读功能，或拨打 12345。",
            )
        check_rate(
            rt.db,
            scope="speech",
            client=client_address(request),
            limit=SPEAK_RATE_PER_MINUTE,
            message="too many read-aloud requests from your address; wait a minute",
        )
        try:
            speak(text, voice=voice, out=out)
        except (OSError, subprocess.SubprocessError, RuntimeError) as exc:
            raise SpeechUnavailable(
                f"read-aloud audio could not be made: {exc}",
                message_zh="朗读音频生成失败，请稍后再试，或拨打 12345。",
            ) from None
    return redirect(f"/read-aloud/{key}.wav")


@router.post("/read-aloud")
async def read_aloud(request: Request) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    return await run_in_threadpool(_speak, request, form)


@router.get("/read-aloud/{name}")
def read_aloud_audio(request: Request, name: str) -> Response:
    key = name.removesuffix(".wav")
    path = speech_dir(runtime(request).settings) / f"{key}.wav"
    if not _KEY.match(key) or not path.is_file():
        raise NotFound("no such read-aloud audio", message_zh="没有这段朗读音频")
    return FileResponse(path, media_type="audio/wav", headers={"Cache-Control": "public, max-age=86400"})


