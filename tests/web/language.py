"""A reusable check that a page speaks one language (issue 13): no stray English in the Chinese UI and no
stray Chinese in the English UI.

``untranslated(html, lang)`` returns the words a reader would see in the other language: text nodes and
the ``title``, ``placeholder``, ``aria-label`` and ``alt`` attributes, leaving out scripts, styles,
code-like elements (``code``, ``kbd``, ``pre``, ``.mono``, ``textarea``) and anything inside an element
marked ``translate="no"`` — what people typed (appeals, replies, names, addresses) and proper names — or
declaring another language with ``lang`` (text that exists only in that language, marked as such).
Allowed words: codes and brand names (``ALLOW_EN``) in Chinese pages, proper names (``ALLOW_ZH``) in
English ones; a caller adds its own. The citizen pages can be checked with the same helper.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html.parser import HTMLParser

SKIP_TAGS = {"script", "style", "code", "kbd", "pre", "textarea", "svg", "noscript"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
ATTRS = ("title", "placeholder", "aria-label", "alt")

# Words a Chinese page may show in Latin letters: brand, standards, keys, formats, the language switch.
ALLOW_EN = {
    "haoban",
    "ai",
    "csv",
    "api",
    "kpi",
    "alt",
    "ctrl",
    "enter",
    "english",
    "png",
    "sha",
    "utf",
    "gbk",
    "gb",
    "yaml",
    "json",
    "excel",
    "yyyy",
    "mm",
    "dd",
    "id",
    "sms",
    "pdf",
    "plotly",
    "openapi",
    "totp",
    "ok",
    "date",
    "kind",
    "name",
    "holiday",
    "makeup_workday",
    "workday",  # the calendar file's column names
    "jpeg",
    "mb",
    "kb",  # file formats and sizes, written so in Chinese too
    "dmn",
    "georeport",
    "bpmn",  # standards' names
}
# Chinese an English page may show: what has no English name in the directory (categories), holidays'
# official names, the language switch.
ALLOW_ZH = {"中文", "帮代办"}  # 帮代办: the term of art the volunteer role's English label glosses

_EN_WORD = re.compile(r"[A-Za-z][A-Za-z_'’-]*[A-Za-z]|[A-Za-z]")
# tracking codes (orders, cases, applications, service visits, grants, help requests), and the standard's name
_CODE = re.compile(r"\b(?:HB|BC|BJ|CK|MS|BB)\d+|\bOpen311\b|/open311/v2\b")
_ZH_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")


class _Text(HTMLParser):
    def __init__(self, page_lang: str = "") -> None:
        super().__init__(convert_charrefs=True)
        self.page_lang = page_lang
        self.stack: list[tuple[str, bool]] = []  # (tag, skipped)
        self.chunks: list[str] = []

    def _skipping(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        skip = (
            self._skipping()
            or tag in SKIP_TAGS
            or a.get("translate") == "no"
            or "mono" in (a.get("class") or "").split()
            or a.get("type") == "hidden"
            or (tag != "html" and _other_language(a.get("lang"), self.page_lang))
        )
        if not skip:
            self.chunks.extend(str(a[k]) for k in ATTRS if a.get(k))
            if tag == "input" and a.get("type") in ("submit", "button") and a.get("value"):
                self.chunks.append(str(a["value"]))
        if tag not in VOID:
            self.stack.append((tag, skip))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.stack and self.stack[-1][0] == tag:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):  # tolerate unclosed tags (<p>, <li>)
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        if not self._skipping() and data.strip():
            self.chunks.append(data)


def _other_language(declared: str | None, page_lang: str) -> bool:
    """An element that declares its own language (``lang="en"`` on an English name in a Chinese page,
    ``lang="zh-CN"`` on text that exists only in Chinese): a reader's tools switch to it, so it is not
    stray text."""
    if not declared or not page_lang:
        return False
    return declared.split("-")[0].lower() != page_lang


def visible_text(html: str, lang: str = "") -> list[str]:
    parser = _Text(lang)
    parser.feed(html)
    parser.close()
    return parser.chunks


def untranslated(html: str, lang: str, *, allow: Iterable[str] = ()) -> list[str]:
    """Words in the other language than ``lang`` that a reader of the page would see."""
    allowed = {w.lower() for w in allow}
    found: list[str] = []
    for chunk in visible_text(html, lang):
        if lang == "zh":
            chunk = _CODE.sub(" ", chunk)  # tracking codes (HB…, BC…, BJ…) and Open311 are names
            for w in _EN_WORD.findall(chunk):
                lw = w.lower()
                if len(w) == 1 or lw in ALLOW_EN or lw in allowed:
                    continue
                found.append(w)
        else:
            for run in _ZH_RUN.findall(chunk):
                if run in ALLOW_ZH or run in allowed:
                    continue
                found.append(run)
    return found
