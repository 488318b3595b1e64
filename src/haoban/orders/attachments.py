"""Photos of an order (照片附件): the citizen's with the appeal, the department's with its reply.

Every upload is checked by its content (JPEG or PNG magic and a decodable image, never the name or the
declared type), turned upright, re-encoded without any metadata (EXIF, comments, ICC text: nothing the
camera wrote survives) and shrunk to at most ``MAX_SIDE`` pixels, with a ``THUMB_SIDE`` thumbnail. The
camera's GPS position is read before it is stripped and offered to the citizen as the place.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from haoban.db import utcnow
from haoban.errors import Invalid
from haoban.orders.models import OrderAttachment

MAX_BYTES = 8 * 1024 * 1024  # one photo as uploaded
MAX_PHOTOS = 4  # per appeal, and per reply
MAX_PIXELS = 40_000_000  # a larger image is refused before it is decoded (decompression bombs)
MAX_SIDE = 1600
THUMB_SIDE = 320
KINDS: dict[bytes, tuple[str, str]] = {
    b"\xff\xd8\xff": ("JPEG", "image/jpeg"),
    b"\x89PNG\r\n\x1a\n": ("PNG", "image/png"),
}
ORIGINS = ("citizen", "staff")
_GPS_IFD = 0x8825


@dataclass(frozen=True)
class Photo:
    """An upload made safe: the clean image, its thumbnail, and the place the camera recorded."""

    content_type: str
    data: bytes
    thumb: bytes
    width: int
    height: int
    latitude: float | None
    longitude: float | None


def _ratio(value: object) -> float:
    if isinstance(value, tuple) and len(value) == 2:
        return float(value[0]) / float(value[1]) if value[1] else 0.0
    return float(value)  # type: ignore[arg-type]


def _degrees(dms: object, ref: object) -> float | None:
    try:
        d, m, s = (_ratio(x) for x in dms)  # type: ignore[union-attr]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    value = d + m / 60 + s / 3600
    return -value if str(ref).upper() in ("S", "W") else value


def gps_of(image: Image.Image) -> tuple[float | None, float | None]:
    """The EXIF GPS position (WGS-84 degrees), or (None, None)."""
    try:
        gps = image.getexif().get_ifd(_GPS_IFD)
    except Exception:  # a damaged EXIF block is no reason to refuse the photo
        return None, None
    if not gps or 2 not in gps or 4 not in gps:
        return None, None
    lat, lon = _degrees(gps[2], gps.get(1, "N")), _degrees(gps[4], gps.get(3, "E"))
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None, None
    return round(lat, 6), round(lon, 6)


def _encode(image: Image.Image, fmt: str) -> bytes:
    """The pixels only: Pillow would carry comments, ICC and other metadata over from ``info``."""
    image.info = {}
    out = io.BytesIO()
    if fmt == "JPEG":
        image.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
    else:
        image.save(out, "PNG", optimize=True)
    return out.getvalue()


def clean(raw: bytes, *, name: str = "photo") -> Photo:
    """Check an upload by its content and make it safe to keep and show; ``Invalid`` says what is wrong."""
    if not raw:
        raise Invalid("the photo is empty", fields={"photos": f"{name}: empty file"})
    if len(raw) > MAX_BYTES:
        raise Invalid("the photo is too large", fields={"photos": f"{name}: larger than 8 MB"})
    kind = next((v for magic, v in KINDS.items() if raw.startswith(magic)), None)
    if kind is None:
        raise Invalid("only JPEG and PNG photos", fields={"photos": f"{name}: not a JPEG or PNG image"})
    fmt, content_type = kind
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            if probe.format != fmt:
                raise UnidentifiedImageError
            if probe.width * probe.height > MAX_PIXELS:
                raise Invalid("the photo is too large", fields={"photos": f"{name}: too many pixels"})
            probe.verify()
        image = Image.open(io.BytesIO(raw))
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise Invalid("the photo cannot be read", fields={"photos": f"{name}: damaged image"}) from None
    lat, lon = gps_of(image)
    image = ImageOps.exif_transpose(image)  # upright before the orientation tag goes
    if image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
        image = image.convert("RGB")
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    data = _encode(image, fmt)
    thumb_image = image.copy()
    thumb_image.thumbnail((THUMB_SIDE, THUMB_SIDE))
    return Photo(
        content_type=content_type,
        data=data,
        thumb=_encode(thumb_image, fmt),
        width=image.width,
        height=image.height,
        latitude=lat,
        longitude=lon,
    )


def add(
    session: Session, *, order_id: int, photo: Photo, origin: str, uploaded_by: str, public: bool = False
) -> OrderAttachment:
    """Keep a cleaned photo with its order (in the caller's transaction)."""
    if origin not in ORIGINS:
        raise ValueError(f"unknown origin {origin!r}")
    count = len(list_for(session, order_id=order_id, origin=origin))
    if count >= MAX_PHOTOS * (3 if origin == "staff" else 1):
        raise Invalid("too many photos", fields={"photos": f"at most {MAX_PHOTOS} photos"})
    row = OrderAttachment(
        order_id=order_id,
        origin=origin,
        uploaded_by=uploaded_by,
        uploaded_at=utcnow(),
        content_type=photo.content_type,
        width=photo.width,
        height=photo.height,
        size=len(photo.data),
        sha256=hashlib.sha256(photo.data).hexdigest(),
        latitude=photo.latitude,
        longitude=photo.longitude,
        public=public,
        data=photo.data,
        thumb=photo.thumb,
    )
    session.add(row)
    session.flush()
    return row


def list_for(session: Session, *, order_id: int, origin: str | None = None) -> list[OrderAttachment]:
    stmt = select(OrderAttachment).where(OrderAttachment.order_id == order_id)
    if origin:
        stmt = stmt.where(OrderAttachment.origin == origin)
    return list(session.scalars(stmt.order_by(OrderAttachment.id)))


def get(session: Session, *, order_id: int, attachment_id: int) -> OrderAttachment | None:
    return session.scalar(
        select(OrderAttachment).where(
            OrderAttachment.order_id == order_id, OrderAttachment.id == attachment_id
        )
    )


def view(a: OrderAttachment) -> dict[str, object]:
    return {
        "id": a.id,
        "origin": a.origin,
        "content_type": a.content_type,
        "width": a.width,
        "height": a.height,
        "size": a.size,
        "uploaded_at": a.uploaded_at,
        "uploaded_by": a.uploaded_by,
        "latitude": a.latitude,
        "longitude": a.longitude,
        "public": a.public,
    }
