"""The intake writer gathers a batch: when fewer orders are queued than its last batch had, it waits
(at most ``gather`` seconds) for that many, so callers coming back one by one after a batch are
written together rather than the first of them alone (see IntakeWriter's notes)."""

from __future__ import annotations

import asyncio
from typing import Any

from haoban.orders.intake import IntakeWriter, prepare_order
from haoban.orders.schemas import OrderCreate
from tests.builders import actors, run_async


def _data(i: int) -> OrderCreate:
    return OrderCreate(content=f"第{i}号：东风路的路灯不亮了，请修理。", type="complaint")


def _writer_with_batches(rt: Any, gather: float) -> tuple[IntakeWriter, list[int], list[int]]:
    """A writer that records the size of every batch it writes, and every wait for more."""
    writer = IntakeWriter(rt.db, gather=gather)
    sizes: list[int] = []
    waits: list[int] = []
    write, wait = writer._write, writer._wait_for_more

    def recording_write(batch: list[Any]) -> Any:
        sizes.append(len(batch))
        return write(batch)

    async def recording_wait(loop: Any) -> None:
        waits.append(len(writer._pending))
        await wait(loop)

    writer._write = recording_write  # type: ignore[method-assign]
    writer._wait_for_more = recording_wait  # type: ignore[method-assign]
    return writer, sizes, waits


def _callers(rt: Any, writer: IntakeWriter, first: int, n: int, *, spaced: bool) -> Any:
    operator = actors(rt)["operator"]

    async def one(i: int) -> str:
        if spaced:  # callers coming back one after another, a loop turn and a millisecond apart
            await asyncio.sleep(0.001 * (i - first))
        return (await writer.submit(prepare_order(rt, data=_data(i), actor=operator))).code

    return asyncio.gather(*(one(i) for i in range(first, first + n)))


def test_callers_coming_back_one_by_one_are_written_in_one_batch(rt: Any) -> None:
    # A generous bound: the writer goes as soon as the fourth order is queued, so the test waits
    # milliseconds, but a slow machine cannot split the batch.
    writer, sizes, waits = _writer_with_batches(rt, gather=5.0)

    async def go() -> list[str]:
        first = await _callers(rt, writer, 0, 4, spaced=False)  # four at once: one batch of 4
        again = await _callers(rt, writer, 4, 4, spaced=True)  # the same four, one by one
        return [*first, *again]

    try:
        codes = run_async(go())
    finally:
        writer.close()
    assert len(set(codes)) == 8
    assert sizes == [4, 4], sizes  # without gathering: [4, 1, 1, 1, 1] or [4, 1, 3]
    assert waits == [1], waits


def test_a_lone_caller_never_waits_and_a_short_batch_waits_at_most_gather(rt: Any) -> None:
    writer, sizes, waits = _writer_with_batches(rt, gather=0.05)

    async def go() -> list[str]:
        codes = list(await _callers(rt, writer, 0, 1, spaced=False))
        codes += await _callers(rt, writer, 1, 1, spaced=False)  # last batch had 1: no wait
        codes += await _callers(rt, writer, 2, 3, spaced=False)  # 3 at once
        codes += await _callers(rt, writer, 5, 1, spaced=False)  # 1 of 3 expected: waits, then goes
        return codes

    try:
        codes = run_async(go())
    finally:
        writer.close()
    assert len(set(codes)) == 6
    assert sizes == [1, 1, 3, 1], sizes
    assert waits == [1], waits  # only the last one waited (for the 3 that never came)
