"""One incident, many callers (同一事件): match reports of one problem at one place, in any words.

Three callers report one burst main: "红湘路与解放大道交叉口自来水管道爆裂…停水", "红湘路和解放大道路口
水管爆了…没水用了", "解放大道红湘路附近供水管破裂…一直停水". Their 3-character shingles barely
overlap (Jaccard ≈ 0.1), so the near-copy index (:mod:`haoban.hotspots.neardup`) misses them. Here two
reports are one incident when, with reasons an operator can check:

place
    they share a place (:mod:`haoban.hotspots.places`): a crossing, a house number, two roads, an
    estate or landmark (strong), or one road (weaker). Two reports on one road that name different
    crossings or house numbers on it are different places.
problem
    they share a problem kind from ``wordlists/incident_kinds.txt`` (停水/爆管, 信号灯/红绿灯,
    噪音/KTV …, each a list of synonyms). When both name a problem and the kinds differ, they are
    different incidents, whatever else they share.
time
    they lie within the kind's window (48 hours for a burst main, a week for noise, two weeks for a
    building site; 30 days when no kind is shared).
words
    the cosine of their character-bigram TF-IDF vectors with the place names removed (so "红湘路" does
    not make two different problems look alike), IDF from the indexed reports themselves.
district
    when both districts are known (the order's, else the gazetteer's reading of the text), they agree.

The score is ``W_PLACE·place + W_KIND·kind + W_WORDS·words``; a pair at or above the threshold is a
candidate. The weights and the threshold were set on the development half of
``data/incidents/pairs.csv`` only (see its README and ``bench/incidents.py``).

:class:`IncidentIndex` keeps per report only its place keys, kind ids and a sorted array of bigram
ids (a few hundred bytes), an inverted index place key → reports, and bigram document frequencies;
a query looks only at reports sharing a place key. One lock guards it; features are computed outside.
"""

from __future__ import annotations

import math
import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from importlib import resources

import numpy as np

from haoban.dispatch.gazetteer import Gazetteer, default_gazetteer
from haoban.hotspots.places import PlaceSet, analyse

__all__ = [
    "Features",
    "IncidentIndex",
    "IncidentMatch",
    "Kind",
    "Matcher",
    "Reason",
    "compare",
    "default_matcher",
    "load_kinds",
]

# Weights of the three graded signals and the shipped threshold (set on the development split).
W_PLACE = 0.45
W_KIND = 0.35
W_WORDS = 0.20
THRESHOLD = 0.62
DEFAULT_WINDOW = timedelta(days=30)
_MASKED_DISTRICT = re.compile(r"[A-Z]\d{1,3}[区县市]")
_MAX_TEXT = 400


@dataclass(frozen=True)
class Kind:
    id: str
    window: timedelta
    label: str
    terms: tuple[str, ...]


def load_kinds(text: str | None = None) -> tuple[Kind, ...]:
    """Problem kinds from ``kind | hours | label | terms…`` lines (default: the shipped word list)."""
    if text is None:
        text = resources.files("haoban.wordlists").joinpath("incident_kinds.txt").read_text(encoding="utf-8")
    kinds = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        kid, hours, label, terms = (part.strip() for part in line.split("|", 3))
        kinds.append(Kind(kid, timedelta(hours=int(hours)), label, tuple(terms.split())))
    return tuple(kinds)


@dataclass(frozen=True, slots=True)
class Features:
    """What the index keeps of a report."""

    places: PlaceSet
    kinds: frozenset[str]
    grams: np.ndarray  # sorted unique uint32 codes of character bigrams outside place names
    district: str | None


@dataclass(frozen=True)
class Reason:
    """One signal behind a candidate, for the operator: ``signal`` is place / problem / time / words /
    near_copy; ``detail`` the evidence (the shared place, the problem's name, the gap, the score)."""

    signal: str
    detail: str


@dataclass(frozen=True)
class IncidentMatch:
    key: str
    score: float
    reasons: tuple[Reason, ...]


class Matcher:
    """Turns texts into :class:`Features` (kinds, gazetteer and the bigram code table)."""

    def __init__(self, kinds: Sequence[Kind] | None = None, gazetteer: Gazetteer | None = None) -> None:
        self.kinds = tuple(kinds if kinds is not None else load_kinds())
        self.by_id = {k.id: k for k in self.kinds}
        self.gazetteer = gazetteer or default_gazetteer()
        term_kind: dict[str, set[str]] = {}
        for k in self.kinds:
            for t in k.terms:
                term_kind.setdefault(t.lower(), set()).add(k.id)
        self._term_kinds = {t: frozenset(v) for t, v in term_kind.items()}
        self._terms = re.compile("|".join(map(re.escape, sorted(self._term_kinds, key=len, reverse=True))))
        self.problem_terms = frozenset(self._term_kinds)
        # Gazetteer names (districts, streets, towns) are blanked before place extraction: they are
        # areas, and the district signal already compares them.
        self._blanks = tuple(sorted(self.gazetteer.entries, key=len, reverse=True))

    def kinds_of(self, text: str) -> frozenset[str]:
        found: set[str] = set()
        for m in self._terms.finditer(text):
            found |= self._term_kinds[m.group()]
        return frozenset(found)

    def district_of(self, text: str) -> str | None:
        m = self.gazetteer.find(text)
        if m is not None:
            return m.district
        masked = _MASKED_DISTRICT.search(unicodedata.normalize("NFKC", text))
        return masked.group() if masked else None

    def features(self, text: str, *, district: str | None = None) -> Features:
        text = (text or "")[: _MAX_TEXT * 2]
        places, norm = analyse(text, blanks=self._blanks, problem_terms=self.problem_terms)
        return Features(
            places=places,
            kinds=self.kinds_of(norm),
            grams=_bigrams(norm, places.spans),
            district=district or self.district_of(text),
        )

    def window(self, kinds: Iterable[str]) -> timedelta:
        windows = [self.by_id[k].window for k in kinds if k in self.by_id]
        return max(windows) if windows else DEFAULT_WINDOW

    def labels(self, kinds: Iterable[str]) -> list[str]:
        return [self.by_id[k].label for k in sorted(kinds) if k in self.by_id]


@lru_cache(maxsize=1)
def default_matcher() -> Matcher:
    return Matcher()


def _bigrams(norm: str, spans: Sequence[tuple[int, int]]) -> np.ndarray:
    chars = list(norm)
    for start, end in spans:
        chars[start:end] = "|" * (end - start)
    codes: set[int] = set()
    prev = 0
    for ch in chars:
        o = ord(ch)
        if 0x4E00 <= o <= 0x9FFF or 0x30 <= o <= 0x39 or 0x61 <= o <= 0x7A:
            if prev:
                codes.add((prev << 16) | o)
            prev = o
        else:
            prev = 0
    return np.array(sorted(codes), dtype=np.uint32)


# --- comparing two reports -------------------------------------------------------------------------


def _spot_name_len(key: str) -> int:
    return len(key) - len("spot:")


def place_strength(a: PlaceSet, b: PlaceSet) -> tuple[float, str | None]:
    """How surely *a* and *b* name one place (0 – 1) and the place to show."""
    shared = a.keys & b.keys
    if not shared:
        return 0.0, None
    cross = sorted(k for k in shared if k.startswith("cross:"))
    if cross:
        x, y = cross[0][6:].split("|")
        return 1.0, f"{x} × {y}"
    numbers = sorted(k for k in shared if k.startswith("no:"))
    if numbers:
        road, no = numbers[0][3:].split("|")
        return 1.0, f"{road}{no}号"
    # A road both name, unless both pin it down to different crossings or house numbers.
    roads = set()
    for r in a.roads & b.roads:
        pa = {x if y == r else y for x, y in a.crossings if r in (x, y)}
        pb = {x if y == r else y for x, y in b.crossings if r in (x, y)}
        na = {n for rr, n in a.numbers if rr == r}
        nb = {n for rr, n in b.numbers if rr == r}
        if (pa and pb and not pa & pb) or (na and nb and not na & nb):
            continue
        roads.add(r)
    spots = sorted((k for k in shared if k.startswith("spot:")), key=lambda k: (-len(k), k))
    if len(roads) >= 2:
        return 1.0, " × ".join(sorted(roads))
    if spots and _spot_name_len(spots[0]) >= 4:
        return 1.0, spots[0][5:]
    if spots and _spot_name_len(spots[0]) == 3:
        return 0.8, spots[0][5:]
    if roads:
        return 0.7, next(iter(roads))
    return 0.0, None


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Plain cosine of two bigram sets (no IDF): the fallback when no index supplies the weights."""
    if len(a) == 0 or len(b) == 0:
        return 0.0
    common = np.intersect1d(a, b, assume_unique=True)
    return float(len(common) / math.sqrt(len(a) * len(b)))


def compare(
    a: Features,
    b: Features,
    *,
    gap: timedelta,
    matcher: Matcher,
    words: float | None = None,
) -> IncidentMatch | None:
    """The score of *a* and *b* as one incident with its reasons, or None when a signal rules it out.

    *words*: the text similarity when the caller computed it with IDF (default: plain set cosine).
    """
    if a.district and b.district and a.district != b.district:
        return None
    place, where = place_strength(a.places, b.places)
    if place == 0.0:
        return None
    shared = a.kinds & b.kinds
    if a.kinds and b.kinds and not shared:
        return None  # same place, another problem
    window = matcher.window(shared)
    if abs(gap) > window:
        return None
    kind = 1.0 if shared else 0.3
    sim = cosine(a.grams, b.grams) if words is None else words
    score = W_PLACE * place + W_KIND * kind + W_WORDS * min(1.0, sim / 0.5)
    reasons = [Reason("place", where or "")]
    if shared:
        reasons.append(Reason("problem", "/".join(matcher.labels(shared))))
    hours = abs(gap).total_seconds() / 3600
    reasons.append(Reason("time", f"{hours:.0f}h ≤ {window.total_seconds() / 3600:.0f}h"))
    reasons.append(Reason("words", f"{sim:.2f}"))
    return IncidentMatch("", round(score, 4), tuple(reasons))


# --- the index --------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Doc:
    at: datetime
    features: Features
    norm: float


class IncidentIndex:
    """In-memory index of open reports for incident matching; one writer, many readers."""

    def __init__(
        self,
        matcher: Matcher | None = None,
        *,
        threshold: float = THRESHOLD,
        max_candidates: int = 5000,
    ) -> None:
        self.matcher = matcher or default_matcher()
        self.threshold = threshold
        self.max_candidates = max_candidates
        self._docs: dict[int, _Doc] = {}
        self._slot_of: dict[str, int] = {}
        self._key_of: dict[int, str] = {}
        self._next = 0
        self._postings: dict[str, set[int]] = {}
        # Bigram document frequencies: code → dense id → count. IDF = log((N + 1) / (df + 1)) + 1.
        self._vocab: dict[int, int] = {}
        self._df = np.zeros(1024, dtype=np.int32)
        self._lock = threading.RLock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._docs)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._slot_of

    def features(self, text: str, *, district: str | None = None) -> Features:
        return self.matcher.features(text, district=district)

    def add(self, key: str, text: str, *, at: datetime, district: str | None = None) -> Features:
        """Index report *key* (replacing an earlier version) and return its features."""
        f = self.matcher.features(text, district=district)
        self.add_features(key, f, at=at)
        return f

    def add_features(self, key: str, f: Features, *, at: datetime) -> None:
        with self._lock:
            if key in self._slot_of:
                self._remove_locked(key)
            slot = self._next
            self._next += 1
            self._slot_of[key] = slot
            self._key_of[slot] = key
            for code in f.grams.tolist():
                i = self._vocab.get(code)
                if i is None:
                    i = self._vocab[code] = len(self._vocab)
                    if i >= len(self._df):
                        self._df = np.concatenate([self._df, np.zeros_like(self._df)])
                self._df[i] += 1
            self._docs[slot] = _Doc(at, f, self._norm(f.grams))
            for k in f.places.keys:
                self._postings.setdefault(k, set()).add(slot)

    def remove(self, key: str) -> None:
        with self._lock:
            if key in self._slot_of:
                self._remove_locked(key)

    def _remove_locked(self, key: str) -> None:
        slot = self._slot_of.pop(key)
        del self._key_of[slot]
        doc = self._docs.pop(slot)
        for code in doc.features.grams.tolist():
            i = self._vocab.get(code)
            if i is not None:
                self._df[i] -= 1
        for k in doc.features.places.keys:
            posting = self._postings.get(k)
            if posting is not None:
                posting.discard(slot)
                if not posting:
                    del self._postings[k]

    def _idf(self, codes: np.ndarray) -> np.ndarray:
        n = len(self._docs)
        ids = np.fromiter((self._vocab.get(c, -1) for c in codes.tolist()), dtype=np.int64, count=len(codes))
        df = np.where(ids >= 0, self._df[np.maximum(ids, 0)], 0)
        return np.log((n + 1) / (df + 1)) + 1.0

    def _norm(self, codes: np.ndarray) -> float:
        w = self._idf(codes)
        return float(math.sqrt(w @ w)) if len(w) else 0.0

    def words(self, a: np.ndarray, b: np.ndarray, norm_b: float | None = None) -> float:
        """TF-IDF cosine of two bigram arrays with the index's current IDF."""
        with self._lock:
            if len(a) == 0 or len(b) == 0:
                return 0.0
            common = np.intersect1d(a, b, assume_unique=True)
            if len(common) == 0:
                return 0.0
            wc = self._idf(common)
            na = self._norm(a)
            nb = norm_b if norm_b is not None else self._norm(b)
            return float((wc @ wc) / (na * nb)) if na and nb else 0.0

    def query(
        self, f: Features, *, at: datetime, exclude: str | None = None, limit: int = 5
    ) -> list[IncidentMatch]:
        """Indexed reports that are the same incident as *f*, best first."""
        if f.places.empty or limit <= 0:
            return []
        out: list[IncidentMatch] = []
        with self._lock:
            slots: set[int] = set()
            # Rare keys first: a crowded road must not crowd out the estate both reports name.
            for k in sorted(f.places.keys, key=lambda k: len(self._postings.get(k, ()))):
                slots |= self._postings.get(k, set())
                if len(slots) >= self.max_candidates:
                    break
            norm_q = self._norm(f.grams)
            for slot in slots:
                key = self._key_of[slot]
                if key == exclude:
                    continue
                doc = self._docs[slot]
                other = doc.features
                if f.kinds and other.kinds and not f.kinds & other.kinds:
                    continue
                if f.district and other.district and f.district != other.district:
                    continue
                sim = 0.0
                if norm_q and doc.norm:
                    common = np.intersect1d(f.grams, other.grams, assume_unique=True)
                    if len(common):
                        wc = self._idf(common)
                        sim = float((wc @ wc) / (norm_q * doc.norm))
                m = compare(f, other, gap=at - doc.at, matcher=self.matcher, words=sim)
                if m is not None and m.score >= self.threshold:
                    out.append(IncidentMatch(key, m.score, m.reasons))
        out.sort(key=lambda m: (-m.score, m.key))
        return out[:limit]
