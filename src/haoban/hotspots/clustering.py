"""Hotspots (热点问题): groups of appeals about the same issue in the same place, ranked.

Pure: plain dataclasses in, plain dataclasses out; no database.

Pipeline (100,000 appeals in ~15–20 s on one core, see bench/hotspots.py):

1. **Vectors.** Character bigrams of the subject (weight 3: it is the citizen's own summary)
   and of the first 400 characters of the detail, after full-width folding and removal of the
   anonymisation codes. Computed for the whole corpus at once with numpy (jieba would take
   ~100 s for 100k messages), hashed into 2²¹ columns, weighted ``(1 + ln tf) × idf``.
2. **Signatures.** Each vector keeps only its 30 heaviest bigrams, re-normalised: the distinctive
   names and nouns ("丽发", "搅拌", "油烟"). The shared boilerplate ("反映", "小区", "问题") would
   otherwise make every pair look alike and make the all-pairs product quadratic.
3. **Pairs.** Cosine similarities of the signatures, by sparse products in row blocks; only pairs
   ≥ ``min_pair_sim`` are kept. Pairs whose known districts differ lose ``district_penalty``:
   a hotspot is local, but a message may name a district wrongly or not at all.
4. **Clusters.** Connected components of the pairs ≥ ``threshold``; a component whose mean pairwise
   similarity is below ``min_coherence`` (a chain of loosely related messages) is split again at a
   threshold 0.05 higher, until coherent or the threshold reaches 0.7 (divisive single linkage).
   Then two centroid passes: clusters whose centroids are close (≥ ``merge``) are merged — one
   issue told in two vocabularies — and appeals left alone or in pairs join the big cluster whose
   centroid they resemble (≥ ``attach``).
5. **Ranking** (see :func:`hotspot_score`), then labels for the top clusters only: key phrases and
   place from :mod:`haoban.hotspots.phrases`, and the most central member's subject as title.

Parameters (``ClusterParams``) were tuned by hand on the TipDM 2020 messages_with_votes.csv,
checking known campaigns (丽发新城 mixing plant, 伊景园滨河苑 bundled parking, 58车贷, 魅力之城 cooking
fumes) for recall and for unrelated members.

Deterministic: no step depends on iteration order of hashes or on time; ``seed`` only picks the
background sample for key-phrase IDF.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from haoban.hotspots.phrases import PhraseStats, extract_place, key_phrases
from haoban.textutil import ngram_matrix_codes

__all__ = [
    "Appeal",
    "ClusterParams",
    "Hotspot",
    "cluster_appeals",
    "find_hotspots",
    "hotspot_score",
]

# Anonymisation codes (A市, A3区, user ids), also in full-width forms, which are not NFKC-folded here.
_MASK_RE = re.compile(r"[A-ZＡ-Ｚ]{1,2}[\d０-９]{0,3}[市区县]|[A-ZＡ-Ｚ]{1,3}[\d０-９]{4,}")
_N_FEATURES = 1 << 21
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing of n-gram codes into columns


@dataclass(frozen=True)
class Appeal:
    """One citizen appeal (留言/工单). ``votes`` = 点赞数 (support), ``against`` = 反对数.

    ``at`` values of one call must be all naive or all timezone-aware (they are compared).
    """

    key: str
    subject: str
    text: str
    at: datetime
    district: str | None = None
    votes: int = 0
    against: int = 0
    user: str | None = None  # who wrote it: distinct writers measure spread
    # The incident it belongs to (并单): its master's key once merged. Appeals of one incident always
    # share a cluster, whatever their words.
    incident: str | None = None


@dataclass
class Hotspot:
    rank: int
    label: str  # "place：phrase、phrase、phrase"
    key_phrases: list[str]
    place: str | None  # estate / road / village name, else the dominant district
    start: datetime
    end: datetime
    size: int  # member appeals
    votes: int  # net support: Σ点赞 − ½·Σ反对, floored at 0
    growth: float  # (members in the recent half of the window + 1) / (earlier half + 1)
    spread: int  # distinct writers (appeals without a user count as distinct writers)
    score: float
    members: list[str]  # keys, oldest first
    samples: list[str]  # subjects of the most central members
    title: str = ""  # subject of the most central member: a readable one-line summary
    district: str | None = None  # the district most members name, if any
    days: int = 0  # distinct calendar days with an appeal
    districts: list[str] = field(default_factory=list)
    incidents: int = 0  # distinct incidents among the members (merged callers count once)


@dataclass(frozen=True)
class ClusterParams:
    """Tuning knobs of :func:`cluster_appeals`; defaults were chosen on the TipDM 2020 data."""

    threshold: float = 0.3  # cosine of signatures that links two appeals
    min_coherence: float = 0.2  # mean pairwise cosine a cluster must reach, else it is split
    step: float = 0.05
    max_threshold: float = 0.7
    min_pair_sim: float = 0.1  # pairs kept for the coherence estimate
    district_penalty: float = 0.1
    merge: float = 0.4  # cosine of two cluster centroids that merges the clusters
    attach: float = 0.25  # cosine to a cluster centroid that pulls a stray appeal into the cluster
    attach_min_size: int = 3  # only clusters this big have a centroid worth attaching to
    centroid_k: int = 100  # bigrams kept per centroid
    top_k: int = 30  # bigrams kept per signature
    subject_weight: float = 3.0
    max_chars: int = 400  # of the detail; place and issue come first in a message
    block: int = 4000  # rows per sparse product (memory ~ block × 2k pairs)


def hotspot_score(*, users: int, size: int, support: float, days: int, growth: float) -> float:
    """Heat of a cluster. Every term is logarithmic, so no single signal can dominate:

    - ``2·ln(1+users)``: distinct writers count most — forty residents outweigh one resident
      posting forty times;
    - ``0.5·ln(size/users)``: repeated posts by the same people still add a little;
    - ``ln(1+support)``: 点赞 are cheap agreement, 反对 subtract half (done by the caller);
    - ``0.5·ln(min(days, users))``: an issue raised on many days is persistent, not a one-off
      burst — but one writer posting daily is persistence of one person, so days count only up
      to the number of writers;
    - ``0.5·clip(ln growth, ±1.5)``: rising issues (more in the recent half of the window) rank
      above fading ones, but growth alone cannot make a hotspot.
    """
    users = max(users, 1)
    return (
        2.0 * math.log1p(users)
        + 0.5 * math.log(max(size, users) / users)
        + math.log1p(max(support, 0.0))
        + 0.5 * math.log(max(min(days, users), 1))
        + 0.5 * max(-1.5, min(1.5, math.log(max(growth, 1e-9))))
    )


def _strip_masks_corpus(texts: Sequence[str]) -> list[str]:
    """Mask removal on the joined corpus: one regex pass instead of one call per text."""
    # The separator must not occur inside a text: drop it from the texts first (it is not content).
    sep = "\x00"
    return _MASK_RE.sub(" ", sep.join(t.replace(sep, " ") for t in texts)).split(sep)


def _signatures(appeals: Sequence[Appeal], params: ClusterParams) -> sp.csr_matrix:
    """Top-k TF-IDF bigram vectors, L2-normalised, one row per appeal."""
    n = len(appeals)
    chunks = []
    # Chunks bound the memory of the code-point arrays (~60 bytes per character in flight).
    for c0 in range(0, n, 20_000):
        part = appeals[c0 : c0 + 20_000]
        m = len(part)
        x = sp.csr_matrix((m, _N_FEATURES), dtype=np.float32)
        for texts, weight in (
            (_strip_masks_corpus([a.subject for a in part]), params.subject_weight),
            (_strip_masks_corpus([a.text[: params.max_chars] for a in part]), 1.0),
        ):
            doc, code = ngram_matrix_codes(texts, 2)
            col = ((code.astype(np.uint64) * _GOLDEN) >> np.uint64(64 - 21)).astype(np.int32)
            del code
            x = x + sp.csr_matrix(
                (np.full(len(doc), weight, dtype=np.float32), (doc, col)), shape=(m, _N_FEATURES)
            )
        chunks.append(x)
    x = sp.vstack(chunks, format="csr") if len(chunks) > 1 else chunks[0].tocsr()
    x.sum_duplicates()
    x.data = np.log1p(x.data).astype(np.float32)
    df = np.bincount(x.indices, minlength=_N_FEATURES)
    idf = (np.log((n + 1) / (df + 1)) + 1.0).astype(np.float32)
    x.data *= idf[x.indices]
    return _top_k_rows(x, params.top_k)


def _similar_pairs(
    y: sp.csr_matrix,
    min_sim: float,
    block: int,
    tick: Callable[[], None],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All pairs i < j with cosine ≥ min_sim, by blocked sparse products."""
    n = y.shape[0]
    yt = y.T.tocsr()
    ii, jj, ss = [], [], []
    for b0 in range(0, n, block):
        prod = (y[b0 : b0 + block] @ yt).tocoo()
        rows = prod.row.astype(np.int64) + b0
        keep = (prod.data >= min_sim) & (prod.col > rows)
        ii.append(rows[keep])
        jj.append(prod.col[keep].astype(np.int64))
        ss.append(prod.data[keep].astype(np.float32))
        tick()
    if not ii:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
    return np.concatenate(ii), np.concatenate(jj), np.concatenate(ss)


def _components(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    graph = sp.csr_matrix((np.ones(len(i), dtype=np.int8), (i, j)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels.astype(np.int64)


def _coherence(labels: np.ndarray, i: np.ndarray, j: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Mean pairwise similarity per label (pairs not stored count as 0; singletons get 1)."""
    k = int(labels.max()) + 1 if len(labels) else 0
    sizes = np.bincount(labels, minlength=k).astype(np.float64)
    same = labels[i] == labels[j]
    sums = np.bincount(labels[i[same]], weights=s[same], minlength=k)
    n_pairs = sizes * (sizes - 1) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n_pairs > 0, sums / np.maximum(n_pairs, 1), 1.0)


def _centroids(
    y: sp.csr_matrix, labels: np.ndarray, dist: np.ndarray, min_size: int, k: int
) -> tuple[np.ndarray, sp.csr_matrix, np.ndarray]:
    """Clusters of at least *min_size*: their labels, top-k normalised centroids, dominant district."""
    n = len(labels)
    sizes = np.bincount(labels)
    big = np.flatnonzero(sizes >= min_size)
    members = np.flatnonzero(sizes[labels] >= min_size)
    big_index = np.full(len(sizes), -1, dtype=np.int64)
    big_index[big] = np.arange(len(big))
    membership = sp.csr_matrix(
        (np.ones(len(members), dtype=np.float32), (big_index[labels[members]], members)),
        shape=(len(big), n),
    )
    cent = _top_k_rows((membership @ y).tocsr(), k)
    dom = np.full(len(big), -1, dtype=np.int64)
    known = members[dist[members] >= 0]
    if len(known) and len(big):
        n_d = int(dist.max()) + 1
        counts = np.bincount(big_index[labels[known]] * n_d + dist[known], minlength=len(big) * n_d)
        counts = counts.reshape(len(big), n_d)
        has = counts.sum(axis=1) > 0
        dom[has] = counts[has].argmax(axis=1)
    return big, cent, dom


def _relabel(labels: np.ndarray) -> np.ndarray:
    _, dense = np.unique(labels, return_inverse=True)
    return dense.astype(np.int64)


def _merge_clusters(y: sp.csr_matrix, labels: np.ndarray, dist: np.ndarray, p: ClusterParams) -> np.ndarray:
    """Merge clusters whose centroids are close: one issue told in two vocabularies.

    Residents of one estate complain about "油烟" in some messages and "噪音" in others; each
    wording forms its own tight cluster, and the centroids (which share the estate's name and the
    shops below the flats) are what shows they belong together. One round, union of all pairs ≥
    ``merge`` — conservative on purpose, since merges are not re-checked for coherence.
    """
    big, cent, dom = _centroids(y, labels, dist, 2, p.centroid_k)
    if len(big) < 2:
        return labels
    prod = sp.triu(cent @ cent.T, k=1).tocoo()
    r, c, v = prod.row, prod.col, prod.data
    v = v - p.district_penalty * ((dom[r] >= 0) & (dom[c] >= 0) & (dom[r] != dom[c]))
    keep = v >= p.merge
    if not keep.any():
        return labels
    groups = _components(len(big), r[keep].astype(np.int64), c[keep].astype(np.int64))
    # Every member of a merged group takes the smallest original label of the group.
    target = np.arange(int(labels.max()) + 1)
    first = np.full(int(groups.max()) + 1, np.iinfo(np.int64).max)
    np.minimum.at(first, groups, big)
    target[big] = first[groups]
    return _relabel(target[labels])


def _attach_strays(y: sp.csr_matrix, labels: np.ndarray, dist: np.ndarray, p: ClusterParams) -> np.ndarray:
    """Move appeals of tiny clusters into the big cluster whose centroid they resemble most.

    Pairwise links miss a message that words the issue differently from every single member but
    shares the cluster's vocabulary as a whole ("我要举报丽发新城开发商违规建设搅拌站" against
    forty "搅拌站噪音扰民" complaints); the centroid sums that vocabulary. One pass, no iteration.
    """
    sizes = np.bincount(labels)
    stray = np.flatnonzero(sizes[labels] < p.attach_min_size)
    big, cent, dom = _centroids(y, labels, dist, p.attach_min_size, p.centroid_k)
    if len(big) == 0 or len(stray) == 0:
        return labels
    ct = cent.T.tocsr()
    out = labels.copy()
    for b0 in range(0, len(stray), p.block):
        rows = stray[b0 : b0 + p.block]
        prod = (y[rows] @ ct).tocoo()
        r, c, v = prod.row.astype(np.int64), prod.col.astype(np.int64), prod.data
        d = dist[rows][r]
        v = v - p.district_penalty * ((d >= 0) & (dom[c] >= 0) & (d != dom[c]))
        # Best centroid per row: sort by (row, -similarity, centroid) and take each row's first.
        order = np.lexsort((c, -v, r))
        first = order[np.r_[True, r[order][1:] != r[order][:-1]]] if len(order) else order
        best = np.zeros(len(rows), dtype=np.int64)
        val = np.full(len(rows), -1.0)
        best[r[first]] = c[first]
        val[r[first]] = v[first]
        ok = val >= p.attach
        out[rows[ok]] = big[best[ok]]
    return _relabel(out)


def _top_k_rows(x: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Keep the k largest entries of every row and L2-normalise the rows.

    Rows are short (hundreds of entries), so a partition per long row is cheaper than sorting
    all entries; argpartition is deterministic for equal input, which is all we need.
    """
    x = x.tocsr()
    x.sort_indices()
    counts = np.diff(x.indptr)
    keep = np.ones(x.nnz, dtype=bool)
    data = x.data
    for r in np.flatnonzero(counts > k).tolist():
        a, b = x.indptr[r], x.indptr[r + 1]
        drop = np.argpartition(data[a:b], b - a - k)[: b - a - k]
        keep[a + drop] = False
    # Kept entries per row from a running total: reduceat fails when trailing rows are empty (an
    # appeal of punctuation only has no n-gram at all).
    running = np.concatenate([[0], np.cumsum(keep, dtype=np.int64)])
    kept = running[x.indptr[1:]] - running[x.indptr[:-1]]
    indptr = np.concatenate([[0], np.cumsum(kept)])
    y = sp.csr_matrix((data[keep].astype(np.float32), x.indices[keep], indptr), shape=x.shape)
    norms = np.sqrt(np.asarray(y.multiply(y).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return (sp.diags((1.0 / norms).astype(np.float32)) @ y).tocsr()


def _join_incidents(appeals: Sequence[Appeal], labels: np.ndarray) -> np.ndarray:
    """Every appeal of one incident (a master and the orders merged under it) in the master's cluster."""
    groups: dict[str, list[int]] = {}
    for k, a in enumerate(appeals):
        groups.setdefault(a.incident or a.key, []).append(k)
    index = {a.key: k for k, a in enumerate(appeals)}
    out = labels.copy()
    for head, members in groups.items():
        if len(members) < 2:
            continue
        anchor = index.get(head, members[0])
        out[members] = out[anchor]
    return _relabel(out)


def cluster_appeals(
    appeals: Sequence[Appeal],
    *,
    params: ClusterParams | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Cluster label of every appeal and a centrality score (sum of similarities within its cluster).

    Labels are dense integers; appeals alone in their cluster have a label of their own.
    """
    p = params or ClusterParams()
    n = len(appeals)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0)
    n_blocks = math.ceil(n / p.block)
    total = n_blocks + 2
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    y = _signatures(appeals, p)
    tick()
    i, j, s = _similar_pairs(y, p.min_pair_sim, p.block, tick)
    # Districts as integer codes (-1 unknown) for the mismatch penalty.
    names = sorted({a.district for a in appeals if a.district})
    code = {d: k for k, d in enumerate(names)}
    dist = np.array([code.get(a.district, -1) if a.district else -1 for a in appeals], dtype=np.int64)
    clash = (dist[i] >= 0) & (dist[j] >= 0) & (dist[i] != dist[j])
    s = np.where(clash, s - p.district_penalty, s).astype(np.float32)

    t = p.threshold
    strong = s >= t
    labels = _components(n, i[strong], j[strong])
    # Divisive pass: re-split incoherent components at a higher threshold.
    while t + p.step <= p.max_threshold + 1e-9:
        coh = _coherence(labels, i, j, s)
        bad = coh < p.min_coherence
        if not bad.any():
            break
        t += p.step
        in_bad = bad[labels]
        edge = in_bad[i] & (labels[i] == labels[j]) & (s >= t)
        sub = _components(n, i[edge], j[edge])
        # Nodes of bad components take their sub-component label (offset to stay distinct).
        labels = _relabel(np.where(in_bad, sub + int(labels.max()) + 1, labels))
    labels = _merge_clusters(y, labels, dist, p)
    labels = _attach_strays(y, labels, dist, p)
    labels = _join_incidents(appeals, labels)
    del y
    # Centrality: how strongly each member is tied to the rest of its cluster.
    same = labels[i] == labels[j]
    central = np.bincount(i[same], weights=s[same], minlength=n) + np.bincount(
        j[same], weights=s[same], minlength=n
    )
    tick()
    return labels, central


def _dominant(values: Sequence[str | None], min_share: float = 0.5) -> str | None:
    known = [v for v in values if v]
    if not known:
        return None
    counts: dict[str, int] = {}
    for v in known:
        counts[v] = counts.get(v, 0) + 1
    best = min(counts, key=lambda v: (-counts[v], v))
    return best if counts[best] >= min_share * len(known) else None


def _phrase_text(a: Appeal) -> str:
    return f"{a.subject}。{a.text[:200]}"


def find_hotspots(
    appeals: Sequence[Appeal],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    district: str | None = None,
    min_size: int = 2,
    top: int = 10,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
    params: ClusterParams | None = None,
) -> list[Hotspot]:
    """Rank clusters of similar appeals in ``[since, until]`` (optionally one district only).

    ``growth`` compares the recent half of the window with the earlier half; the window is
    ``[since, until]``, or the span of the selected appeals where a bound is not given.
    """
    sel = [
        a
        for a in appeals
        if (since is None or a.at >= since)
        and (until is None or a.at <= until)
        and (district is None or a.district == district)
    ]
    sel.sort(key=lambda a: (a.at, a.key))  # input order must not change the result
    if len(sel) < max(min_size, 2):
        return []
    labels, central = cluster_appeals(sel, params=params, progress=progress)
    w_start = since or sel[0].at
    w_end = until or sel[-1].at
    mid = w_start + (w_end - w_start) / 2

    order = np.argsort(labels, kind="stable")
    bounds = np.flatnonzero(np.diff(labels[order])) + 1
    groups = [g for g in np.split(order, bounds) if len(g) >= min_size]

    scored: list[tuple[float, int, list[int], dict[str, float]]] = []
    for g in groups:
        idx = sorted(g.tolist(), key=lambda k: (sel[k].at, sel[k].key))
        members = [sel[k] for k in idx]
        recent = sum(1 for a in members if a.at >= mid)
        stats = {
            # Appeals without a writer count as distinct writers.
            "users": len({a.user if a.user else ("anonymous", a.key) for a in members}),
            "support": sum(a.votes for a in members) - 0.5 * sum(a.against for a in members),
            "days": len({a.at.date() for a in members}),
            "growth": (recent + 1) / (len(members) - recent + 1) if w_end > w_start else 1.0,
        }
        score = hotspot_score(
            users=int(stats["users"]),
            size=len(members),
            support=stats["support"],
            days=int(stats["days"]),
            growth=stats["growth"],
        )
        scored.append((score, idx[0], idx, stats))
    # Ties broken by the oldest member's position, which is fixed by the sort above.
    scored.sort(key=lambda t: (-t[0], t[1]))
    scored = scored[:top]
    if not scored:
        return []

    rng = random.Random(seed)
    bg_idx = sorted(rng.sample(range(len(sel)), min(len(sel), 1500)))
    background = PhraseStats(_phrase_text(sel[k]) for k in bg_idx)

    out: list[Hotspot] = []
    for rank, (score, _, idx, stats) in enumerate(scored, start=1):
        members = [sel[k] for k in idx]
        by_centrality = sorted(idx, key=lambda k: (-central[k], sel[k].at, sel[k].key))
        core = [sel[k] for k in by_centrality[:100]]
        dom_district = _dominant([a.district for a in members])
        estate = extract_place([a.subject for a in core], [a.text[:300] for a in core])
        place = estate or dom_district
        phrases = key_phrases([_phrase_text(a) for a in core], background, exclude=[estate or ""])
        label = f"{place}：{'、'.join(phrases[:3])}" if place else "、".join(phrases[:3])
        samples: list[str] = []
        for a in core:
            if a.subject not in samples:
                samples.append(a.subject)
            if len(samples) == 5:
                break
        out.append(
            Hotspot(
                rank=rank,
                label=label or (core[0].subject if core else ""),
                key_phrases=phrases,
                place=place,
                start=members[0].at,
                end=members[-1].at,
                size=len(members),
                votes=max(0, math.floor(stats["support"])),
                growth=round(stats["growth"], 3),
                spread=int(stats["users"]),
                score=round(score, 4),
                members=[a.key for a in members],
                samples=samples,
                title=core[0].subject if core else "",
                district=dom_district,
                days=int(stats["days"]),
                districts=sorted({a.district for a in members if a.district}),
                incidents=len({a.incident or a.key for a in members}),
            )
        )
    return out
