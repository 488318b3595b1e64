"""Which department handles a catalogue item (事项): the one look-up bundles and applications use.

Until the service catalogue (``haoban.catalog``) is in place the items come from the list the shipped
bundles reference (``haoban/bundles/definitions/ITEMS.yaml``); switching to the catalogue changes this
module only.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from haoban.bundles.definitions import shipped_items


@cache
def _items() -> dict[str, dict[str, Any]]:
    return {i["code"]: dict(i) for i in shipped_items()}


def item_departments() -> dict[str, str]:
    """Item code → the code of the department that handles it."""
    return {code: i["department"] for code, i in _items().items()}


def item_info(code: str) -> dict[str, Any] | None:
    """Name, kind, time limits and online level of one item (None when unknown)."""
    return _items().get(code)
