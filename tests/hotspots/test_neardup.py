"""Near-duplicate index: exact Jaccard refinement, filters, lifecycle, concurrency."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from haoban.hotspots.neardup import DocRef, Match, NearDuplicateIndex, jaccard, shingle_hashes

T0 = datetime(2019, 5, 1, 9, 0)
NOISE = "A2区丽发新城附近建搅拌站，噪音扰民，晚上施工到凌晨两点，灰尘很大，严重影响居民休息，请尽快处理。"
SAME_WORDS = (
    "A2区丽发新城附近建搅拌站噪音扰民！晚上施工到凌晨两点，灰尘很大，严重影响居民休息，请尽快处理！！"
)
EDITED = "丽发新城附近建搅拌站，噪音扰民，每天晚上施工到凌晨两点，灰尘很大，严重影响居民休息，请尽快处理。"
OTHER = "咨询住房公积金贷款需要准备哪些材料，首付比例是多少，办理流程需要多长时间。"


def _index(**kw: object) -> NearDuplicateIndex:
    ix = NearDuplicateIndex(**kw)  # type: ignore[arg-type]
    ix.add(DocRef("a", NOISE, T0, "A2区", "环境保护"))
    ix.add(DocRef("b", SAME_WORDS, T0 + timedelta(days=1), "A2区", "环境保护"))
    ix.add(DocRef("c", EDITED, T0 + timedelta(days=2), None, None))
    ix.add(DocRef("d", OTHER, T0, "A2区", "城乡建设"))
    return ix


def test_finds_same_text_with_exact_similarity_and_excludes_itself() -> None:
    ix = _index()
    got = ix.query(DocRef("a", NOISE, T0, "A2区", "环境保护"))
    keys = [m.key for m in got]
    assert "a" not in keys
    # Punctuation is ignored, so b has exactly the same shingles.
    assert got[0] == Match("b", 1.0)
    assert "c" in keys and "d" not in keys
    sims = [m.similarity for m in got]
    assert sims == sorted(sims, reverse=True)
    assert all(0.5 <= s <= 1.0 for s in sims)


def test_similarity_is_exact_jaccard_of_shingles() -> None:
    ix = _index()
    got = {m.key: m.similarity for m in ix.query(DocRef("q", NOISE, T0))}
    expected = jaccard(shingle_hashes(NOISE), shingle_hashes(EDITED))
    assert got["c"] == round(expected, 4)


def test_district_and_category_must_agree_when_both_known() -> None:
    ix = _index()
    assert [m.key for m in ix.query(DocRef("q", NOISE, T0, "A3区"))] == ["c"]  # c has no district
    assert [m.key for m in ix.query(DocRef("q", NOISE, T0, None, "交通运输"))] == ["c"]
    assert {m.key for m in ix.query(DocRef("q", NOISE, T0, None, None))} == {"a", "b", "c"}


def test_time_window() -> None:
    ix = _index(window=timedelta(days=30))
    later = T0 + timedelta(days=31, hours=1)
    assert [m.key for m in ix.query(DocRef("q", NOISE, later))] == ["c"]  # c is 2 days younger
    assert ix.query(DocRef("q", NOISE, T0 + timedelta(days=40))) == []
    assert ix.query(DocRef("q", NOISE, T0 - timedelta(days=40))) == []


def test_limit_and_unrelated_text() -> None:
    ix = _index()
    assert len(ix.query(DocRef("q", NOISE, T0), limit=1)) == 1
    assert ix.query(DocRef("q", NOISE, T0), limit=0) == []
    assert ix.query(DocRef("q", "今天天气很好，我们去公园散步。", T0)) == []


def test_remove_replace_prune_and_len() -> None:
    ix = _index()
    assert len(ix) == 4 and "a" in ix
    ix.remove("a")
    ix.remove("never-added")
    assert len(ix) == 3 and "a" not in ix
    assert "a" not in [m.key for m in ix.query(DocRef("q", NOISE, T0))]
    # Re-adding a key replaces the old text.
    ix.add(DocRef("b", OTHER, T0))
    assert "b" not in [m.key for m in ix.query(DocRef("q", NOISE, T0))]
    assert "b" in [m.key for m in ix.query(DocRef("q", OTHER, T0))]
    assert ix.prune(T0 + timedelta(days=1)) == 2  # b and d are at T0
    assert len(ix) == 1


def test_empty_text_is_stored_but_never_matches() -> None:
    ix = NearDuplicateIndex()
    ix.add(DocRef("e1", "", T0))
    ix.add(DocRef("e2", "！！！", T0))
    assert len(ix) == 2
    assert ix.query(DocRef("q", "", T0)) == []
    ix.remove("e1")
    assert len(ix) == 1


def test_short_texts() -> None:
    ix = NearDuplicateIndex()
    ix.add(DocRef("s", "停水", T0))
    assert [m.key for m in ix.query(DocRef("q", "停水！", T0))] == ["s"]


def test_deterministic_across_instances() -> None:
    docs = [DocRef(f"k{i}", NOISE[: 20 + i] + OTHER[:i], T0) for i in range(30)]
    a, b = NearDuplicateIndex(seed=3), NearDuplicateIndex(seed=3)
    for d in docs:
        a.add(d)
    for d in reversed(docs):
        b.add(d)
    for d in docs[:10]:
        assert a.query(d, limit=50) == b.query(d, limit=50)


def test_one_writer_many_readers() -> None:
    ix = NearDuplicateIndex()
    errors: list[BaseException] = []
    stop = threading.Event()

    def writer() -> None:
        try:
            for i in range(200):
                ix.add(DocRef(f"w{i}", f"{NOISE}{i}", T0))
                if i % 3 == 0:
                    ix.remove(f"w{i - 1}")
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)
        finally:
            stop.set()

    def reader() -> None:
        try:
            while not stop.is_set():
                for m in ix.query(DocRef("q", NOISE, T0), limit=3):
                    assert 0.0 <= m.similarity <= 1.0
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=writer)] + [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert len(ix) == 200 - len([i for i in range(200) if i % 3 == 0 and i > 0])


texts = st.text(
    alphabet=st.sampled_from(list("丽发新城搅拌站噪音扰民公积金贷款材料，。！abc123 ")), max_size=40
)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(texts, texts)
def test_jaccard_properties(x: str, y: str) -> None:
    a, b = shingle_hashes(x), shingle_hashes(y)
    j = jaccard(a, b)
    assert 0.0 <= j <= 1.0
    assert j == jaccard(b, a)
    if len(a):
        assert jaccard(a, a) == 1.0
    assert np.all(a[:-1] < a[1:])  # sorted and unique


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    st.text(alphabet=st.sampled_from(list("丽发新城搅拌站噪音扰民公积金贷款材料")), min_size=3, max_size=40)
)
def test_identical_text_always_found(text: str) -> None:
    ix = NearDuplicateIndex()
    ix.add(DocRef("x", text, T0))
    assert ix.query(DocRef("y", text, T0)) == [Match("x", 1.0)]


def test_minhash_matches_datasketch_update_batch() -> None:
    """The vectorised MinHash must equal datasketch's own (same scheme, comparable sketches)."""
    from datasketch import MinHash

    ix = NearDuplicateIndex(seed=7, num_perm=64)
    shingles = shingle_hashes(NOISE + OTHER)
    ref = MinHash(num_perm=64, seed=7, hashfunc=int, scheme="affine32")
    ref.update_batch(shingles.tolist())
    assert np.array_equal(ix._minhash(shingles), ref.hashvalues)


def test_lsh_params_match_datasketch() -> None:
    from datasketch import MinHashLSH

    from haoban.hotspots.neardup import lsh_params

    for t in (0.3, 0.4, 0.5, 0.8):
        lsh = MinHashLSH(threshold=t, num_perm=128)
        assert lsh_params(t, 128) == (lsh.b, lsh.r)


def test_many_adds_and_removes_keep_the_index_consistent() -> None:
    """Enough churn to trigger buffer merges and slot purges; results equal a fresh index."""
    ix = NearDuplicateIndex()
    texts = {f"k{i}": f"{NOISE[: 10 + i % 25]}{OTHER[i % 20 :]}{i % 7}" for i in range(6000)}
    for k, t in texts.items():
        ix.add(DocRef(k, t, T0))
    for i in range(0, 6000, 2):
        ix.remove(f"k{i}")
    fresh = NearDuplicateIndex()
    for i in range(1, 6000, 2):
        fresh.add(DocRef(f"k{i}", texts[f"k{i}"], T0))
    assert len(ix) == len(fresh) == 3000
    for i in range(1, 200, 7):
        q = DocRef("q", texts[f"k{i}"], T0)
        assert ix.query(q, limit=20) == fresh.query(q, limit=20)
