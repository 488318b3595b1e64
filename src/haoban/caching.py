"""One TTL cache: a value rebuilt at most every ``ttl`` seconds, or at once after ``invalidate``.

The runtime keeps the directory snapshot, the calendar, the SLA table and the dispatch router in these.
Another process's change is seen within ``ttl``; this process's own change calls ``invalidate``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Timed(Generic[T]):
    def __init__(self, build: Callable[[], T], *, ttl: float) -> None:
        self._build = build
        self._ttl = ttl
        self._value: T | None = None
        self._at = 0.0
        self._lock = threading.Lock()

    def get(self) -> T:
        value = self._value
        if value is not None and time.monotonic() - self._at < self._ttl:
            return value
        with self._lock:
            if self._value is None or time.monotonic() - self._at >= self._ttl:
                self._value = self._build()
                self._at = time.monotonic()
            return self._value

    def invalidate(self) -> None:
        with self._lock:
            self._value = None
