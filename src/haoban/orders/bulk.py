"""Bulk import of historic orders (CSV / XLSX) and export (CSV, personal data masked).

Import is idempotent: each row carries an external reference (its own id column, or a hash of the row),
so running the same file twice adds nothing the second time. Bad rows are reported by row number and
reason; good rows are kept.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from haoban.auth.actors import Actor
from haoban.errors import DomainError, Invalid
from haoban.orders.citizen import mask_id_number, mask_name, mask_phone
from haoban.orders.intake import prepare_order, write_prepared
from haoban.orders.models import Order
from haoban.orders.schemas import OrderCreate
from haoban.runtime import Runtime
from haoban.security.privacy import mask_text

# Column names accepted on import: English field names, common Chinese headers, the TipDM headers.
HEADER_ALIASES: dict[str, str] = {
    "渠道": "channel",
    "来源": "channel",
    "类型": "type",
    "诉求类型": "type",
    "紧急程度": "urgency",
    "标题": "subject",
    "主题": "subject",
    "留言主题": "subject",
    "内容": "content",
    "诉求内容": "content",
    "详情": "content",
    "留言详情": "content",
    "姓名": "citizen_name",
    "联系人": "citizen_name",
    "电话": "citizen_phone",
    "联系电话": "citizen_phone",
    "手机": "citizen_phone",
    "身份证号": "citizen_id_number",
    "地址": "address",
    "区县": "district",
    "区域": "district",
    "分类": "category",
    "承办单位": "department",
    "主办单位": "department",
    "受理时间": "received_at",
    "留言时间": "received_at",
    "时间": "received_at",
    "编号": "external_ref",
    "工单编号": "external_ref",
    "留言编号": "external_ref",
    "id": "external_ref",
}
FIELDS = set(OrderCreate.model_fields)
TIME_FORMATS = (
    "%Y/%m/%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d",
    "%Y-%m-%d",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
)


@dataclass
class ImportReport:
    total: int = 0
    created: int = 0
    already_present: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def parse_time(value: str, *, tz: ZoneInfo) -> datetime:
    """A time from a spreadsheet; one without an offset is the city's local time (``tz``)."""
    value = value.strip()
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        for fmt in TIME_FORMATS:
            try:
                parsed = datetime.strptime(value, fmt)
                break
            except ValueError:
                continue
        else:
            raise ValueError(f"unreadable time {value!r}; use e.g. 2026-09-30 10:00:00") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (spreadsheet row number, row) with headers mapped to field names."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True, data_only=True)
        sheet = wb.active
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            return
        names = [_field_name(str(h or "")) for h in header]
        for number, values in enumerate(rows, start=2):
            yield number, {n: "" if v is None else str(v) for n, v in zip(names, values, strict=False) if n}
    elif suffix in (".csv", ".txt"):
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                return
            names = [_field_name(h) for h in header]
            for number, values in enumerate(reader, start=2):
                yield number, {n: v for n, v in zip(names, values, strict=False) if n}
    else:
        raise Invalid(f"cannot read {path.name}: use a .csv or .xlsx file")


def _field_name(header: str) -> str | None:
    h = header.strip()
    name = HEADER_ALIASES.get(h, h)
    return name if name in FIELDS else None


def row_to_order(row: dict[str, str], *, source: str, tz: ZoneInfo) -> OrderCreate:
    data: dict[str, Any] = {k: v.strip() for k, v in row.items() if v is not None and str(v).strip() != ""}
    if "received_at" in data:
        data["received_at"] = parse_time(data["received_at"], tz=tz)
    ref = data.get("external_ref")
    if ref:
        data["external_ref"] = f"{source}:{ref}"[:120]
    else:
        digest = hashlib.sha256(repr(sorted(row.items())).encode("utf-8")).hexdigest()[:40]
        data["external_ref"] = f"row:{digest}"
    return OrderCreate.model_validate(data)


def import_file(
    rt: Runtime,
    *,
    path: Path,
    actor: Actor,
    source: str | None = None,
    chunk: int = 500,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    report = ImportReport()
    source = source or path.stem
    pending: list[Any] = []

    def flush() -> None:
        if not pending:
            return
        with rt.db.write() as session:
            results = write_prepared(session, pending)
        for res in results:
            if res.created:
                report.created += 1
            else:
                report.already_present += 1
        if progress:
            progress(len(pending))
        pending.clear()

    for number, row in read_rows(path):
        report.total += 1
        try:
            data = row_to_order(row, source=source, tz=rt.settings.tz)
            pending.append(prepare_order(rt, data=data, actor=actor))
        except ValidationError as exc:
            report.errors.append((number, "; ".join(_describe(e) for e in exc.errors())))
            if progress:
                progress(1)
        except (DomainError, ValueError) as exc:
            detail = getattr(exc, "detail", {}).get("fields") if isinstance(exc, DomainError) else None
            message = ", ".join(f"{k}: {v}" for k, v in detail.items()) if detail else str(exc)
            report.errors.append((number, message))
            if progress:
                progress(1)
        if len(pending) >= chunk:
            flush()
    flush()
    return report


def _describe(error: Any) -> str:
    loc = ".".join(str(x) for x in error.get("loc", ())) or "row"
    return f"{loc}: {error.get('msg', 'invalid')}"


EXPORT_COLUMNS = [
    "code",
    "status",
    "channel",
    "type",
    "urgency",
    "received_at",
    "subject",
    "district",
    "category",
    "department",
    "citizen_name",
    "citizen_phone",
    "citizen_id_number",
    "handle_deadline",
    "replied_at",
    "closed_at",
    "callback_result",
    "redo_count",
    "supervision_level",
]


def export_row(order: Order) -> list[Any]:
    return [
        order.code,
        order.status,
        order.channel,
        order.order_type,
        order.urgency,
        order.received_at.isoformat(),
        mask_text(order.subject),  # free text: phone and ID numbers masked like the fields below
        order.district.name if order.district else "",
        order.category.path if order.category else "",
        order.lead_department.code if order.lead_department else "",
        mask_name(order.citizen_name) or "",
        mask_phone(order.citizen_phone) or "",
        mask_id_number(order.citizen_id_number) or "",
        order.handle_deadline.isoformat(),
        order.replied_at.isoformat() if order.replied_at else "",
        order.closed_at.isoformat() if order.closed_at else "",
        order.callback_result or "",
        order.redo_count,
        order.supervision_level,
    ]
