"""Near-duplicate orders (并单 candidates): MinHash LSH over character shingles.

On registration the hotline asks: is an open order already saying the same thing about the same
place? Two messages are near-duplicates when their sets of 3-character shingles (of the text with
punctuation and spaces removed, full-width folded) have Jaccard similarity ≥ ``threshold``.
datasketch's MinHashLSH finds the candidates in sub-linear time; each candidate is then checked
with the exact Jaccard of the stored shingle sets, so the reported similarity is exact and LSH
false positives are dropped. District and category must agree when both sides know them, and the
two orders must lie within ``window`` of each other.

Memory: one sorted uint32 array of shingle hashes per document (~4 bytes × text length) plus the
LSH buckets; 100,000 typical messages take a few hundred MB (see bench/hotspots.py).

Thread-safe for one writer and many readers: a single lock guards the index; MinHashes are
computed outside it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from datasketch import MinHash, MinHashLSH

from haoban.textutil import content_chars, ngram_matrix_codes

__all__ = ["DocRef", "Match", "NearDuplicateIndex", "jaccard", "shingle_hashes"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


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
    chars = content_chars(text)
    if not chars:
        return np.zeros(0, dtype=np.uint32)
    _, codes = ngram_matrix_codes([chars], min(k, len(chars)))
    # Fibonacci hashing folds the exact 63-bit code to 32 bits; collisions inside one pair of
    # documents are ~n²/2³² — negligible for the exact-Jaccard refinement.
    hashed = ((codes.astype(np.uint64) * _GOLDEN) >> np.uint64(32)).astype(np.uint32)
    return np.unique(hashed)


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two sorted unique arrays."""
    if len(a) == 0 and len(b) == 0:
        return 0.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)


def _identity(x: int) -> int:
    return x


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
        # they are re-checked exactly) for fewer misses near the threshold.
        self._lsh = MinHashLSH(threshold=max(0.05, threshold - 0.1), num_perm=num_perm)
        self._perms = MinHash(num_perm=num_perm, seed=seed).permutations  # shared, built once
        self._docs: dict[str, _Entry] = {}
        self._lock = threading.RLock()

    def _minhash(self, shingles: np.ndarray) -> MinHash:
        m = MinHash(
            num_perm=self.num_perm,
            seed=self.seed,
            hashfunc=_identity,
            permutations=self._perms,
            scheme="affine32",
        )
        m.update_batch(shingles)
        return m

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
        mh = self._minhash(shingles) if indexed else None
        entry = _Entry(doc.at, doc.district, doc.category, shingles, indexed)
        with self._lock:
            if doc.key in self._docs:
                self._remove_locked(doc.key)
            if mh is not None:
                self._lsh.insert(doc.key, mh, check_duplication=False)
            self._docs[doc.key] = entry

    def remove(self, key: str) -> None:
        """Forget *key* (closed or merged order). Unknown keys are ignored."""
        with self._lock:
            if key in self._docs:
                self._remove_locked(key)

    def _remove_locked(self, key: str) -> None:
        entry = self._docs.pop(key)
        if entry.indexed:
            self._lsh.remove(key)

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
        mh = self._minhash(shingles)
        matches: list[Match] = []
        with self._lock:
            for key in self._lsh.query(mh):
                if key == doc.key:
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
