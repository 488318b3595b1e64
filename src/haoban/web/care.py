"""长辈版 (elderly-friendly mode, issue 18): one switch on every citizen page, remembered per browser.

The choice is a cookie read by ``base.html`` on the server, so the page arrives already in the mode
(``<html class="care">``, styles in static/elderly.css): no flash, no script needed.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from haoban.web.common import redirect, safe_next
from haoban.web.plain import CARE_COOKIE

router = APIRouter(include_in_schema=False)


@router.get("/care/{mode}")
def set_care(request: Request, mode: str) -> Response:
    response = redirect(safe_next(request.query_params.get("next"), "/portal"))
    if mode == "on":
        response.set_cookie(CARE_COOKIE, "1", max_age=365 * 86400, samesite="lax")
    elif mode == "off":
        response.delete_cookie(CARE_COOKIE)
    return response
