"""The one JSON response class for answers built by hand (errors, the portal's small JSON endpoints).

Routes that declare a ``response_model`` are serialised by FastAPI through Pydantic straight to bytes;
everything else that answers JSON uses ``JSON``: orjson, Chinese kept as UTF-8, times in ISO 8601.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, default=str, option=orjson.OPT_NON_STR_KEYS)
