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
    噪音/KTV …, each a list of synonyms). When both open with a problem (their first sentences
    name one) and the kinds differ, they are different incidents, whatever else they share (kinds
    that differ only further on score as "problem unknown") — unless the kinds are *related* (one concern
    seen from two sides: a village asks about its 规划 and about its 拆迁; a restaurant's 油烟 and its
    臭味; a crossing's 信号灯 and its 过街; a rubbish point's 垃圾 and its 臭气), listed as
    ``related | kind kind …`` lines in the same file: such a pair is not refused, and counts as a
    problem shared in the body. (A matcher may also relate two kinds whose learnt vectors, below,
    meet: ``Matcher(kind_relate=KIND_RELATE)``; it is off by default, see ``KIND_RELATE``.)
    When neither opening names a known problem, a rare word both openings share (维修基金, 退房, 伙食:
    IDF ≥ ``RARE_IDF`` in the learnt vocabulary; 午餐: a dictionary word too rare for that vocabulary;
    place names blanked) at a place both name surely (an
    estate, a crossing, two roads: not one road) stands in for it, scored as a kind shared in the body
    and shown as the problem ("退房").
time
    they lie within the kind's window (48 hours for a burst main, a week for noise, two weeks for a
    building site; 30 days when no kind is shared). A report that calls its problem lasting (长期停水,
    经常停电, 水压不足持续几个月) is no one-off event: such a pair gets at least the 30-day window.
words
    the cosine of their character-bigram TF-IDF vectors with the place names removed (so "红湘路" does
    not make two different problems look alike), IDF from the indexed reports themselves.
learnt problem similarity
    how alike the two reports' problem words are (place names removed), by word vectors learnt from
    unlabelled messages (``wordlists/problem_vectors.txt``, ``scripts/problem_vectors.py``): each word
    of one report is matched to its most similar word of the other (IDF-weighted, both ways). It
    catches problems named in other words that no kind list holds (爆管 / 漏水, 扰民 / 通宵); it can
    raise the words signal to at most ``LEARNT_CAP`` of full, never refuse or rescue a pair the kinds
    refuse, and the operator sees the closest word pair as a problem reason ("爆管≈漏水 (0.71)").
district
    when both districts are known (the order's, else the gazetteer's reading of the text), they agree.

The score is ``W_PLACE·place + W_KIND·kind + W_WORDS·words``; a pair at or above the threshold is a
candidate. The weights and the threshold were set on the development half of
``data/incidents/pairs.csv`` only (see its README and ``bench/incidents.py``).

:class:`IncidentIndex` keeps per report only its place keys, kind ids, a sorted array of bigram
ids and the vocabulary ids of its problem words (a few hundred bytes), an inverted index place key →
reports, and bigram document frequencies; a query looks only at reports sharing a place key, and
scores only those whose problem and time :meth:`Matcher.reach` does not rule out (tested per key in
one numpy pass over the reports' times and problem profiles), at most ``max_candidates``, rare keys
first and nearest in time first, so a crowded road costs a bounded number of scorings. One lock
guards it; features are computed outside.
"""

from __future__ import annotations

import math
import re
import threading
import unicodedata
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from importlib import resources

import numpy as np

from haoban.dispatch.gazetteer import Gazetteer, default_gazetteer
from haoban.hotspots.places import PlaceSet, _normalise, analyse, place_spans
from haoban.textutil import HOTLINE_STOPWORDS, _jieba

__all__ = [
    "Features",
    "IncidentIndex",
    "IncidentMatch",
    "Kind",
    "Matcher",
    "ProblemVectors",
    "Reason",
    "compare",
    "default_matcher",
    "elsewhere",
    "learn_estate_names",
    "load_estate_names",
    "load_kinds",
    "load_problem_vectors",
    "load_related",
]

# Weights of the three graded signals and the shipped threshold (set on the development split).
W_PLACE = 0.40
W_KIND = 0.35
W_WORDS = 0.25
THRESHOLD = 0.62
HEAD_PLACE_FACTOR = 0.85  # place shared only outside both first sentences
KIND_BODY = 0.6  # a problem kind shared, but not in both first sentences
KIND_NONE = 0.3  # one of the two names no known problem
# Neither opening names a known problem, yet both openings share a rare word (维修基金, 退房, 伙食: in
# under ~1.2 % of messages by the learnt vocabulary's IDF; 午餐: a word too rare for the vocabulary)
# at a place both name surely: that word is the problem they share, scored as a kind shared in the
# body (KIND_BODY).
RARE_IDF = 4.4
WORDS_FULL = 0.4  # word cosine at which the words signal is full
DEFAULT_WINDOW = timedelta(days=30)
# Learnt problem similarity (soft word alignment, 0 – 1): below LEARNT_LOW it says nothing, at
# LEARNT_HIGH it is full; it raises the words signal to at most LEARNT_CAP (set on dev, see bench).
LEARNT_LOW = 0.60
LEARNT_HIGH = 0.80
LEARNT_CAP = 0.6
# With ``Matcher(kind_relate=KIND_RELATE)``, two kinds whose learnt vectors (the IDF-weighted mean of
# their terms' word vectors) have at least this cosine are related, as if listed on a ``related``
# line. Off by default: which pairs pass moves with every re-learning of the vectors. Re-learnt
# without the B263-B457 labels, 噪音~油烟 rose from under 0.70 to 0.73 (and 赌博~油烟, 摆摊~油烟 passed),
# relating a restaurant's noise and its smoke, two problems by the labels: dev false positives
# 17 -> 34. On dev the relations added no true positive at 0.70 or 0.74, with either vectors; the two
# that stood clear of the threshold in both (信号灯~过街 0.92, 臭气~垃圾 0.74) are ``related`` lines now.
KIND_RELATE = 0.70
# Reports a query scores at most (each ~30 µs: words, place, score). They are the ones its problem and
# time do not rule out, rare place keys first, nearest in time first: past a few hundred reports of one
# problem at one place within its window, more of them change no answer, only the check's tail.
MAX_CANDIDATES = 300
_PROBLEM_WORDS = 64  # problem words kept per report (first occurrences, in text order)
# Words that make a problem lasting rather than an event ("一直" is not one: "水一直往外冒").
_LASTING = re.compile("长期|长年|常年|经常|时常|频繁|反复|多次|屡次|持续|几个月|数月|半年|多年|至今|迟迟")
_MASKED_DISTRICT = re.compile(r"[A-Z]\d{1,3}[区县市]")
_MAX_TEXT = 400
_CJK_WORD = re.compile("[\u4e00-\u9fff]+")
# The first sentence (a board message's subject, a caller's opening words), at most 60 characters.
_HEAD_CHARS = 60
_HEAD = re.compile(rf"[^。！？!?；;\n]{{1,{_HEAD_CHARS}}}")


@dataclass(frozen=True)
class Kind:
    id: str
    window: timedelta
    label: str
    terms: tuple[str, ...]


def _wordlist(name: str) -> str:
    return resources.files("haoban.wordlists").joinpath(name).read_text(encoding="utf-8")


def _lines(text: str) -> Iterable[str]:
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            yield line


def load_kinds(text: str | None = None) -> tuple[Kind, ...]:
    """Problem kinds from ``kind | hours | label | terms…`` lines (default: the shipped word list)."""
    if text is None:
        text = _wordlist("incident_kinds.txt")
    kinds = []
    for line in _lines(text):
        if line.startswith("related"):
            continue
        kid, hours, label, terms = (part.strip() for part in line.split("|", 3))
        kinds.append(Kind(kid, timedelta(hours=int(hours)), label, tuple(terms.split())))
    return tuple(kinds)


def load_related(text: str | None = None) -> tuple[frozenset[str], ...]:
    """Groups of related kinds from ``related | kind kind …`` lines (default: the shipped word list)."""
    if text is None:
        text = _wordlist("incident_kinds.txt")
    return tuple(
        frozenset(line.split("|", 1)[1].split()) for line in _lines(text) if line.startswith("related")
    )


def load_estate_names(text: str | None = None) -> frozenset[str]:
    """Bare estate names, one a line (default: ``wordlists/estate_names.txt``, made by
    ``scripts/estate_names.py`` from the reports' subjects)."""
    if text is None:
        text = _wordlist("estate_names.txt")
    return frozenset(line.split()[0].lower() for line in _lines(text))


class ProblemVectors:
    """Word vectors learnt from unlabelled messages: unit rows (float32), IDF weights, the words."""

    def __init__(self, words: Sequence[str], vectors: np.ndarray, idf: np.ndarray) -> None:
        self.words = tuple(words)
        self.index = {w: i for i, w in enumerate(self.words)}
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        self.vectors = (vectors / np.maximum(norms, 1e-9)).astype(np.float32)
        self.idf = idf.astype(np.float32)

    def __len__(self) -> int:
        return len(self.words)

    def ids(self, words: Iterable[str], limit: int = _PROBLEM_WORDS) -> np.ndarray:
        """Vocabulary ids of *words* (unique, first occurrence order, at most *limit*)."""
        out: list[int] = []
        seen: set[int] = set()
        for w in words:
            i = self.index.get(w)
            if i is not None and i not in seen:
                seen.add(i)
                out.append(i)
                if len(out) >= limit:
                    break
        return np.array(out, dtype=np.uint16)

    def similarity(self, a: np.ndarray, b: np.ndarray) -> float:
        """Soft alignment of two word-id arrays: each word's best cosine in the other report,
        IDF-weighted, averaged over both directions (0 when either has no known word)."""
        if len(a) == 0 or len(b) == 0:
            return 0.0
        sims = self.vectors[a] @ self.vectors[b].T
        wa, wb = self.idf[a], self.idf[b]
        return 0.5 * float(sims.max(axis=1) @ wa / wa.sum() + sims.max(axis=0) @ wb / wb.sum())

    def evidence(self, a: np.ndarray, b: np.ndarray) -> tuple[str, str] | None:
        """The pair of different words to show: the closest, rare words first (业主≈物业 says little)."""
        if len(a) == 0 or len(b) == 0:
            return None
        sims = self.vectors[a] @ self.vectors[b].T
        diff = np.where(a[:, None] == b[None, :], -2.0, sims * np.sqrt(np.outer(self.idf[a], self.idf[b])))
        i, j = np.unravel_index(int(diff.argmax()), diff.shape)
        if diff[i, j] <= -2.0:
            return None
        return self.words[int(a[i])], self.words[int(b[j])]


def load_problem_vectors(text: str | None = None) -> ProblemVectors:
    """``word df base64(int8 × dim)`` lines (default: ``wordlists/problem_vectors.txt``, made by
    ``scripts/problem_vectors.py``); a ``#! messages N`` line gives the corpus size for the IDF."""
    if text is None:
        text = _wordlist("problem_vectors.txt")
    import base64

    n_docs = 1
    words: list[str] = []
    dfs: list[int] = []
    rows: list[bytes] = []
    for raw in text.splitlines():
        if raw.startswith("#! messages"):
            n_docs = int(raw.split()[2])
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        w, df, vec = line.split()
        words.append(w)
        dfs.append(int(df))
        rows.append(base64.b64decode(vec))
    if not words:
        return ProblemVectors((), np.zeros((0, 1), dtype=np.float32), np.zeros(0, dtype=np.float32))
    vectors = np.frombuffer(b"".join(rows), dtype=np.int8).reshape(len(words), -1).astype(np.float32)
    idf = np.log(n_docs / np.array(dfs, dtype=np.float64))
    return ProblemVectors(words, vectors, idf)


@dataclass(frozen=True, slots=True)
class Features:
    """What the index keeps of a report."""

    places: PlaceSet
    kinds: frozenset[str]
    head_kinds: frozenset[str]  # kinds named in the first sentence: what the caller reports above all
    head_keys: Collection[str]  # place keys of the first sentence
    grams: np.ndarray  # sorted unique uint32 codes of character bigrams outside place names
    district: str | None
    # Every district the report names (or the order's one): two reports are in different districts
    # only when these do not meet (a report may name the office it already asked in another one).
    districts: frozenset[str] = frozenset()
    lasting: bool = False  # the report calls its problem lasting (长期, 经常 …): no one-off event
    # vocabulary ids (``wordlists/problem_vectors.txt``) of the report's words outside place names
    problem: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint16))
    # the opening's rare words outside place names, rarest first (see Matcher.rare_words)
    head_rare: tuple[str, ...] = ()


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

    def __init__(
        self,
        kinds: Sequence[Kind] | None = None,
        gazetteer: Gazetteer | None = None,
        *,
        related: Iterable[Collection[str]] | None = None,
        estate_names: Collection[str] | None = None,
        vectors: ProblemVectors | None = None,
        kind_relate: float | None = None,
    ) -> None:
        self.kinds = tuple(kinds if kinds is not None else load_kinds())
        self.by_id = {k.id: k for k in self.kinds}
        self.estate_names = frozenset(load_estate_names() if estate_names is None else estate_names)
        self.vectors = vectors if vectors is not None else load_problem_vectors()
        groups = list(load_related() if related is None and kinds is None else (related or ()))
        if kind_relate is not None:
            groups += self.learnt_related(kind_relate)
        rel: dict[str, set[str]] = {}
        for g in groups:
            for k in g:
                rel.setdefault(k, set()).update(g)
        self._related = {k: frozenset(v) for k, v in rel.items()}
        self._linked: dict[tuple[frozenset[str], frozenset[str]], frozenset[str]] = {}
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

    def kind_vectors(self) -> dict[str, np.ndarray]:
        """Per kind, the unit IDF-weighted mean of its terms' learnt vectors (a term outside the
        vocabulary counts by its jieba words); kinds with no known term are left out."""
        v = self.vectors
        out: dict[str, np.ndarray] = {}
        if not len(v):
            return out
        for k in self.kinds:
            ids: list[int] = []
            for t in k.terms:
                words = [t] if t in v.index else _jieba().lcut(t, HMM=False)
                ids += [v.index[w] for w in words if w in v.index]
            if ids:
                mean = (v.vectors[ids] * v.idf[ids, None]).sum(axis=0)
                norm = float(np.linalg.norm(mean))
                if norm > 0:
                    out[k.id] = mean / norm
        return out

    def learnt_related(self, at_least: float) -> list[frozenset[str]]:
        """Pairs of kinds whose learnt vectors have a cosine of at least *at_least*."""
        vecs = self.kind_vectors()
        ids = sorted(vecs)
        return [
            frozenset((a, b))
            for i, a in enumerate(ids)
            for b in ids[i + 1 :]
            if float(vecs[a] @ vecs[b]) >= at_least
        ]

    def linked(self, a: frozenset[str], b: frozenset[str]) -> frozenset[str]:
        """The kinds of *a* and *b* that the other shares or has a related kind of (memoised: the
        index interns kind sets, so there are few distinct pairs)."""
        hit = self._linked.get((a, b))
        if hit is None:
            out = set(a & b)
            for x, y in ((a, b), (b, a)):
                for k in x:
                    r = self._related.get(k)
                    if r is not None and not r.isdisjoint(y):
                        out.add(k)
            hit = frozenset(out)
            if len(self._linked) < 100_000:
                self._linked[(a, b)] = hit
        return hit

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

    def districts_of(self, text: str) -> frozenset[str]:
        return frozenset(self.gazetteer.find_all(unicodedata.normalize("NFKC", text)))

    def features(self, text: str, *, district: str | None = None) -> Features:
        text = (text or "")[: _MAX_TEXT * 2]
        opts = {"blanks": self._blanks, "problem_terms": self.problem_terms, "names": self.estate_names}
        places, norm, spans, named = analyse(text, **opts)
        head = _HEAD.match(norm)
        head_text = head.group() if head else norm[:_HEAD_CHARS]
        head_places = analyse(head_text, **opts)[0]
        # Problem words that are part of a place's name (安置 in 一师范安置小区) name no problem here.
        kind_text = norm
        if named:
            chars = list(norm)
            for start, end in named:
                chars[start:end] = "|" * (end - start)
            kind_text = "".join(chars)
        return Features(
            places=places,
            kinds=self.kinds_of(kind_text),
            head_kinds=self.kinds_of(kind_text[: len(head_text)]),
            head_keys=head_places.keys,
            grams=_bigrams(norm, spans),
            district=district or self.district_of(text),
            districts=frozenset([district]) if district else self.districts_of(text),
            lasting=_LASTING.search(norm) is not None,
            problem=self.problem_words(norm, spans),
            head_rare=self.rare_words(head_text, spans),
        )

    def problem_words(self, norm: str, spans: Sequence[tuple[int, int]]) -> np.ndarray:
        """Vocabulary ids of the jieba words of *norm* with its place names blanked."""
        if not len(self.vectors):
            return np.zeros(0, dtype=np.uint16)
        chars = list(norm)
        for start, end in spans:
            chars[start:end] = "，" * (end - start)
        # jieba without its HMM guesses (~40 % faster): a guessed word is rarely in the vocabulary;
        # the vocabulary lookup drops stop words, single characters and numbers.
        return self.vectors.ids(_jieba().lcut("".join(chars), HMM=False))

    def rare_words(self, head: str, spans: Sequence[tuple[int, int]]) -> tuple[str, ...]:
        """The rare words of an opening, place names blanked (*spans* may run past it), rarest first:
        jieba dictionary words of 2+ Chinese characters that the learnt vocabulary (its 6,000 most
        frequent words) does not hold (午餐), then vocabulary words of IDF ≥ ``RARE_IDF``; stop words
        and hotline stop words never."""
        v = self.vectors
        if not len(v):
            return ()
        n = len(head)
        chars = list(head)
        for start, end in spans:
            if start < n:
                chars[start : min(end, n)] = "，" * (min(end, n) - start)
        found: dict[str, float] = {}
        for w in _jieba().lcut("".join(chars), HMM=False):
            i = v.index.get(w)
            if i is not None:
                if v.idf[i] >= RARE_IDF:
                    found[w] = float(v.idf[i])
            elif len(w) >= 2 and _CJK_WORD.fullmatch(w) and w not in HOTLINE_STOPWORDS:
                found[w] = math.inf
        return tuple(sorted(found, key=lambda w: (-found[w], w)))

    def rare_shared(self, a: Features, b: Features) -> str | None:
        """The rarest word both openings share (see ``rare_words``), or None."""
        if not a.head_rare or not b.head_rare:
            return None
        other = set(b.head_rare)
        return next((w for w in a.head_rare if w in other), None)

    def learnt(self, a: Features, b: Features) -> float:
        """The learnt problem similarity of *a* and *b* (0 – 1)."""
        return self.vectors.similarity(a.problem, b.problem)

    def evidence(self, a: Features, b: Features, score: float) -> str:
        """What the operator sees of the learnt similarity: "爆管≈漏水 (0.71)"."""
        pair = self.vectors.evidence(a.problem, b.problem)
        return f"{pair[0]}≈{pair[1]} ({score:.2f})" if pair else f"({score:.2f})"

    def reach(
        self,
        a: tuple[frozenset[str], frozenset[str], bool],
        b: tuple[frozenset[str], frozenset[str], bool],
    ) -> timedelta | None:
        """How far apart two reports of these *(kinds, head_kinds, lasting)* profiles may lie and
        still be one incident, or None when their problems rule it out: both open with a problem
        (their first sentence names one) and those are neither the same nor related. Kinds that
        differ only further on do not refuse a pair (it then scores as "problem unknown"): a caller
        adds what else is wrong there (the hole is unlit: 路灯), and grouped CV on dev is no worse
        without that second veto (see bench/RESULTS.md). The window is the linked kinds' (the
        default when none); a lasting problem gets at least the default."""
        (ka, ha, la), (kb, hb, lb) = a, b
        if ha and hb and not (ha & hb or self.linked(ha, hb)):
            return None  # both open with a problem, and not the same one (nor a related one)
        linked = ka & kb or self.linked(ka, kb)
        window = self.window(linked)
        if la or lb:
            window = max(window, DEFAULT_WINDOW)  # a lasting problem is reported again for weeks
        return window

    def window(self, kinds: Iterable[str]) -> timedelta:
        windows = [self.by_id[k].window for k in kinds if k in self.by_id]
        return max(windows) if windows else DEFAULT_WINDOW

    def labels(self, kinds: Iterable[str]) -> list[str]:
        return [self.by_id[k].label for k in sorted(kinds) if k in self.by_id]


@lru_cache(maxsize=1)
def default_matcher() -> Matcher:
    return Matcher()


_COMPLAINT_WORDS = re.compile(
    "尽快|领导|非法|违法|违规|关注|要求|请求|希望|建议|解决|问题|投诉|反映|咨询|关于|请问|何时|政府|部门|开发商"
)


def learn_estate_names(
    subjects: Iterable[tuple[str, str]], *, min_writers: int = 2, matcher: Matcher | None = None
) -> dict[str, int]:
    """Bare estate names from (writer, subject) pairs, with how many writers' subjects name them.

    A candidate is a name of 4–8 characters standing before 小区 or 社区 in some subject; it is kept
    when it recurs (with or without the suffix) in the subjects of *min_writers* writers. Names with
    a problem term or a complaint word (规划建设小区, 领导关注小区) are dropped. ``scripts/estate_names.py``
    runs this over the TipDM subjects into ``wordlists/estate_names.txt``; a deployment can run it
    over its own orders' subjects."""
    m = matcher or Matcher(estate_names=())
    problems = re.compile("|".join(map(re.escape, sorted(m.problem_terms, key=len, reverse=True))))
    norms = [(w, _normalise(s, m._blanks)) for w, s in subjects]
    cands: set[str] = set()
    for _, norm in norms:
        for start, suf, end, _cls in place_spans(norm):
            if norm[suf:end] not in ("小区", "社区"):
                continue
            for cut in range(suf - 4, max(start, suf - 8) - 1, -1):
                name = norm[cut:suf]
                if name[0].isdigit() or problems.search(name) or _COMPLAINT_WORDS.search(name):
                    continue
                cands.add(name)
    writers: dict[str, set[str]] = {}
    for w, norm in norms:
        for i in range(len(norm)):
            for n in range(4, 9):
                if norm[i : i + n] in cands:
                    writers.setdefault(norm[i : i + n], set()).add(w)
    return {n: len(ws) for n, ws in writers.items() if len(ws) >= min_writers}


def _bigrams(norm: str, spans: Sequence[tuple[int, int]]) -> np.ndarray:
    """Sorted unique codes (first char << 16 | second) of the bigrams of content characters, place
    names blanked: one numpy pass (CJK code points fit 16 bits, so a code fits 32)."""
    arr = np.frombuffer(norm.encode("utf-32-le"), dtype=np.uint32).copy()
    for start, end in spans:
        arr[start:end] = 0
    cjk = (arr >= 0x4E00) & (arr <= 0x9FFF)
    ok = cjk | ((arr >= 0x30) & (arr <= 0x39)) | ((arr >= 0x61) & (arr <= 0x7A))
    pair = ok[:-1] & ok[1:]
    codes = (arr[:-1][pair] << np.uint32(16)) | arr[1:][pair]
    return np.unique(codes)


# --- comparing two reports -------------------------------------------------------------------------


def _spot_name_len(key: str) -> int:
    return len(key) - len("spot:")


def place_strength(a: PlaceSet, b: PlaceSet) -> tuple[float, str | None]:
    """How surely *a* and *b* name one place (0 – 1) and the place to show."""
    shared = set(a.keys).intersection(b.keys)
    if not shared:
        return 0.0, None
    best_spot = ""
    best_org = 0
    org_name = ""
    whole = False
    roads: set[str] = set()
    for k in sorted(shared):
        if k.startswith("cross:"):
            x, y = k[6:].split("|", 1)
            return 1.0, f"{x} × {y}"
        if k.startswith("no:"):
            road, no = k[3:].split("|", 1)
            return 1.0, f"{road}{no}号"
        if k.startswith("spot:"):
            if len(k) > len(best_spot):
                best_spot = k
        elif k.startswith("whole:"):
            whole = True
        elif k.startswith("org:"):
            # An organisation both name (its trade name's sorted characters): three or more shared
            # characters as sure as an estate, two as a three-character spot.
            best_org = max(best_org, len(k) - len("org:"))
        elif k[5:] in a.roads and k[5:] in b.roads:
            roads.add(k[5:])
    if roads:
        # A road both name, unless both pin it down to different crossings or house numbers.
        ca, cb, na, nb = a.crossings, b.crossings, a.numbers, b.numbers
        for r in list(roads):
            pa = {x if y == r else y for x, y in ca if r in (x, y)}
            pb = {x if y == r else y for x, y in cb if r in (x, y)}
            sa = {n for rr, n in na if rr == r}
            sb = {n for rr, n in nb if rr == r}
            if (pa and pb and not pa & pb) or (sa and sb and not sa & sb):
                roads.discard(r)
    if len(roads) >= 2:
        return 1.0, " × ".join(sorted(roads))
    spot_len = _spot_name_len(best_spot) if best_spot else 0
    if spot_len >= 4:
        return 1.0, best_spot[5:]
    if best_org:
        org_name = next(k[4:] for k in sorted(shared, key=len, reverse=True) if k.startswith("org:"))
    if best_org >= 3:
        return 1.0, org_name
    if spot_len == 3:
        # a whole three-character name (泉水村, 双水湾) both write is as sure as an estate; a shared
        # three-character tail may be two longer names' ends
        return (1.0 if whole else 0.8), best_spot[5:]
    if best_org == 2:
        return 0.8, org_name
    if roads:
        return 0.7, next(iter(roads))
    return 0.0, None


def elsewhere(a: Features, b: Features) -> bool:
    """*a* and *b* both name a place and share none: a near copy of such a pair is one template sent
    about several estates ("魅力之城小区临街门面油烟直排扰民" / "…润芳园小区临街门面油烟直排扰民"), not
    one incident."""
    return bool(a.places.keys) and bool(b.places.keys) and place_strength(a.places, b.places)[0] == 0.0


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Plain cosine of two bigram sets (no IDF): the fallback when no index supplies the weights."""
    if len(a) == 0 or len(b) == 0:
        return 0.0
    common = np.intersect1d(a, b, assume_unique=True)
    return float(len(common) / math.sqrt(len(a) * len(b)))


def _profile(f: Features) -> tuple[frozenset[str], frozenset[str], bool]:
    """What :meth:`Matcher.reach` reads of a report: its kinds, its opening's kinds, lasting."""
    return (f.kinds, f.head_kinds, f.lasting)


def compare(
    a: Features,
    b: Features,
    *,
    gap: timedelta,
    matcher: Matcher,
    words: float | None = None,
    threshold: float | None = None,
) -> IncidentMatch | None:
    """The score of *a* and *b* as one incident with its reasons, or None when a signal rules it out.

    *words*: the text similarity when the caller computed it with IDF (default: plain set cosine).
    *threshold*: the caller drops scores below it, so the learnt similarity (the costliest signal)
    is computed only where it can lift the pair over it, and a pair below it is None.
    """
    if a.districts and b.districts and a.districts.isdisjoint(b.districts):
        return None
    window = matcher.reach(_profile(a), _profile(b))
    if window is None or abs(gap) > window:
        return None
    place, where = place_strength(a.places, b.places)
    if place == 0.0:
        return None
    rare = None
    if place >= 1.0 and not a.head_kinds and not b.head_kinds:
        rare = matcher.rare_shared(a, b)
    if set(a.head_keys).isdisjoint(b.head_keys):
        place *= HEAD_PLACE_FACTOR  # the place both name is not in either opening: less sure
    shared = a.kinds & b.kinds or matcher.linked(a.kinds, b.kinds)
    head_linked = a.head_kinds & b.head_kinds or matcher.linked(a.head_kinds, b.head_kinds)
    if a.head_kinds & b.head_kinds:
        kind = 1.0
    elif a.kinds & b.kinds or head_linked:
        kind = KIND_BODY
    elif rare is not None and not shared:
        kind = KIND_BODY  # no known problem in either opening, but a rare word in both
    else:
        kind = KIND_NONE
        rare = None
    sim = cosine(a.grams, b.grams) if words is None else words
    word_signal = min(1.0, sim / WORDS_FULL)
    learnt_reason = None
    base = W_PLACE * place + W_KIND * kind
    # With a threshold, only where the learnt lift can decide: the pair is below it without the lift
    # and could reach it with the full lift (a pair already in keeps its score without it).
    decides = threshold is None or (base + W_WORDS * word_signal < threshold <= base + W_WORDS * LEARNT_CAP)
    if word_signal < LEARNT_CAP and decides and len(a.problem) and len(b.problem):
        learnt = matcher.learnt(a, b)
        lift = LEARNT_CAP * min(1.0, max(0.0, (learnt - LEARNT_LOW) / (LEARNT_HIGH - LEARNT_LOW)))
        if lift > word_signal:
            word_signal = lift
            # Evidence only, like the other reasons: the UI names the signal ("问题" / "Problem").
            learnt_reason = Reason("problem", matcher.evidence(a, b, learnt))
    score = base + W_WORDS * word_signal
    if threshold is not None and score < threshold:
        return None  # the caller would drop it: no reasons to write
    reasons = [Reason("place", where or "")]
    if shared:
        reasons.append(Reason("problem", "/".join(matcher.labels(shared))))
    elif rare is not None:
        reasons.append(Reason("problem", rare))
    if learnt_reason is not None:
        reasons.append(learnt_reason)
    hours = abs(gap).total_seconds() / 3600
    reasons.append(Reason("time", f"{hours:.0f}h ≤ {window.total_seconds() / 3600:.0f}h"))
    reasons.append(Reason("words", f"{sim:.2f}"))
    return IncidentMatch("", round(score, 4), tuple(reasons))


# --- the index --------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Doc:
    key: str
    at: datetime
    features: Features
    norm: float


def _seconds(at: datetime) -> float:
    """*at* as seconds on one axis (naive times read as UTC: only differences matter)."""
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()


# Bigram document frequencies live in a fixed table of 2^20 counters indexed by a hash of the code
# (4 MB, no per-bigram dictionary); a collision only blurs the IDF of two rare bigrams.
_DF_BITS = 20
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _buckets(codes: np.ndarray) -> np.ndarray:
    return ((codes.astype(np.uint64) * _GOLDEN) >> np.uint64(64 - _DF_BITS)).astype(np.int64)


class IncidentIndex:
    """In-memory index of open reports for incident matching; one writer, many readers.

    Per report it keeps a :class:`_Doc` with the report's features in compact form: place keys and
    roads as tuples of interned strings (reports of one place share them), kind sets interned, the
    bigram codes as one small array; postings map a place key to one slot or a set of slots.
    """

    def __init__(
        self,
        matcher: Matcher | None = None,
        *,
        threshold: float = THRESHOLD,
        max_candidates: int = MAX_CANDIDATES,
    ) -> None:
        self.matcher = matcher or default_matcher()
        self.threshold = threshold
        self.max_candidates = max_candidates
        self._docs: dict[int, _Doc] = {}
        self._slot_of: dict[str, int] = {}
        self._next = 0
        self._postings: dict[str, int | set[int]] = {}
        self._df = np.zeros(1 << _DF_BITS, dtype=np.int32)
        self._strings: dict[str, str] = {}
        self._kindsets: dict[frozenset[str], frozenset[str]] = {}
        # Per slot, for the vectorised refusals of a query: the report's time (seconds) and the id of
        # its problem profile (kinds, opening kinds, lasting: few distinct ones, interned).
        self._times = np.zeros(1024, dtype=np.float64)
        self._pids = np.zeros(1024, dtype=np.int32)
        self._profiles: dict[tuple[frozenset[str], frozenset[str], bool], int] = {}
        self._profile_list: list[tuple[frozenset[str], frozenset[str], bool]] = []
        # (query profile, indexed profile id) -> the pair's window in seconds, -1 when refused
        self._reach: dict[tuple[tuple[frozenset[str], frozenset[str], bool], int], float] = {}
        self._lock = threading.RLock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._docs)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._slot_of

    def districts_of(self, text: str) -> frozenset[str]:
        return frozenset(self.gazetteer.find_all(unicodedata.normalize("NFKC", text)))

    def features(self, text: str, *, district: str | None = None) -> Features:
        return self.matcher.features(text, district=district)

    def features_of(self, key: str) -> Features | None:
        """What the index keeps of report *key* (None when it is not indexed)."""
        with self._lock:
            slot = self._slot_of.get(key)
            return None if slot is None else self._docs[slot].features

    def add(self, key: str, text: str, *, at: datetime, district: str | None = None) -> Features:
        """Index report *key* (replacing an earlier version) and return its features."""
        f = self.matcher.features(text, district=district)
        self.add_features(key, f, at=at)
        return f

    def _compact(self, f: Features) -> Features:
        intern = self._strings.setdefault
        kinds = self._kindsets.setdefault
        return Features(
            places=PlaceSet(
                keys=tuple(intern(k, k) for k in f.places.keys),
                roads=tuple(intern(r, r) for r in f.places.roads),
            ),
            kinds=kinds(f.kinds, f.kinds),
            head_kinds=kinds(f.head_kinds, f.head_kinds),
            head_keys=tuple(intern(k, k) for k in f.head_keys),
            grams=f.grams,
            district=intern(f.district, f.district) if f.district else None,
            districts=kinds(f.districts, f.districts),
            lasting=f.lasting,
            problem=f.problem,
            head_rare=tuple(intern(w, w) for w in f.head_rare),
        )

    def add_features(self, key: str, f: Features, *, at: datetime) -> None:
        with self._lock:
            if key in self._slot_of:
                self._remove_locked(key)
            slot = self._next
            self._next += 1
            self._slot_of[key] = slot
            np.add.at(self._df, _buckets(f.grams), 1)
            compact = self._compact(f)
            self._docs[slot] = _Doc(key, at, compact, self._norm(f.grams))
            if slot >= len(self._times):
                self._times = np.resize(self._times, 2 * len(self._times))
                self._pids = np.resize(self._pids, 2 * len(self._pids))
            self._times[slot] = _seconds(at)
            profile = _profile(compact)
            pid = self._profiles.get(profile)
            if pid is None:
                pid = self._profiles[profile] = len(self._profile_list)
                self._profile_list.append(profile)
            self._pids[slot] = pid
            for k in compact.places.keys:
                posting = self._postings.get(k)
                if posting is None:
                    self._postings[k] = slot
                elif isinstance(posting, int):
                    self._postings[k] = {posting, slot}
                else:
                    posting.add(slot)

    def remove(self, key: str) -> None:
        with self._lock:
            if key in self._slot_of:
                self._remove_locked(key)

    def _remove_locked(self, key: str) -> None:
        slot = self._slot_of.pop(key)
        doc = self._docs.pop(slot)
        np.add.at(self._df, _buckets(doc.features.grams), -1)
        for k in doc.features.places.keys:
            posting = self._postings.get(k)
            if posting is None:
                continue
            if isinstance(posting, int):
                if posting == slot:
                    del self._postings[k]
                continue
            posting.discard(slot)
            if len(posting) == 1:
                self._postings[k] = next(iter(posting))
        if not self._docs:
            self._strings.clear()  # nothing refers to them any more

    def _posting(self, k: str) -> set[int] | tuple[int, ...]:
        p = self._postings.get(k)
        if p is None:
            return ()
        return (p,) if isinstance(p, int) else p

    def _candidates(self, f: Features, at: datetime, exclude: str | None) -> list[int]:
        """The slots worth scoring for *f*: reports sharing a place key whose problems and time
        :meth:`Matcher.reach` does not rule out (one numpy pass per key, not a Python step per
        report), at most ``max_candidates``, rare keys first (a crowded road must not crowd out the
        estate both reports name) and, within a key that would pass the cap, nearest in time first
        (the one incident's other callers write within its window, mostly soon after)."""
        t = _seconds(at)
        profile = _profile(f)
        # the excluded report (the order being edited) takes no place in the budget
        skip = self._slot_of.get(exclude) if exclude is not None else None
        picked: dict[int, None] = {} if skip is None else {skip: None}
        budget = self.max_candidates + (skip is not None)
        for k in sorted(f.places.keys, key=lambda k: len(self._posting(k))):
            posting = self._posting(k)
            if not posting:
                continue
            slots = np.fromiter(posting, dtype=np.int64, count=len(posting))
            gaps = np.abs(self._times[slots] - t)
            pids, inverse = np.unique(self._pids[slots], return_inverse=True)
            reach = np.array([self._reach_of(profile, int(p)) for p in pids])[inverse]
            ok = gaps <= reach
            slots, gaps = slots[ok], gaps[ok]
            if picked and len(slots):
                fresh = ~np.isin(slots, np.fromiter(picked, dtype=np.int64, count=len(picked)))
                slots, gaps = slots[fresh], gaps[fresh]
            room = budget - len(picked)
            if len(slots) > room:
                slots = slots[np.lexsort((slots, gaps))[:room]]
            picked.update(dict.fromkeys(slots.tolist()))
            if len(picked) >= budget:
                break
        return [s for s in picked if s != skip]

    def _reach_of(self, profile: tuple[frozenset[str], frozenset[str], bool], pid: int) -> float:
        hit = self._reach.get((profile, pid))
        if hit is None:
            window = self.matcher.reach(profile, self._profile_list[pid])
            # a tolerance over the exact window: compare() makes the exact test on what passes
            hit = -1.0 if window is None else window.total_seconds() + 1e-3
            if len(self._reach) < 100_000:
                self._reach[(profile, pid)] = hit
        return hit

    def _idf(self, codes: np.ndarray) -> np.ndarray:
        df = self._df[_buckets(codes)]
        return np.log((len(self._docs) + 1) / (np.maximum(df, 0) + 1)) + 1.0

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
            slots = self._candidates(f, at, exclude)
            norm_q = self._norm(f.grams)
            for slot in slots:
                doc = self._docs[slot]
                key = doc.key
                if key == exclude:
                    continue
                other = doc.features
                if f.districts and other.districts and f.districts.isdisjoint(other.districts):
                    continue
                sim = 0.0
                if norm_q and doc.norm:
                    common = np.intersect1d(f.grams, other.grams, assume_unique=True)
                    if len(common):
                        wc = self._idf(common)
                        sim = float((wc @ wc) / (norm_q * doc.norm))
                m = compare(
                    f, other, gap=at - doc.at, matcher=self.matcher, words=sim, threshold=self.threshold
                )
                if m is not None and m.score >= self.threshold:
                    out.append(IncidentMatch(key, m.score, m.reasons))
        out.sort(key=lambda m: (-m.score, m.key))
        return out[:limit]
