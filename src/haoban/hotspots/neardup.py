"""Near-duplicate orders (并单 candidates): MinHash LSH over character shingles.

On registration the hotline asks: is an open order already saying the same thing about the same
place? Two messages are near-duplicates when their sets of 3-character shingles (of the text with
punctuation and spaces removed, full-width folded) have Jaccard similarity ≥ ``threshold``.
MinHash signatures use datasketch's permutation scheme (affine32, computed here in one numpy
step); LSH banding finds the candidates in sub-linear time; each candidate is then checked with
the exact Jaccard of the stored shingle sets, so the reported similarity is exact and LSH false
positives are dropped. District and category must agree when both sides know them, and the two
orders must lie within ``window`` of each other.

The LSH buckets are a sorted numpy array rather than datasketch's MinHashLSH, whose Python set
per bucket cost ~5.5 KB per document (0.55 GB and 0.2 ms per insert at 100,000 orders). Memory is
now dominated by one sorted uint32 array of shingle hashes per document (~4 bytes × text length):
~250 MB for 100,000 typical messages (see bench/hotspots.py).

Thread-safe for one writer and many readers: a single lock guards the index; MinHashes are
computed outside it.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import numpy as np
from datasketch import MinHash
from scipy.integrate import quad

from haoban.textutil import ngram_matrix_codes, normalize

__all__ = ["DocRef", "Match", "NearDuplicateIndex", "jaccard", "shingle_hashes"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_NON_CONTENT = re.compile(r"[^0-9a-z\u4e00-\u9fff]+")


@dataclass(frozen=True)
class DocRef:
    """An order as the index sees it. ``text`` is typically subject + detail."""

    key: str
    text: str
    at: datetime
    district: str | None = None
    category: str | None = None


@dataclass(frozen=True)
class Match:
    key: str
    similarity: float  # exact Jaccard of the shingle sets (LSH only proposes candidates)


@dataclass(frozen=True)
class _Entry:
    at: datetime
    district: str | None
    category: str | None
    shingles: np.ndarray  # sorted unique uint32 hashes
    indexed: bool  # False for texts without content characters: kept for remove(), never matched


def shingle_hashes(text: str, k: int = 3) -> np.ndarray:
    """Sorted unique 32-bit hashes of the k-character shingles of *text*'s content characters.

    Punctuation and spaces are dropped first, so "丽发新城，噪音" and "丽发新城噪音" shingle alike.
    A text shorter than k yields one shingle (the whole text); an empty one yields none.
    """
    chars = _NON_CONTENT.sub("", normalize(text))
    if not chars:
        return np.zeros(0, dtype=np.uint32)
    _, codes = ngram_matrix_codes([chars], min(k, len(chars)))
    # Fibonacci hashing folds the exact 63-bit code to 32 bits; collisions inside one pair of
    # documents are ~n²/2³² — negligible for the exact-Jaccard refinement.
    hashed = ((codes.astype(np.uint64) * _GOLDEN) >> np.uint64(32)).astype(np.uint32)
    return np.unique(hashed)


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer: datasketch's pre-mix for the affine32 scheme."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two sorted unique arrays."""
    if len(a) == 0 and len(b) == 0:
        return 0.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)


@lru_cache(maxsize=32)
def lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """Bands b and rows r (b·r ≤ num_perm) minimising false positives + false negatives around
    *threshold* — the same criterion as datasketch's MinHashLSH (equal weights)."""

    def collide(s: float, b: int, r: int) -> float:
        return 1.0 - (1.0 - s**r) ** b

    best, best_err = (1, num_perm), float("inf")
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            fp = quad(collide, 0.0, threshold, args=(b, r))[0]
            fn = quad(lambda s, b=b, r=r: 1.0 - collide(s, b, r), threshold, 1.0)[0]
            if fp + fn < best_err:
                best, best_err = (b, r), fp + fn
    return best


class _BandIndex:
    """LSH buckets as one sorted uint64 array (band hash) with a parallel array of slots.

    datasketch's MinHashLSH keeps a Python set per bucket: ~5 KB per document at 32 bands, which
    is ~0.5 GB at 100,000 orders. Here a document costs 12 bytes per band. New entries wait in a
    small buffer that is merged (one argsort) when it outgrows 1/16 of the sorted part; removed
    slots are filtered by the caller and purged at the next merge.
    """

    def __init__(self, bands: int, rows: int) -> None:
        self.bands = bands
        self.rows = rows
        # Salting by band index keeps equal row values in different bands apart.
        self._salt = (np.arange(bands, dtype=np.uint64) + np.uint64(1)) * np.uint64(0xD6E8FEB86659FD93)
        self._keys = np.zeros(0, dtype=np.uint64)
        self._slots = np.zeros(0, dtype=np.int64)
        # Insert buffer: preallocated rows, so a query scans it with one vectorised comparison.
        self._pending = np.zeros((1024, bands), dtype=np.uint64)
        self._pending_slots = np.zeros(1024, dtype=np.int64)
        self._n_pending = 0

    def band_keys(self, values: np.ndarray) -> np.ndarray:
        """One 64-bit key per band from the MinHash values of that band."""
        v = values[: self.bands * self.rows].astype(np.uint64).reshape(self.bands, self.rows)
        h = self._salt.copy()
        with np.errstate(over="ignore"):
            for j in range(self.rows):
                h = (h ^ v[:, j]) * np.uint64(0x9E3779B97F4A7C15)
                h ^= h >> np.uint64(29)
        return h

    def insert(self, slot: int, keys: np.ndarray) -> None:
        if self._n_pending == len(self._pending_slots):
            self._pending = np.concatenate([self._pending, np.zeros_like(self._pending)])
            self._pending_slots = np.concatenate([self._pending_slots, np.zeros_like(self._pending_slots)])
        self._pending[self._n_pending] = keys
        self._pending_slots[self._n_pending] = slot
        self._n_pending += 1
        # Merge when the buffer outgrows 1/32 of the sorted part: amortised O(log n) per insert.
        if self._n_pending * 32 > max(len(self._keys) // self.bands, 2048):
            self.merge(alive=None)

    def merge(self, alive: np.ndarray | None, remap: np.ndarray | None = None) -> None:
        """Fold the buffer into the sorted arrays; drop slots that are not *alive* and renumber
        the rest through *remap* (old slot → new slot)."""
        n = self._n_pending
        keys = [self._keys, self._pending[:n].ravel()]
        slots = [self._slots, np.repeat(self._pending_slots[:n], self.bands)]
        k, s = np.concatenate(keys), np.concatenate(slots)
        if alive is not None:
            keep = alive[s]
            k, s = k[keep], s[keep]
        if remap is not None:
            s = remap[s]
        order = np.argsort(k, kind="stable")
        self._keys, self._slots = k[order], s[order]
        self._n_pending = 0

    def candidates(self, keys: np.ndarray) -> np.ndarray:
        """Slots sharing at least one band key with *keys* (may include removed slots)."""
        lo = np.searchsorted(self._keys, keys, side="left")
        hi = np.searchsorted(self._keys, keys, side="right")
        parts = [self._slots[a:b] for a, b in zip(lo.tolist(), hi.tolist(), strict=True) if b > a]
        n = self._n_pending
        if n:
            hit = (self._pending[:n] == keys[None, :]).any(axis=1)
            parts.append(self._pending_slots[:n][hit])
        if not parts:
            return np.zeros(0, dtype=np.int64)
        return np.unique(np.concatenate(parts))


class NearDuplicateIndex:
    """In-memory index of open orders for near-duplicate lookup on registration."""

    def __init__(
        self,
        *,
        threshold: float = 0.5,
        num_perm: int = 128,
        window: timedelta = timedelta(days=30),
        seed: int = 1,
        shingle_size: int = 3,
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError("threshold must be in (0, 1]")
        self.threshold = threshold
        self.num_perm = num_perm
        self.window = window
        self.seed = seed
        self.shingle_size = shingle_size
        # A lower LSH threshold than the acceptance threshold trades a few more candidates (cheap:
        # they are re-checked exactly) for fewer misses near the threshold: at 0.5 with 128
        # permutations, (32 bands × 4 rows) finds a pair of Jaccard 0.5 with p = 0.87, where the
        # optimum for 0.5 itself (25 × 5) would find it with p = 0.55.
        bands, rows = lsh_params(round(max(0.05, threshold - 0.1), 4), num_perm)
        self._bands = _BandIndex(bands, rows)
        # datasketch's affine32 permutations: sketches stay comparable with datasketch MinHash.
        self._perms = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
        self._docs: dict[str, _Entry] = {}
        self._slot_keys: list[str | None] = []  # slot → key; None once removed
        self._slot_of: dict[str, int] = {}
        self._dead = 0
        self._lock = threading.RLock()

    def _minhash(self, shingles: np.ndarray) -> np.ndarray:
        """datasketch's affine32 MinHash values of the shingle hashes, in one numpy step.

        ``MinHash.update_batch`` would call a Python hash function per shingle; the values are the
        same (checked in the tests).
        """
        a, b = self._perms
        with np.errstate(over="ignore"):
            mixed = _fmix32(shingles.astype(np.uint32))[:, None]
            return (mixed * a[None, :] + b[None, :]).min(axis=0)

    def __len__(self) -> int:
        with self._lock:
            return len(self._docs)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._docs

    def add(self, doc: DocRef) -> None:
        """Index *doc*; a document with the same key is replaced."""
        shingles = shingle_hashes(doc.text, self.shingle_size)
        indexed = len(shingles) > 0
        keys = self._bands.band_keys(self._minhash(shingles)) if indexed else None
        entry = _Entry(doc.at, doc.district, doc.category, shingles, indexed)
        with self._lock:
            if doc.key in self._docs:
                self._remove_locked(doc.key)
            self._docs[doc.key] = entry
            if keys is not None:
                slot = len(self._slot_keys)
                self._slot_keys.append(doc.key)
                self._slot_of[doc.key] = slot
                self._bands.insert(slot, keys)

    def remove(self, key: str) -> None:
        """Forget *key* (closed or merged order). Unknown keys are ignored."""
        with self._lock:
            if key in self._docs:
                self._remove_locked(key)

    def _remove_locked(self, key: str) -> None:
        del self._docs[key]
        slot = self._slot_of.pop(key, None)
        if slot is None:
            return
        self._slot_keys[slot] = None
        self._dead += 1
        # Purge removed slots from the buckets (and renumber) once they are a quarter of all slots.
        if self._dead * 4 > len(self._slot_keys):
            alive = np.array([k is not None for k in self._slot_keys], dtype=bool)
            remap = np.cumsum(alive) - 1
            self._bands.merge(alive=alive, remap=remap)
            self._slot_keys = [k for k in self._slot_keys if k is not None]
            self._slot_of = {k: i for i, k in enumerate(self._slot_keys)}
            self._dead = 0

    def prune(self, before: datetime) -> int:
        """Remove every document older than *before* (outside any future window); returns the count."""
        with self._lock:
            old = [k for k, e in self._docs.items() if e.at < before]
            for k in old:
                self._remove_locked(k)
            return len(old)

    def query(self, doc: DocRef, *, limit: int = 5) -> list[Match]:
        """Indexed documents that say the same as *doc*: most similar first, at most *limit*.

        Same district when both are known, same category when both are known, within ``window``
        of ``doc.at``; ``doc.key`` itself is never returned.
        """
        shingles = shingle_hashes(doc.text, self.shingle_size)
        if len(shingles) == 0 or limit <= 0:
            return []
        keys = self._bands.band_keys(self._minhash(shingles))
        matches: list[Match] = []
        with self._lock:
            for slot in self._bands.candidates(keys).tolist():
                key = self._slot_keys[slot]
                if key is None or key == doc.key:
                    continue
                e = self._docs[key]
                if doc.district and e.district and doc.district != e.district:
                    continue
                if doc.category and e.category and doc.category != e.category:
                    continue
                if abs(e.at - doc.at) > self.window:
                    continue
                sim = jaccard(shingles, e.shingles)
                if sim >= self.threshold:
                    matches.append(Match(key, round(sim, 4)))
        matches.sort(key=lambda m: (-m.similarity, m.key))
        return matches[:limit]
