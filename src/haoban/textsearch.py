"""BM25 search over short Chinese documents, in memory: the knowledge base's answers (即时答复) and the
service catalogue's items (办事指南) both search with it.

The operator types while the caller is still talking, so a query must answer in milliseconds
(p95 ≤ 50 ms on 10,000 articles; measured ~2 ms, see bench/knowledge.py).

Terms
    Two kinds per field: jieba words in search mode ("住房公积金" → 住房, 公积金, 住房公积金…),
    with a small synonym table (``haoban.textutil.SYNONYMS``) mapping variants to one canonical
    word (证件/资料 → 材料, 购房 → 买房), and character bigrams, so a paraphrase or a word jieba
    cuts differently still shares terms with the article. Bigram terms count half in a query.
Fields
    BM25F-style: term frequency and length are summed over fields with weights question 3,
    tags 2, answer 1 — a hit in the question says more than one buried in a long answer.
Index
    A sparse term × article matrix of precomputed BM25 weights (k1 = 1.2, b = 0.75); a query is
    one sparse row-vector product. ``add`` tokenises at once and marks the matrix stale; the next
    search rebuilds it from cached per-article arrays (~0.1 s for 10,000 articles). ``remove``
    masks the article at once and defers the rebuild.
Validity
    Articles with ``valid_from`` after or ``valid_to`` before the search day are masked out before
    ranking: an expired answer is never returned.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import scipy.sparse as sp

from haoban.config import city_tz
from haoban.textutil import canonical, char_ngrams, normalize, split_sentences, tokenize

__all__ = ["Article", "Hit", "TextIndex"]

_K1 = 1.2
_B = 0.75
_FIELD_WEIGHTS = (3.0, 2.0, 1.0)  # question, tags, answer
_BIGRAM_QUERY_WEIGHT = 0.5
_BIGRAM_PREFIX = "\x01"  # keeps bigram terms apart from two-character words
_FAR_PAST = -(10**9)
_FAR_FUTURE = 10**9


@dataclass(frozen=True)
class Article:
    id: int
    question: str
    answer: str
    department: str | None = None
    tags: tuple[str, ...] = ()
    valid_from: date | None = None
    valid_to: date | None = None


@dataclass(frozen=True)
class Hit:
    article_id: int
    score: float
    snippet: str


def _words(text: str) -> list[str]:
    return [canonical(w) for w in tokenize(text, search=True)]


def _terms(text: str) -> list[str]:
    """Canonical jieba words followed by prefixed character bigrams."""
    return _words(text) + [_BIGRAM_PREFIX + g for g in char_ngrams(text, 2)]


@dataclass
class _Doc:
    article: Article
    term_ids: np.ndarray  # int32, unique
    tf: np.ndarray  # float32, field-weighted term frequency
    length: float  # field-weighted length


class TextIndex:
    """BM25 index of short documents (articles, service items); thread-safe (one lock, searches are short)."""

    def __init__(self, articles: Iterable[Article] = ()) -> None:
        self._vocab: dict[str, int] = {}
        self._slots: list[_Doc | None] = []
        self._slot_of: dict[int, int] = {}
        self._lock = threading.RLock()
        self._matrix: sp.csr_matrix | None = None  # terms × slots
        self._built_slots = 0
        self._dirty = True
        self._removed_since_build = 0
        self._alive = np.zeros(0, dtype=bool)
        self._valid_from = np.zeros(0, dtype=np.int64)
        self._valid_to = np.zeros(0, dtype=np.int64)
        self._dept = np.zeros(0, dtype=np.int64)
        self._dept_ids: dict[str, int] = {}
        for a in articles:
            self.add(a)

    def __len__(self) -> int:
        with self._lock:
            return len(self._slot_of)

    def __contains__(self, article_id: object) -> bool:
        with self._lock:
            return article_id in self._slot_of

    def get(self, article_id: int) -> Article | None:
        with self._lock:
            slot = self._slot_of.get(article_id)
            doc = self._slots[slot] if slot is not None else None
            return doc.article if doc else None

    def add(self, article: Article) -> None:
        """Add or replace an article (by id). Tokenises now; the matrix is rebuilt on next search."""
        fields = (article.question, " ".join(article.tags), article.answer)
        counts: dict[str, float] = {}
        length = 0.0
        for text, weight in zip(fields, _FIELD_WEIGHTS, strict=True):
            terms = _terms(text)
            length += weight * len(terms)
            for t in terms:
                counts[t] = counts.get(t, 0.0) + weight
        with self._lock:
            ids = np.fromiter((self._vocab.setdefault(t, len(self._vocab)) for t in counts), dtype=np.int32)
            tf = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
            if article.id in self._slot_of:
                self._remove_locked(article.id)
            self._slot_of[article.id] = len(self._slots)
            self._slots.append(_Doc(article, ids, tf, length))
            self._dirty = True

    def remove(self, article_id: int) -> None:
        """Remove an article; unknown ids are ignored. Effective immediately."""
        with self._lock:
            if article_id in self._slot_of:
                self._remove_locked(article_id)

    def _remove_locked(self, article_id: int) -> None:
        slot = self._slot_of.pop(article_id)
        self._slots[slot] = None
        if slot < len(self._alive):
            self._alive[slot] = False
        self._removed_since_build += 1
        # Statistics drift as articles go; rebuild once a tenth of the index has changed.
        if self._removed_since_build > 0.1 * max(1, len(self._slot_of)):
            self._dirty = True

    def _rebuild_locked(self) -> None:
        # Compact removed slots away so the matrix and the masks stay dense.
        docs = [d for d in self._slots if d is not None]
        self._slots = list(docs)
        self._slot_of = {d.article.id: k for k, d in enumerate(docs)}
        n = len(docs)
        n_terms = len(self._vocab)
        if n == 0:
            self._matrix = sp.csr_matrix((n_terms, 0), dtype=np.float32)
        else:
            lengths = np.array([d.length for d in docs], dtype=np.float64)
            sizes = np.array([len(d.term_ids) for d in docs], dtype=np.int64)
            rows = np.concatenate([d.term_ids for d in docs])
            tf = np.concatenate([d.tf for d in docs]).astype(np.float64)
            cols = np.repeat(np.arange(n, dtype=np.int32), sizes)
            df = np.bincount(rows, minlength=n_terms)
            idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5))  # BM25+ style, never negative
            avgdl = max(lengths.mean(), 1e-9)
            norm = _K1 * (1.0 - _B + _B * lengths[cols] / avgdl)
            weight = idf[rows] * tf * (_K1 + 1.0) / (tf + norm)
            self._matrix = sp.csr_matrix(
                (weight.astype(np.float32), (rows, cols)), shape=(n_terms, n), dtype=np.float32
            )
        self._alive = np.ones(n, dtype=bool)
        self._valid_from = np.array(
            [d.article.valid_from.toordinal() if d.article.valid_from else _FAR_PAST for d in docs],
            dtype=np.int64,
        )
        self._valid_to = np.array(
            [d.article.valid_to.toordinal() if d.article.valid_to else _FAR_FUTURE for d in docs],
            dtype=np.int64,
        )
        self._dept_ids = {}
        self._dept = np.array(
            [
                self._dept_ids.setdefault(d.article.department, len(self._dept_ids))
                if d.article.department is not None
                else -1
                for d in docs
            ],
            dtype=np.int64,
        )
        self._built_slots = n
        self._dirty = False
        self._removed_since_build = 0

    def rebuild(self) -> None:
        """Build the matrix now (e.g. at start-up) instead of on the first search."""
        with self._lock:
            self._rebuild_locked()

    def search(
        self,
        query: str,
        *,
        today: date | None = None,
        limit: int = 10,
        department: str | None = None,
    ) -> list[Hit]:
        """Best articles for *query* valid on *today* (default: today in the city's time zone), best first."""
        day = today or datetime.now(city_tz()).date()  # validity dates are the city's days
        words = _words(query)
        bigrams = [_BIGRAM_PREFIX + g for g in char_ngrams(query, 2)]
        if (not words and not bigrams) or limit <= 0:
            return []
        with self._lock:
            if self._dirty or self._matrix is None:
                self._rebuild_locked()
            assert self._matrix is not None
            weights: dict[int, float] = {}
            for terms, w in ((words, 1.0), (bigrams, _BIGRAM_QUERY_WEIGHT)):
                for t in terms:
                    tid = self._vocab.get(t)
                    if tid is not None and tid < self._matrix.shape[0]:
                        weights[tid] = weights.get(tid, 0.0) + w
            if not weights:
                return []
            tids = np.fromiter(weights.keys(), dtype=np.int64)
            qw = np.fromiter(weights.values(), dtype=np.float32)
            scores = np.asarray(self._matrix[tids].T @ qw).ravel()
            mask = self._alive & (self._valid_from <= day.toordinal()) & (self._valid_to >= day.toordinal())
            if department is not None:
                dept_id = self._dept_ids.get(department)
                if dept_id is None:
                    return []
                mask &= self._dept == dept_id
            scores = np.where(mask, scores, 0.0)
            candidates = np.flatnonzero(scores > 0)
            if len(candidates) == 0:
                return []
            if len(candidates) > limit:
                part = np.argpartition(-scores[candidates], limit - 1)[:limit]
                candidates = candidates[part]
            # Best first; equal scores by article id, so results are stable across rebuilds.
            docs = self._slots
            order = sorted(
                candidates.tolist(),
                key=lambda s: (-float(scores[s]), docs[s].article.id),  # type: ignore[union-attr]
            )
            found = [(docs[s].article, float(scores[s])) for s in order]  # type: ignore[union-attr]
        query_terms = set(words) | {b[1:] for b in bigrams}
        return [Hit(a.id, round(score, 4), _snippet(a, query_terms)) for a, score in found]


def _snippet(article: Article, query_terms: set[str], width: int = 120) -> str:
    """The answer sentence that shares most query terms (bigrams count), cut to *width* chars."""
    sentences = split_sentences(article.answer) or [article.answer]
    best, best_hits = sentences[0], -1
    for s in sentences:
        norm = normalize(s)
        hits = sum(1 for t in query_terms if t and t in norm)
        if hits > best_hits:
            best, best_hits = s, hits
    best = best.strip()
    return best if len(best) <= width else best[: width - 1] + "…"
