"""Photos posted with a form (the portal's appeal, the order page's upload, the handler's reply): read
and cleaned before anything is stored, every problem in the page's language."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile

from haoban.errors import Invalid
from haoban.orders import attachments
from haoban.web.i18n import translate

__all__ = ["clean_all", "read_photos"]


async def read_photos(form: Any, field: str = "photos") -> list[tuple[str, bytes]]:
    """The files posted under ``field`` (empty file inputs dropped), read up to the per-photo cap."""
    out: list[tuple[str, bytes]] = []
    for item in form.getlist(field):
        if isinstance(item, UploadFile) and item.filename:
            out.append((item.filename[:80], await item.read(attachments.MAX_BYTES + 1)))
    return out


def clean_all(files: list[tuple[str, bytes]], lang: str) -> list[attachments.Photo]:
    """Every photo cleaned, or ``Invalid`` naming the first one at fault (in the page's language)."""
    if len(files) > attachments.MAX_PHOTOS:
        raise Invalid(
            "too many photos",
            fields={"photos": translate("ph_too_many", lang).format(n=attachments.MAX_PHOTOS)},
        )
    photos = []
    for name, raw in files:
        try:
            photos.append(attachments.clean(raw, name=name))
        except Invalid as exc:
            problem = exc.detail.get("fields", {}).get("photos", "")
            key = "ph_not_image" if "JPEG" in problem or "damaged" in problem else "ph_too_large"
            if "empty" in problem:
                key = "ph_not_image"
            raise Invalid(exc.message, fields={"photos": f"{name}: {translate(key, lang)}"}) from None
    return photos
