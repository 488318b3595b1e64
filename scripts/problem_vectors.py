"""Learn problem-word vectors (wordlists/problem_vectors.txt) from unlabelled citizen messages.

Two callers name one problem in their own words (爆管 / 停水, 噪音 / 扰民, 油烟 / 排烟); the hand-written
kinds in ``incident_kinds.txt`` cover only the words someone thought of. Here words that keep the same
company in many messages get similar vectors: jieba words of every message, a ±5-word window
co-occurrence matrix, positive PMI (context counts smoothed with α = 0.75), truncated SVD to 48
dimensions (U·√S), each vector scaled to length 1 and stored as int8 (base64) per word.

Source: every TipDM message shipped in ``data/tipdm2020`` (board messages of all years, the raw and the
tokenised training texts, the sample), **minus every message of the labelled incident set**
(``data/incidents/messages.csv``, both splits) and minus anything that looks like a copy of one (same
subject, same opening of the detail, or ≥ 80 % of a labelled subject's words in a tokenised row's
opening), so nothing of the evaluation leaks into the vectors. Deterministic: same data, same file.

Run: python scripts/problem_vectors.py   (writes src/haoban/wordlists/problem_vectors.txt)
"""

from __future__ import annotations

import base64
import csv
import sys
from collections import Counter
from pathlib import Path

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import svds

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))

from incident_pairs import load_messages  # noqa: E402

from haoban.textutil import tokenize  # noqa: E402

OUT = ROOT / "src" / "haoban" / "wordlists" / "problem_vectors.txt"
TIPDM = ROOT / "data" / "tipdm2020"
DIM = 48
WINDOW = 5
MIN_DOCS = 4
MAX_VOCAB = 6000
ALPHA = 0.75


def _squash(s: str) -> str:
    return "".join(s.split())


def corpus() -> list[list[str]]:
    """Word lists of every shipped message that is not (a copy of) a labelled one."""
    labelled = list(csv.DictReader((ROOT / "data" / "incidents" / "messages.csv").open(encoding="utf-8")))
    ids = {r["id"] for r in labelled}
    subjects = {_squash(r["subject"]) for r in labelled if len(_squash(r["subject"])) >= 6}
    openings = {_squash(r["detail"])[:30] for r in labelled if len(_squash(r["detail"])) >= 30}
    subject_words = [set(tokenize(r["subject"])) for r in labelled]
    subject_words = [w for w in subject_words if len(w) >= 3]

    def leaks(text: str) -> bool:
        flat = _squash(text)
        return any(s in flat[: len(s) + 40] for s in subjects) or any(o in flat for o in openings)

    docs: list[list[str]] = []
    skipped = 0
    for k, m in load_messages().items():
        text = f"{m['subject']}。{m['detail']}"
        if k in ids or _squash(m["subject"]) in subjects or leaks(text):
            skipped += 1
            continue
        docs.append(tokenize(text))
    raw = [r["text"] for r in csv.DictReader((TIPDM / "train_raw.csv").open(encoding="utf-8-sig"))]
    raw += [
        f"{r['subject']}。{r['detail']}"
        for r in csv.DictReader((TIPDM / "train_sample_fields.csv").open(encoding="utf-8-sig"))
    ]
    for text in raw:
        if leaks(text):
            skipped += 1
            continue
        docs.append(tokenize(text))
    for r in csv.DictReader((TIPDM / "train_tokenised.csv").open(encoding="utf-8-sig")):
        words = r["text"].split()
        head = set(words[:40])
        if any(len(w & head) >= 0.8 * len(w) for w in subject_words) or leaks(r["text"]):
            skipped += 1
            continue
        docs.append([w for w in words if len(w) > 1 and not w.isdigit()])
    print(f"{len(docs)} messages, {skipped} skipped as labelled or copies of labelled ones")
    return docs


def learn(docs: list[list[str]]) -> tuple[list[str], np.ndarray]:
    df = Counter(w for d in docs for w in set(d))
    vocab = [w for w, c in sorted(df.items(), key=lambda x: (-x[1], x[0])) if c >= MIN_DOCS][:MAX_VOCAB]
    idx = {w: i for i, w in enumerate(vocab)}
    rows: list[int] = []
    cols: list[int] = []
    for d in docs:
        ids = [idx[w] for w in d if w in idx]
        for i, a in enumerate(ids):
            for b in ids[i + 1 : i + 1 + WINDOW]:
                if a != b:
                    rows += (a, b)
                    cols += (b, a)
    n = len(vocab)
    co = sparse.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n)).tocsr()
    co.sum_duplicates()
    total = co.sum()
    pw = np.asarray(co.sum(axis=1)).ravel() / total
    pc = np.asarray(co.sum(axis=0)).ravel() ** ALPHA
    pc /= pc.sum()
    co = co.tocoo()
    pmi = np.log(co.data / total / (pw[co.row] * pc[co.col]))
    keep = pmi > 0
    ppmi = sparse.csr_matrix((pmi[keep], (co.row[keep], co.col[keep])), shape=(n, n))
    # svds starts from a random vector: fix it so the file is reproducible.
    v0 = np.random.default_rng(0).standard_normal(n)
    u, s, _ = svds(ppmi, k=DIM, v0=v0)
    order = np.argsort(-s)
    u, s = u[:, order], s[order]
    vec = u * np.sqrt(s)
    # An SVD vector's sign is arbitrary: make the largest component of each dimension positive.
    vec *= np.sign(vec[np.abs(vec).argmax(axis=0), np.arange(DIM)])
    vec /= np.maximum(np.linalg.norm(vec, axis=1, keepdims=True), 1e-9)
    return vocab, vec


def main() -> None:
    docs = corpus()
    vocab, vec = learn(docs)
    q = np.clip(np.round(vec * 127), -127, 127).astype(np.int8)
    df = Counter(w for d in docs for w in set(d))
    lines = [
        "# Problem-word vectors for incident matching: word, document frequency, 48 int8 components",
        "# (base64). Made by scripts/problem_vectors.py (PPMI + SVD over jieba words) from the TipDM",
        "# messages minus the labelled incident set (data/incidents). Do not edit by hand.",
        f"#! messages {len(docs)}",
    ]
    lines += [f"{w} {df[w]} {base64.b64encode(q[i].tobytes()).decode()}" for i, w in enumerate(vocab)]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(vocab)} words x {DIM} -> {OUT.relative_to(ROOT)} ({OUT.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
