"""The spec's XML documents, built with the standard library (the spec's default format)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from xml.etree import ElementTree as ET


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _fill(parent: ET.Element, data: Mapping[str, Any]) -> None:
    for key, value in data.items():
        child = ET.SubElement(parent, key)
        if isinstance(value, Mapping):
            _fill(child, value)
        elif isinstance(value, list):
            # A list inside a record: one element per item, named after the singular of the key
            # (endpoints → endpoint, formats → format), as the spec's discovery document has it.
            for item in value:
                sub = ET.SubElement(child, key.removesuffix("s"))
                if isinstance(item, Mapping):
                    _fill(sub, item)
                else:
                    sub.text = _text(item)
        else:
            child.text = _text(value)


def document(root: str, item: str | None, body: Mapping[str, Any] | Iterable[Mapping[str, Any]]) -> bytes:
    """``<root><item>…</item>…</root>`` for a list, or ``<root>…</root>`` for one record."""
    top = ET.Element(root)
    if item is None:
        _fill(top, body)  # type: ignore[arg-type]
    else:
        for record in body:  # type: ignore[union-attr]
            _fill(ET.SubElement(top, item), record)
    return ET.tostring(top, encoding="utf-8", xml_declaration=True)
