"""Running numbers behind tracking codes (HB + yyyymmdd + number + random digits), without a hot lock.

The numbers of a day come from the ``code_counters`` row of that day, which the database increments
atomically (``INSERT … ON CONFLICT DO UPDATE … RETURNING``). Doing that inside a write batch's
transaction would hold the row's lock until the batch commits, so every writer of every server process
would commit one after the other. On PostgreSQL a process therefore reserves a **block** of numbers
(:data:`BLOCK`, or the batch's size if larger) in a short transaction of its own (one autocommit
statement: the row lock lasts for that statement only) and hands them out from memory.

What this means for the codes:

- **Unique**: every number is handed out once — a block belongs to one process (a forked child starts
  with no block of its own), and within the process one lock guards the block.
- **Not gap-free**: numbers of a block that a process did not use when it stopped, when the day ended,
  or of a batch that was rolled back, are never issued. Codes were never meant to count orders (count
  the ``orders`` rows), and the three random digits at the end already make codes non-consecutive.
- **Sorted by day, not by minute across processes**: within one process numbers rise with time; two
  processes draw from two blocks, so process B's ``…000051…`` may be issued before process A's
  ``…000012…``. Order by ``received_at``/``created_at`` where time order matters.

On SQLite (one writer at a time for the whole file anyway) the numbers are reserved inside the batch's
transaction, exactly as many as it needs, so a rolled-back batch leaves no gap; a separate transaction
there would wait behind the caller's own write lock.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

BLOCK = 50  # numbers a PostgreSQL server process reserves at a time

_NEXT = text(
    "INSERT INTO code_counters (day, value) VALUES (:day, :n) "
    "ON CONFLICT (day) DO UPDATE SET value = code_counters.value + excluded.value RETURNING value"
)


def reserve_numbers(session: Session, key: str, count: int) -> int:
    """Reserve ``count`` numbers of the counter ``key`` (at most 8 characters) atomically inside the
    caller's transaction (SQLite ≥ 3.35, PostgreSQL); returns the last one. Orders count per day; other
    records use keys of their own."""
    return int(session.execute(_NEXT, {"day": key, "n": count}).scalar_one())


class NumberBlocks:
    """One process's reserved blocks for one database (kept on its engine's dialect)."""

    def __init__(self, block: int = BLOCK) -> None:
        self.block = block
        self.pid = os.getpid()
        self.reservations = 0  # round trips to the counter row, for tests and the benchmark notes
        self.id_draws = 0  # draws from the orders id sequence
        self._lock = threading.Lock()
        self._free: dict[str, tuple[int, int]] = {}  # key -> (next number, last number) of the block
        self._ids: list[int] = []  # order ids drawn from the sequence and not used yet

    def take(self, engine: Any, key: str, count: int) -> list[int]:
        """``count`` unused numbers of ``key``, in rising order (reserving a new block when needed)."""
        with self._lock:
            nxt, last = self._free.get(key, (1, 0))
            out = list(range(nxt, min(last, nxt + count - 1) + 1))
            if len(out) < count:
                need = count - len(out)
                size = max(self.block, need)
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    top = int(conn.execute(_NEXT, {"day": key, "n": size}).scalar_one())
                self.reservations += 1
                first = top - size + 1
                out.extend(range(first, first + need))
                nxt, last = first + need, top
                # A new key (a new day) retires the blocks of the others: bounded memory, and a gap.
                self._free = {k: v for k, v in self._free.items() if k == key}
            else:
                nxt = nxt + count
            self._free[key] = (nxt, last)
            return out

    def take_ids(self, session: Session, count: int) -> list[int]:
        """``count`` order ids from the ``orders`` id sequence, drawn :data:`BLOCK` at a time.

        ``nextval`` is not transactional and holds no lock, so drawing in the caller's transaction is
        safe; a rolled-back batch's ids, and those left when the process stops, are simply never used
        (sequences have such gaps anyway)."""
        with self._lock:
            if len(self._ids) < count:
                self._ids.extend(
                    session.execute(_NEXT_IDS, {"n": max(self.block, count - len(self._ids))}).scalars()
                )
                self.id_draws += 1
            out, self._ids = self._ids[:count], self._ids[count:]
            return out


_NEXT_IDS = text("SELECT nextval(pg_get_serial_sequence('orders', 'id')) FROM generate_series(1, :n)")
_BLOCKS_LOCK = threading.Lock()


def blocks_of(engine: Any) -> NumberBlocks:
    """The process's blocks for ``engine``'s database (a new set after a fork)."""
    dialect = engine.dialect
    with _BLOCKS_LOCK:
        blocks: NumberBlocks | None = getattr(dialect, "haoban_number_blocks", None)
        if blocks is None or blocks.pid != os.getpid():
            blocks = NumberBlocks()
            dialect.haoban_number_blocks = blocks
        return blocks


def take_numbers(session: Session, key: str, count: int) -> list[int]:
    """``count`` numbers of the counter ``key`` for the caller's write: from the process's block on
    PostgreSQL, reserved in the caller's transaction on SQLite (see the module's notes)."""
    bind = session.get_bind()
    engine = getattr(bind, "engine", bind)
    if engine.dialect.name != "postgresql":
        last = reserve_numbers(session, key, count)
        return list(range(last - count + 1, last + 1))
    return blocks_of(engine).take(engine, key, count)


def take_order_ids(session: Session, count: int) -> list[int]:
    """``count`` fresh order ids for the caller's write (see :meth:`NumberBlocks.take_ids`); on SQLite,
    whose write transaction excludes every other writer, the next ids after the largest stored."""
    bind = session.get_bind()
    engine = getattr(bind, "engine", bind)
    if engine.dialect.name != "postgresql":
        top = session.execute(text("SELECT COALESCE(MAX(id), 0) FROM orders")).scalar() or 0
        return list(range(top + 1, top + count + 1))
    return blocks_of(engine).take_ids(session, count)
