"""Data sources imported from CSV: residents (户籍), births, medical insurance, companies, tax, employment.

Each source has a schema (columns, which are required, how each value is read). A file is checked in
full before anything is stored: any bad row refuses the whole file with every problem by CSV line
number (the header is line 1). A good file is upserted by its key; a row whose values did not change is
left alone, so importing the same file twice changes nothing. Every changed row, and the subject it
belongs to, is stamped with the import's id (``seq``), which is how the matching job finds what changed.
ID numbers are stored encrypted: rows are found and joined by their blind indexes (``BLIND_INDEXES``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from haoban.auth.actors import Actor
from haoban.benefits.identity import normalise_account, normalise_credit_code
from haoban.benefits.models import (
    BLIND_INDEXES,
    BenefitImport,
    Birth,
    Company,
    EmploymentRecord,
    Insurance,
    Resident,
    TaxRecord,
)
from haoban.db import Base, insert_returning_id, utcnow
from haoban.errors import Invalid
from haoban.orders.citizen import normalise_id_number, normalise_phone
from haoban.security.crypto import cipher_of

CHUNK = 2000
MAX_ERRORS = 50


# --- value readers (raise ValueError with a message a person can act on) --------------------------------


def _text(limit: int) -> Callable[[str], str]:
    def read(v: str) -> str:
        if len(v) > limit:
            raise ValueError(f"longer than {limit} characters")
        return v

    return read


def _date(v: str) -> date:
    try:
        return date.fromisoformat(v)
    except ValueError:
        raise ValueError("a date is written YYYY-MM-DD") from None


def _int(lo: int, hi: int) -> Callable[[str], int]:
    def read(v: str) -> int:
        try:
            n = int(v)
        except ValueError:
            raise ValueError("a whole number is expected") from None
        if not lo <= n <= hi:
            raise ValueError(f"must be between {lo} and {hi}")
        return n

    return read


def _choice(*allowed: str, aliases: dict[str, str] | None = None) -> Callable[[str], str]:
    def read(v: str) -> str:
        v = (aliases or {}).get(v, v)
        if v not in allowed:
            raise ValueError(f"one of: {', '.join(allowed)}")
        return v

    return read


def _bool(v: str) -> bool:
    low = v.lower()
    if low in ("true", "1", "yes", "y", "是"):
        return True
    if low in ("false", "0", "no", "n", "否"):
        return False
    raise ValueError("true or false (是/否)")


def _yuan_to_fen(v: str) -> int:
    try:
        cents = round(float(v) * 100)
    except ValueError:
        raise ValueError("an amount in yuan, e.g. 12345.67") from None
    if cents < 0:
        raise ValueError("an amount cannot be negative")
    return cents


SEX = _choice("M", "F", aliases={"男": "M", "女": "F", "m": "M", "f": "F"})


@dataclass(frozen=True)
class Column:
    name: str
    read: Callable[[str], Any]
    required: bool = True
    target: str | None = None  # the model attribute, when it differs from the CSV column


@dataclass(frozen=True)
class Source:
    name: str
    zh: str
    model: type[Base]
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    # The subject a row belongs to: (subject model, its key attribute, the row's attribute holding it).
    subject: tuple[type[Base], str, str] | None = None
    checks: tuple[Callable[[dict[str, Any]], str | None], ...] = field(default=())

    def attr(self, col: Column) -> str:
        return col.target or col.name


def _birth_matches_id(row: dict[str, Any]) -> str | None:
    idn, born = row.get("id_number") or row.get("child_id_number"), row.get("birth_date")
    if idn and born and idn[6:14] != born.strftime("%Y%m%d"):
        return "birth_date does not match the birth date inside the ID number"
    return None


RESIDENTS = Source(
    "residents",
    "户籍人口",
    Resident,
    ("id_number",),
    (
        Column("id_number", normalise_id_number),
        Column("name", _text(60)),
        Column("sex", SEX),
        Column("birth_date", _date),
        Column("district", _text(40), required=False),
        Column("hukou_status", _choice("active", "moved_out", "deceased"), required=False),
        Column("phone", normalise_phone, required=False),
        Column("bank_account", normalise_account, required=False),
        Column("guardian_id_number", normalise_id_number, required=False),
    ),
    subject=(Resident, "id_index", "id_index"),
    checks=(_birth_matches_id,),
)
BIRTHS = Source(
    "births",
    "出生登记",
    Birth,
    ("child_id_number",),
    (
        Column("child_id_number", normalise_id_number),
        Column("child_name", _text(60), target="name"),
        Column("sex", SEX),
        Column("birth_date", _date),
        Column("mother_id_number", normalise_id_number),
        Column("father_id_number", normalise_id_number, required=False),
        Column("hospital", _text(100), required=False),
        Column("district", _text(40), required=False),
    ),
    subject=(Resident, "id_index", "child_index"),
    checks=(_birth_matches_id,),
)
INSURANCE = Source(
    "insurance",
    "医保参保",
    Insurance,
    ("id_number",),
    (
        Column("id_number", normalise_id_number),
        Column("medical_scheme", _choice("employee", "resident", "none")),
        Column("enrolled_on", _date, required=False),
    ),
    subject=(Resident, "id_index", "id_index"),
)
COMPANIES = Source(
    "companies",
    "市场主体",
    Company,
    ("credit_code",),
    (
        Column("credit_code", normalise_credit_code),
        Column("name", _text(120)),
        Column("size", _choice("large", "medium", "small", "micro")),
        Column("district", _text(40), required=False),
        Column("status", _choice("active", "deregistered"), required=False),
        Column("contact_name", _text(60), required=False),
        Column("contact_phone", normalise_phone, required=False),
        Column("bank_account", normalise_account, required=False),
    ),
    subject=(Company, "credit_code", "credit_code"),
)
TAX = Source(
    "tax",
    "税务（社保费征收）",
    TaxRecord,
    ("credit_code", "year"),
    (
        Column("credit_code", normalise_credit_code),
        Column("year", _int(2000, 2100)),
        Column("ui_contributions_yuan", _yuan_to_fen, target="ui_contributions_fen"),
        Column("in_arrears", _bool, required=False),
    ),
    subject=(Company, "credit_code", "credit_code"),
)
EMPLOYMENT = Source(
    "employment",
    "就业参保",
    EmploymentRecord,
    ("credit_code", "year"),
    (
        Column("credit_code", normalise_credit_code),
        Column("year", _int(2000, 2100)),
        Column("insured_start", _int(0, 10_000_000)),
        Column("layoffs", _int(0, 10_000_000)),
    ),
    subject=(Company, "credit_code", "credit_code"),
    checks=(lambda r: "layoffs exceed insured_start" if r["layoffs"] > r["insured_start"] else None,),
)
SOURCES: dict[str, Source] = {s.name: s for s in (RESIDENTS, BIRTHS, INSURANCE, COMPANIES, TAX, EMPLOYMENT)}
DEFAULTS: dict[str, dict[str, Any]] = {
    "residents": {"district": "", "hukou_status": "active"},
    "births": {"hospital": "", "district": ""},
    "companies": {"district": "", "status": "active", "contact_name": ""},
    "tax": {"in_arrears": False},
}


@dataclass
class ImportReport:
    source: str
    import_id: int | None
    rows: int
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


# --- checking ------------------------------------------------------------------------------------------


def check_rows(
    source: Source, rows: Iterable[dict[str, str | None]], *, first_line: int = 2
) -> list[dict[str, Any]]:
    """Read and check every row; raise ``Invalid`` listing the problems by line (nothing is stored)."""
    clean: list[dict[str, Any]] = []
    problems: list[dict[str, Any]] = []
    seen: dict[tuple[Any, ...], int] = {}
    defaults = DEFAULTS.get(source.name, {})
    for line, raw in enumerate(rows, start=first_line):
        row: dict[str, Any] = {}
        bad = False
        for col in source.columns:
            value = (raw.get(col.name) or "").strip()
            if not value:
                if col.required:
                    problems.append({"line": line, "column": col.name, "reason": "required"})
                    bad = True
                else:
                    row[col.name] = defaults.get(source.attr(col))
                continue
            try:
                row[col.name] = col.read(value)
            except ValueError as exc:
                problems.append({"line": line, "column": col.name, "reason": f"{value!r}: {exc}"})
                bad = True
        if not bad:
            for check in source.checks:
                reason = check(row)
                if reason:
                    problems.append({"line": line, "column": "", "reason": reason})
                    bad = True
            key = tuple(row[k] for k in source.key)
            if key in seen:
                problems.append(
                    {
                        "line": line,
                        "column": ",".join(source.key),
                        "reason": f"the same key as line {seen[key]}",
                    }
                )
                bad = True
            seen[key] = line
        if len(problems) >= MAX_ERRORS:
            break
        if not bad:
            clean.append({source.attr(c): row[c.name] for c in source.columns})
    if problems:
        first = problems[0]
        raise Invalid(
            f"{source.name}: line {first['line']}"
            + (f", {first['column']}" if first["column"] else "")
            + f": {first['reason']}"
            + (
                f" (and {len(problems) - 1} more problems; nothing was imported)"
                if len(problems) > 1
                else " (nothing was imported)"
            ),
            fields={"file": f"line {first['line']}: {first['reason']}"},
            problems=problems,
        )
    return clean


def read_csv(data: bytes | str, source: Source) -> Iterator[dict[str, str | None]]:
    """Rows of a UTF-8 CSV (a BOM is fine); refuse missing required and unknown columns up front."""
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data.removeprefix("\ufeff")
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    known = {c.name for c in source.columns}
    missing = [c.name for c in source.columns if c.required and c.name not in header]
    unknown = [h for h in header if h not in known]
    if missing or unknown:
        reason = "; ".join(
            x
            for x in (
                f"missing columns: {', '.join(missing)}" if missing else "",
                f"unknown columns: {', '.join(unknown)} (expected: {', '.join(sorted(known))})"
                if unknown
                else "",
            )
            if x
        )
        raise Invalid(
            f"{source.name}: line 1 (header): {reason}; nothing was imported",
            fields={"file": f"line 1: {reason}"},
            problems=[{"line": 1, "column": "", "reason": reason}],
        )
    reader.fieldnames = header
    for raw in reader:
        yield {k: v for k, v in raw.items() if k is not None}


# --- storing -------------------------------------------------------------------------------------------


def index_of(session: Session, id_number: str) -> str:
    """The blind index an ID number is found by in the registers (``Resident.id_index`` …)."""
    return cipher_of(session.get_bind().dialect).blind_index(id_number)


def with_blind_indexes(
    session: Session, model: type[Base], rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """``rows`` with the blind index of each ID number they carry (``BLIND_INDEXES``), for ``model``."""
    pairs = BLIND_INDEXES.get(model, ())
    if not pairs:
        return rows
    cipher = cipher_of(session.get_bind().dialect)
    return [r | {ix: cipher.maybe_index(r[col]) for col, ix in pairs if col in r} for r in rows]


def import_csv(
    session: Session, *, source_name: str, data: bytes | str, filename: str, actor: Actor
) -> ImportReport:
    source = _source(source_name)
    rows = check_rows(source, read_csv(data, source))
    return store_rows(session, source=source, rows=rows, filename=filename, actor=actor)


def _source(name: str) -> Source:
    try:
        return SOURCES[name]
    except KeyError:
        raise Invalid(
            f"unknown data source {name!r}; sources are: {', '.join(SOURCES)}",
            fields={"source": f"one of {', '.join(SOURCES)}"},
        ) from None


def store_rows(
    session: Session,
    *,
    source: Source,
    rows: list[dict[str, Any]],
    filename: str,
    actor: Actor,
    origin: str = "csv",
) -> ImportReport:
    """Upsert checked rows under a new import id; stamp what changed and the subjects it belongs to."""
    # The import's id stamps its rows: it is inserted on its own (RETURNING id), not by flushing the
    # caller's whole transaction (a birth registered by a bulk approval wrote that approval's pending
    # rows one application at a time).
    imports = BenefitImport.__table__
    imp_id = insert_returning_id(
        session,
        imports,
        {
            "source": source.name,
            "filename": filename[:200],
            "rows": len(rows),
            "actor_name": actor.name,
            "at": utcnow(),
        },
    )
    report = ImportReport(source=source.name, import_id=imp_id, rows=len(rows))
    if source is BIRTHS:
        child_rows = [
            {
                "id_number": r["child_id_number"],
                "name": r["name"],
                "sex": r["sex"],
                "birth_date": r["birth_date"],
                "district": r["district"] or "",
                "hukou_status": "active",
                "phone": None,
                "bank_account": None,
                "guardian_id_number": r["mother_id_number"],
            }
            for r in rows
        ]
        # The newborn becomes a resident (guardian: the mother) unless the register already has them.
        _upsert(session, RESIDENTS, child_rows, imp_id, report=None, keep_existing=True)
        rows = [
            {k: v for k, v in r.items() if k not in ("name", "sex", "district")} | {"origin": origin}
            for r in rows
        ]
    changed = _upsert(session, source, rows, imp_id, report=report)
    if source.subject is not None and source.model is not source.subject[0] and changed:
        model, key_attr, row_attr = source.subject
        keys = sorted({r[row_attr] for r in changed})
        key_col = getattr(model, key_attr)
        for i in range(0, len(keys), CHUNK):
            session.execute(update(model).where(key_col.in_(keys[i : i + CHUNK])).values(seq=imp_id))
    session.connection().execute(
        update(imports).where(imports.c.id == imp_id).values(inserted=report.inserted, updated=report.updated)
    )
    return report


def _upsert(
    session: Session,
    source: Source,
    rows: list[dict[str, Any]],
    seq: int,
    *,
    report: ImportReport | None,
    keep_existing: bool = False,
) -> list[dict[str, Any]]:
    model = source.model
    table = model.__table__  # type: ignore[attr-defined]
    # An encrypted key (an ID number) is matched by its blind index.
    index_of = dict(BLIND_INDEXES.get(model, ()))
    key_attrs = tuple(index_of.get(k, k) for k in source.key)
    rows = with_blind_indexes(session, model, rows)
    keys = [getattr(model, k) for k in key_attrs]
    attrs = [c.name for c in table.columns if c.name not in ("id", "seq")]
    changed: list[dict[str, Any]] = []
    for i in range(0, len(rows), CHUNK):
        chunk = rows[i : i + CHUNK]
        if len(keys) == 1:
            cond = keys[0].in_([r[key_attrs[0]] for r in chunk])
        else:  # (credit_code, year): narrow by the first key, match the pair in Python
            cond = keys[0].in_(sorted({r[key_attrs[0]] for r in chunk}))
        existing = {
            tuple(getattr(e, k) for k in key_attrs): e
            for e in session.execute(select(table).where(cond)).all()
        }
        new, upd = [], []
        for r in chunk:
            key = tuple(r[k] for k in key_attrs)
            old = existing.get(key)
            if old is None:
                new.append({**r, "seq": seq})
            elif keep_existing:
                continue
            elif any(getattr(old, a) != r[a] for a in attrs if a in r):
                upd.append({**r, "id": old.id, "seq": seq})
            elif report is not None:
                report.unchanged += 1
        if new:
            session.execute(insert(model), new)
        if upd:
            session.execute(update(model), upd)
        changed += new + upd
        if report is not None:
            report.inserted += len(new)
            report.updated += len(upd)
    return changed
