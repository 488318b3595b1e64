"""Personal data in free text: phone and ID numbers found in subjects, contents, notes and log lines
are masked the way the structured fields are (138****5678, 430***********1234). Pure, plus a logging
hook that masks every log record before any handler sees it.
"""

from __future__ import annotations

import logging
import re
from typing import Any

# 18-character resident ID numbers (GB 11643) and 15-digit old ones, not inside a longer number.
_ID = re.compile(
    r"(?<![0-9A-Za-z])(\d{3})\d{11}(\d{3}[\dXx])(?![0-9A-Za-z])|(?<!\d)(\d{3})\d{8}(\d{4})(?!\d)"
)
# Mobiles (optionally +86), with or without separators; landlines with an area code.
_MOBILE = re.compile(r"(?<![\d])(?:\+?86[- ]?)?(1[3-9]\d)[- ]?\d{4}[- ]?(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})[- ]\d{3,4}(\d{4})(?!\d)")


def _mask_id(m: re.Match[str]) -> str:
    if m.group(1):
        return m.group(1) + "*" * 11 + m.group(2)
    return m.group(3) + "*" * 8 + m.group(4)


def mask_text(text: str | None) -> str | None:
    """``text`` with every phone and ID number in it masked; None and "" pass through."""
    if not text:
        return text
    out = _ID.sub(_mask_id, text)
    out = _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", out)
    return _LANDLINE.sub(lambda m: f"{m.group(1)}-****{m.group(2)}", out)


class _Masked(logging.LogRecord):
    """A log record whose message, arguments and traceback text carry no phone or ID number."""

    def getMessage(self) -> str:
        return mask_text(super().getMessage()) or ""


_installed = False


def install_log_masking() -> None:
    """Mask personal data in every log record from now on, whatever logger or handler (idempotent)."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.__class__ = _Masked if type(record) is logging.LogRecord else record.__class__
        if record.exc_info and record.exc_info[1] is not None:
            # Formatters print the exception's text; mask it now (handlers reuse exc_text).
            record.exc_text = mask_text(logging.Formatter().formatException(record.exc_info))
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
