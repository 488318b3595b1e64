"""What every benchmark reports about the machine it ran on, and its own PostgreSQL databases."""

from __future__ import annotations

import os
import platform
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "?"
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        ram = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    py = platform.python_version()
    return f"{os.cpu_count()} cores (nproc), {cpu}, {ram} RAM, Python {py}, {platform.system()}"


def _admin_execute(admin_url: str | URL, sql: str) -> None:
    """Run one statement outside a transaction (CREATE / DROP DATABASE cannot run inside one)."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(sql))
    finally:
        admin.dispose()


def drop_database(admin_url: str | URL, name: str) -> None:
    """Drop the database ``name`` if it exists, ending its sessions first (``WITH (FORCE)``), through
    ``admin_url`` (another database of the same server). Only a run's own database: other benches on a
    shared machine keep theirs (an idle ``haoban_bench_*`` one may be between two of another's runs)."""
    _admin_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create_database(admin_url: str | URL, name: str) -> str:
    """The database ``name`` created anew on ``admin_url``'s server (dropped first if it exists, as
    ``drop_database``); returns its URL."""
    drop_database(admin_url, name)
    _admin_execute(admin_url, f'CREATE DATABASE "{name}"')
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def write_section(name: str, body: str) -> None:
    """Replace this benchmark's section of RESULTS.md, keeping its hand-written notes block."""
    begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
    notes_begin, notes_end = f"<!-- notes:{name} -->", f"<!-- /notes:{name} -->"
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    notes = f"{notes_begin}\n_(judgement to be written by hand)_\n{notes_end}"
    if begin in text and end in text:
        old = text[text.index(begin) : text.index(end) + len(end)]
        if notes_begin in old and notes_end in old:
            notes = old[old.index(notes_begin) : old.index(notes_end) + len(notes_end)]
        text = text.replace(old, f"{begin}\n{body}\n{notes}\n{end}")
    else:
        text = text.rstrip("\n") + f"\n\n{begin}\n{body}\n{notes}\n{end}\n"
    RESULTS.write_text(text, encoding="utf-8")
