"""Chinese text helpers shared by the hotline-intelligence algorithms (hotspots, knowledge, feedback).

Pure functions, no haoban imports. jieba is loaded lazily (its dictionary takes ~1 s to load), so
importing this module is cheap.

- :func:`normalize` folds full-width forms to half-width (NFKC), lower-cases Latin letters and
  collapses whitespace, so "Ａ３区" and "a3区" compare equal.
- :func:`strip_masks` removes the anonymisation codes of the public TipDM data ("A市", "A3区",
  "K9县", user ids like "A00012345", "UU0081176"): they carry no topic and would otherwise dominate
  n-gram statistics.
- :func:`tokenize` is jieba with a stop-word list; :func:`char_ngrams` and :func:`shingles` are the
  jieba-free alternatives used where speed matters.
- :func:`ngram_matrix_codes` turns a whole corpus into integer n-gram codes with numpy in one pass
  (about 100× faster than jieba), which is what lets the hotspot clustering meet its time budget.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from importlib import resources

import numpy as np

__all__ = [
    "HOTLINE_STOPWORDS",
    "STOPWORDS",
    "SYNONYMS",
    "canonical",
    "char_ngrams",
    "clean_reply",
    "content_chars",
    "decode_ngram",
    "extract_districts",
    "is_content_char",
    "ngram_matrix_codes",
    "normalize",
    "shingles",
    "split_sentences",
    "strip_masks",
    "tokenize",
    "unique_in_order",
    "variants",
]

# Anonymisation codes of the public data: city/district/county codes ("A市", "A3区", "L10县") and
# user ids ("A000102948", "UU0081176"). Applied before lower-casing (the codes are upper case).
_MASK_RE = re.compile(r"[A-Z]{1,2}\d{0,3}[市区县]|[A-Z]{1,3}\d{4,}")
# District-level codes only: the city itself ("A市") is not a district.
_DISTRICT_RE = re.compile(r"[A-Z]\d{1,3}[区县市]")
_WS_RE = re.compile(r"\s+")
_SENT_RE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;\n]?")


def _wordlist(name: str) -> frozenset[str]:
    """A word list shipped as package data (``haoban/wordlists/``): one word a line, # comments."""
    text = resources.files("haoban.wordlists").joinpath(name).read_text(encoding="utf-8")
    return frozenset(w for w in (line.strip() for line in text.splitlines()) if w and not w.startswith("#"))


# General Chinese function words plus words that occur in nearly every hotline message and so
# say nothing about its topic ("反映", "问题", "领导", "您好"...): see wordlists/stopwords.txt.
STOPWORDS: frozenset[str] = _wordlist("stopwords.txt")
# Extra words that are too generic for a hotspot label even though they are content words.
HOTLINE_STOPWORDS: frozenset[str] = STOPWORDS | _wordlist("hotline_stopwords.txt")


def normalize(text: str) -> str:
    """NFKC-fold (full-width → half-width), lower-case and collapse whitespace."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)
    return _WS_RE.sub(" ", text).strip().lower()


def strip_masks(text: str, repl: str = " ") -> str:
    """Replace anonymisation codes (A市, A3区, user ids) with *repl*. Call before :func:`normalize`."""
    return _MASK_RE.sub(repl, unicodedata.normalize("NFKC", text or ""))


def extract_districts(text: str) -> list[str]:
    """Masked district codes in order of first appearance ("A3区", "A7县"); the city "A市" is skipped."""
    seen: dict[str, None] = {}
    for m in _DISTRICT_RE.finditer(unicodedata.normalize("NFKC", text or "")):
        seen.setdefault(m.group(0), None)
    return list(seen)


def is_content_char(ch: str) -> bool:
    """CJK ideograph, ASCII digit or lower-case ASCII letter (after :func:`normalize`)."""
    o = ord(ch)
    return 0x4E00 <= o <= 0x9FFF or 0x30 <= o <= 0x39 or 0x61 <= o <= 0x7A


def content_chars(text: str) -> str:
    """Normalised text with punctuation and spaces removed (``"丽发新城,噪音!"`` → ``"丽发新城噪音"``)."""
    return "".join(ch for ch in normalize(text) if is_content_char(ch))


def split_sentences(text: str) -> list[str]:
    """Split at Chinese/ASCII sentence ends and semicolons; keeps the terminator, drops blanks."""
    return [s.strip() for s in _SENT_RE.findall(text or "") if s.strip()]


def char_ngrams(text: str, n: int = 2) -> list[str]:
    """Character n-grams of the content characters, never spanning punctuation or spaces."""
    out: list[str] = []
    for run in re.split(r"[^0-9a-z\u4e00-\u9fff]+", normalize(text)):
        if len(run) >= n:
            out.extend(run[i : i + n] for i in range(len(run) - n + 1))
    return out


def shingles(text: str, k: int = 3) -> set[str]:
    """Set of k-character shingles of the content characters; texts shorter than k give one shingle."""
    chars = content_chars(text)
    if not chars:
        return set()
    if len(chars) <= k:
        return {chars}
    return {chars[i : i + k] for i in range(len(chars) - k + 1)}


# canonical word: variants, for hotline language. The knowledge base maps the words of articles and
# queries to the canonical one; reply quality accepts any variant as covering an appeal's term.
# Keep it to true equivalents.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "材料": ("资料", "证件", "证明材料", "要件", "哪些材料"),
    "买房": ("购房", "购买住房", "买房子", "购买商品房"),
    "贷款": ("按揭", "贷款买房"),
    "社保": ("社会保险",),
    "医保": ("医疗保险",),
    "养老金": ("退休金", "养老保险金"),
    "户口": ("户籍",),
    "孩子": ("小孩", "子女", "小孩子", "儿童"),
    "入学": ("上学", "就读", "读书"),
    "工资": ("薪水", "薪资", "工钱", "薪酬"),
    "噪音": ("噪声",),
    "违建": ("违章建筑", "违法建设", "违规建设", "违法建筑"),
    "车位": ("停车位",),
    "物业费": ("物业管理费",),
    "出租车": ("的士", "出租汽车"),
    "身份证": ("居民身份证",),
    "驾照": ("驾驶证", "驾驶执照"),
    "退休": ("退休手续",),
    "补贴": ("补助", "津贴"),
    "提取": ("取出", "支取"),
}
_CANON = {v: k for k, vs in SYNONYMS.items() for v in vs}


def canonical(word: str) -> str:
    """The canonical form of *word* in :data:`SYNONYMS` (the word itself if it has none)."""
    return _CANON.get(word, word)


def variants(word: str) -> tuple[str, ...]:
    """*word*'s canonical form followed by all its variants (just the word if it has none)."""
    canon = canonical(word)
    return (canon, *SYNONYMS.get(canon, ()))


_jieba_lock = threading.Lock()
_jieba_ready = False


def _jieba():  # type: ignore[no-untyped-def]
    """Import and initialise jieba once (thread-safe; quiet)."""
    global _jieba_ready
    import jieba

    if not _jieba_ready:
        with _jieba_lock:
            if not _jieba_ready:
                jieba.setLogLevel(60)
                jieba.initialize()
                _jieba_ready = True
    return jieba


def tokenize(
    text: str,
    *,
    stopwords: frozenset[str] = STOPWORDS,
    search: bool = False,
    keep_single: bool = False,
) -> list[str]:
    """jieba tokens of the normalised, mask-stripped text, without stop words and punctuation.

    ``search=True`` uses jieba's search mode, which also emits the sub-words of long compounds
    ("住房公积金" → 住房, 公积, 公积金, 住房公积金): better recall for retrieval.
    Single characters are dropped unless ``keep_single`` (they are mostly particles).
    """
    jb = _jieba()
    clean = normalize(strip_masks(text))
    words = jb.lcut_for_search(clean) if search else jb.lcut(clean)
    out: list[str] = []
    for w in words:
        w = w.strip()
        if not w or w in stopwords or not any(is_content_char(c) for c in w):
            continue
        if len(w) == 1 and not keep_single:
            continue
        if w.isdigit() and len(w) > 2:  # phone numbers, years, amounts: no topic
            continue
        out.append(w)
    return out


def ngram_matrix_codes(texts: Sequence[str], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of all character n-grams of a corpus, computed in one vectorised pass.

    Returns ``(doc_index, code)`` arrays (int32, int64) of equal length, one entry per n-gram
    occurrence. The code packs the n code points into one integer (21 bits each, exact for n ≤ 3),
    so equal n-grams have equal codes across documents and runs. Full-width ASCII is folded to
    half-width and Latin letters to lower case here, on code points (cheaper than NFKC on the whole
    corpus); n-grams never span a non-content character or a document boundary.
    """
    if not 1 <= n <= 3:
        raise ValueError("n must be 1, 2 or 3")
    if not texts:
        return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int64)
    # One separator position after each document so no n-gram crosses a boundary. Which document a
    # position belongs to comes from the lengths, never from the separator's value: a text may itself
    # contain any character (a NUL in one appeal once shifted every later document).
    joined = " ".join(texts) + " "
    lengths = np.fromiter((len(t) + 1 for t in texts), dtype=np.int64, count=len(texts))
    # surrogatepass: a lone surrogate still occupies exactly one position (it is not content).
    cp = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.int64)
    fullwidth = (cp >= 0xFF01) & (cp <= 0xFF5E)
    cp[fullwidth] -= 0xFEE0
    upper = (cp >= 0x41) & (cp <= 0x5A)
    cp[upper] += 0x20
    content = ((cp >= 0x4E00) & (cp <= 0x9FFF)) | ((cp >= 0x30) & (cp <= 0x39))
    content |= (cp >= 0x61) & (cp <= 0x7A)
    doc = np.repeat(np.arange(len(texts), dtype=np.int32), lengths)  # document index of every position
    cp[~content] = 0
    m = len(cp) - n + 1
    if m <= 0:
        return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int64)
    ok = content[:m].copy()
    code = cp[:m].copy()
    for j in range(1, n):
        ok &= content[j : j + m]
        code = (code << 21) | cp[j : j + m]
    return doc[:m][ok], code[ok]


# --- department replies ---------------------------------------------------------------------------
# Replies open with a greeting and a receipt formula and close with thanks and a date; none of it
# is substance, and the date would otherwise pass for a deadline in the reply-quality checks.

_GREETING = re.compile(
    r"^\s*(?:尊敬的)?(?:网友|市民|用户|同志|先生|女士)?\s*(?:[“\"][^”\"]{0,20}[”\"]|UU\d+)?\s*[：:，,]?\s*"
    r"(?:您好|你好)?\s*[！!，,。：:]*\s*"
)
_RECEIPT = re.compile(
    r"^(?:(?:您的?|你的?)(?:留言|来信|帖子|发帖|网帖|问题)[^。！!]{0,20}?(?:已?收悉|收到)[。，,！!]?\s*)"
)
_PREAMBLE = re.compile(r"^.{0,160}?(?:答复|回复|反馈|说明)如下[：:]\s*")
_DATE_TAIL = re.compile(
    r"[\s，,。]*(?:\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|\d{4}[-/.]\d{1,2}[-/.]\d{1,2})[。.]?\s*$"
)
_SIGNOFF_TAIL = re.compile(
    r"(?:[。！!，,]\s*|^)(?:(?:再次)?感谢您?(?:对我们工作)?的?(?:关心|理解|支持|监督|留言|关注|信任)[^。！!]{0,30}"
    r"|谢谢[！!]?|此复|特此(?:答复|回复)|祝您[^。！!]{0,20}|欢迎[^。！!]{0,10}监督[^。！!]{0,10})[。！!]?\s*$"
)


def clean_reply(text: str) -> str:
    """Strip greeting, receipt formula, preamble and sign-off/date from a department reply."""
    t = (text or "").replace("\u3000", " ").strip()
    t = _GREETING.sub("", t, count=1)
    t = _RECEIPT.sub("", t, count=1)
    t = _PREAMBLE.sub("", t, count=1)
    for _ in range(6):  # sign-offs stack: "感谢您的留言。2019年4月18日"
        new = _DATE_TAIL.sub("", t)
        new = _SIGNOFF_TAIL.sub("", new).rstrip()
        if new == t:
            break
        t = new
    t = re.sub(r"\s+", " ", t).strip(" ，,")
    if t and t[-1] not in "。！!？?":
        t += "。"
    return t


def decode_ngram(code: int, n: int) -> str:
    """Inverse of the packing in :func:`ngram_matrix_codes` (for debugging and labels)."""
    chars = []
    for _ in range(n):
        chars.append(chr(code & 0x1FFFFF))
        code >>= 21
    return "".join(reversed(chars))


def unique_in_order(items: Iterable[str]) -> list[str]:
    """Deduplicate, keeping first occurrences."""
    return list(dict.fromkeys(items))
