"""Materials (申请材料): what an upload is, judged by its bytes — never by its name or declared type.

Accepted: PDF, JPEG and PNG, up to ``MAX_BYTES``. Anything else (a renamed executable, a Word file,
an empty file) is refused with the material's field name and what the bytes look like. The engine
sees a material as ``sha256:<hex>``; the bytes are stored once per application.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from haoban.errors import Invalid

MAX_BYTES = 10 * 1024 * 1024
ALLOWED = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}

# (magic prefix, what it is): accepted types first, then well-known refusals for a clear message.
_SIGNATURES: tuple[tuple[bytes, str, str | None], ...] = (
    (b"%PDF-", "PDF", "application/pdf"),
    (b"\xff\xd8\xff", "JPEG", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "PNG", "image/png"),
    (b"MZ", "Windows executable (EXE/DLL)", None),
    (b"\x7fELF", "ELF executable", None),
    (b"\xcf\xfa\xed\xfe", "Mach-O executable", None),
    (b"#!", "script", None),
    (b"PK\x03\x04", "ZIP archive (or Office document)", None),
    (b"\xd0\xcf\x11\xe0", "legacy Office document", None),
    (b"GIF8", "GIF image", None),
    (b"<", "HTML/XML text", None),
)


class TooLarge(Invalid):
    """A material over ``MAX_BYTES``: 413, naming the field."""

    status_code = 413
    code = "too_large"


@dataclass(frozen=True)
class Upload:
    """One file as received: the material key it answers, its name and bytes."""

    key: str
    filename: str
    data: bytes


@dataclass(frozen=True)
class CheckedUpload:
    key: str
    filename: str
    data: bytes
    content_type: str
    sha256: str

    @property
    def ref(self) -> str:
        return f"sha256:{self.sha256}"


def sniff(data: bytes) -> tuple[str, str | None]:
    """(what the bytes look like, the accepted content type or None)."""
    for magic, what, content_type in _SIGNATURES:
        if data.startswith(magic):
            return what, content_type
    return "unknown binary or text", None


def check(upload: Upload) -> CheckedUpload:
    """Size, type by content and digest of one upload, or ``Invalid`` naming ``materials.<key>``."""
    field = f"materials.{upload.key}"
    if not upload.data:
        raise Invalid(
            f"{field}: the file is empty",
            fields={field: "the file is empty"},
            message_zh=f"材料 {upload.key} 是空文件",
        )
    if len(upload.data) > MAX_BYTES:
        raise TooLarge(
            f"{field}: the file is larger than {MAX_BYTES // (1024 * 1024)} MB",
            fields={field: f"larger than {MAX_BYTES // (1024 * 1024)} MB"},
            message_zh=f"材料 {upload.key} 超过 {MAX_BYTES // (1024 * 1024)} MB",
        )
    what, content_type = sniff(upload.data)
    if content_type is None:
        raise Invalid(
            f"{field}: only PDF, JPEG or PNG files are accepted; {upload.filename!r} is a {what}",
            fields={field: f"only PDF, JPEG or PNG; this file is a {what}"},
            message_zh=f"材料 {upload.key} 只接受 PDF、JPEG 或 PNG 文件，“{upload.filename}”的内容不是",
            found=what,
        )
    return CheckedUpload(
        upload.key,
        upload.filename[:200] or f"{upload.key}{ALLOWED[content_type]}",
        upload.data,
        content_type,
        hashlib.sha256(upload.data).hexdigest(),
    )


def check_all(uploads: Mapping[str, Upload]) -> dict[str, CheckedUpload]:
    """Every upload checked; the first problem per file, all files reported together."""
    checked: dict[str, CheckedUpload] = {}
    fields: dict[str, str] = {}
    first: Invalid | None = None
    for key, upload in uploads.items():
        try:
            checked[key] = check(upload)
        except Invalid as exc:
            first = first or exc
            fields.update(exc.detail.get("fields", {}))
    if first is not None:
        first.detail["fields"] = fields
        raise first
    return checked
