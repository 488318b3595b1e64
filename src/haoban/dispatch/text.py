"""Text normalisation shared by training and prediction (文本规范化).

The shipped training data comes in two forms: raw messages (subject immediately followed by detail)
and messages a competitor already segmented with jieba and stripped of stop-words. Production input
is raw. Both forms are mapped to one representation here, so the model cannot learn the difference
between them: NFKC, masked place codes removed (A市 → 市, A3区 → 区), split into chunks at whitespace
and punctuation, each chunk segmented with jieba, stop-words and bare digits dropped. The result is a
list of tokens; `prepare` joins them with single spaces.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata

import jieba

# Only the first MAX_CHARS characters are read. The subject comes first and carries most of the
# signal; 90 % of raw training messages are shorter; segmentation costs 3–5 µs a character, so the
# cap keeps single-message latency under 10 ms. Raw-text CV (bench/dispatch.py) moved within noise:
# 0.933 at 1,000, 0.935 at 1,500 and 2,000 characters.
MAX_CHARS = 1000
# jieba guesses unknown words with an HMM: ~20 % slower, but +0.3 point of raw-text macro-F1 in
# bench/dispatch.py (0.929 without).
USE_HMM = True

# Stop-words recovered from the data itself: jieba words of the raw messages that the competitor's
# pre-segmented copy of the same messages (near-duplicate pairs) drops in ≥ 95 % of the messages
# that contain them (`python bench/dispatch.py stopwords` re-derives the list). Using their list on
# raw text makes raw and pre-segmented messages look alike. 保险 was removed by hand: it looked
# dropped only because the competitor's segmenter kept it inside longer words (社会保险).
_STOPWORDS_TEXT = """
一 一切 一则 一方面 一旦 一来 一样 一般 七 万一 三 三番五次 上 上下 上去 上来 不
不下 不了 不仅 不仅仅 不会 不但 不再 不力 不单 不同 不大 不如 不少 不巧 不已 不得
不得不 不得已 不必 不怕 不成 不日 不时 不是 不曾 不止 不比 不满 不然 不由得 不管
不胜 不能 不能不 不要 不论 不起 不过 不问 与 与其 与否 与此同时 且 两者 个 个人
临 为 为了 为什么 为何 乃 乃至 么 之 之一 之所以 之类 乘 九 也 也好 也罢 了 二
于 于是 于是乎 互相 五 亲自 亲身 人人 人家 人民 什么 什么样 仅 仅仅 仍 仍然 从
从不 从严 从中 从优 从小 从早到晚 从未 从来 从此 从而 从重 他 他人 他们 以 以便
以免 以及 以至于 以致 们 任 任何 伙同 会 传 传说 但 但愿 但是 何 何况 何处 何必
何时 作为 你 你们 使得 例如 依 依照 便 保管 倍加 倍感 倘若 借 借此 假如 偶尔 像
充分 光 全力 全年 全身心 全都 八 公然 六 共 关于 其 其一 其中 其二 其他 其余
其后 其它 其实 其次 内 再说 冒 冲 决不 况且 几 几乎 几番 几经 凭 出 出去 出来
切 切莫 则 刚 刚好 初 别 别人 别的 别说 到 到处 到头来 到底 前后 前者 加上 加之
加以 动不动 匆匆 千 千万 半 单 单单 单纯 即 即使 即便 即刻 即将 去 又 及 及其
反倒 反而 反过来 另 另一方面 另外 另行 只是 只有 只要 叫 可 可以 可是 可能 可见
各 各个 各位 各种 各自 同 同时 后来 向 吓 吗 否则 吧 呀 呐 呜呼 呢 呵 咋 和
咱们 哇 哈哈 哉 哎 哦 哪 哪个 哪些 哪儿 哪怕 哪里 唉 啊 啥 啦 喂 嘛 四 因
因为 因此 因而 在 地 均 基于 基本 基本上 处处 多 多多 多少 多次 大 大事 大多
大大 大家 大张旗鼓 大概 大约 大致 大都 她 她们 如 如下 如今 如何 如期 如果 如此
如若 宁愿 它 它们 定 对 对于 将 将要 将近 尚且 就 就是 就是说 就此 就算 尽
尽可能 尽心尽力 尽快 尽早 尽然 尽管 尽量 居然 届时 屡 屡次 岂 差一点 差不多 己 带
常 常常 年复一年 并 并且 并非 开始 归 当 当下 当中 当即 当场 当然 往 待 很 很多
很少 得 必 必定 必将 必须 快 快要 怎 怎么 怎么办 怎么样 怎样 怕 怪 总之 恐怕
恰恰 恰恰相反 您 我 我们 或 或是 或者 或许 截至 所 所以 才 才能 打 把 拿 按
按时 按照 按说 挨着 换句话说 据 据实 据悉 据我所知 据此 据称 据说 接着 故 故意
故此 敢 敢于 断然 方 无论 既 既然 日渐 日益 时候 是 暗中 暗地里 更 更为 更加 替
有 有些 有关 望 朝 本 本人 本着 本身 来 来不及 来看 来讲 极 极为 极其 极力 极大
极度 极端 果然 果真 某 某个 某些 根据 格外 正如 此 此后 此外 每 每当 每每 每逢
比 比如 比起 毕竟 毫不 毫无 没 没有 活 满 然后 然而 照 照着 牢牢 独自 理应 甚至
用 由 由于 由此可见 略 白 白白 的 的确 的话 看 看来 看起来 着 社会主义 离 究竟
立 立刻 立马 竟 竟然 第 等 等到 等等 简直 管 纯 纯粹 经 经常 经过 结果 给 绝不
绝对 综上所述 老 老是 者 而 而且 而后 而已 而是 而言 能 腾 自 自从 自家 自己
自身 臭 至 至于 若 若非 莫 虽 虽然 虽说 被 要 要不是 要不然 要么 要是 见 让 论
诚然 该 诸位 谁 谁知 赶 赶快 起 起初 起来 趁 趁机 趁着 跟 较 较为 边 过 过于
近 近几年来 近年来 近来 还 还是 还有 这 这个 这么 这些 这就是说 这时 这样 这边
这里 进去 进来 进而 连 连同 连连 迫于 通过 那 那个 那么 那些 那时 那样 那边 那里
都 鄙人 鉴于 长期以来 长此下去 除 除了 除去 除外 除开 除非 随 随着 隔夜 难得 难怪
难道 零 非常 非得 靠 顶多 顺 顿时 颇 风雨无阻 首先 马上 高低 默默地
"""
STOPWORDS: frozenset[str] = frozenset(_STOPWORDS_TEXT.split())

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAS_CJK = re.compile(f"[{_CJK}]")
# Public data masks places as A市, A3区, D12市, G7县 …; the pre-segmented copy has "A3 区" and a
# bare "市" (its stop-word list dropped the letter). Removing the code leaves the suffix in both.
_MASKED_PLACE = re.compile(r"(?<![A-Za-z0-9])[A-Z]\d{0,2}(?=\s*[市区县省镇乡州])")
# Excel exports leave carriage returns as the literal "_x000D_".
_EXCEL_CR = re.compile(r"_x000[dD]_")
# Chunks: runs of CJK, Latin letters and digits; everything else (punctuation, spaces, emoji,
# control characters) separates chunks, as it separated the competitor's tokens.
_CHUNK = re.compile(f"[{_CJK}A-Za-z0-9]+")
_DIGITS = re.compile(r"^\d+$")

_tokenizer: jieba.Tokenizer | None = None
_tokenizer_lock = threading.Lock()


def _get_tokenizer() -> jieba.Tokenizer:
    """A private jieba tokenizer, initialised once (≈1 s) with its chatter on stderr silenced."""
    global _tokenizer
    if _tokenizer is None:
        with _tokenizer_lock:
            if _tokenizer is None:
                tok = jieba.Tokenizer()
                logger = logging.getLogger("jieba")
                level = logger.level
                logger.setLevel(logging.WARNING)
                try:
                    tok.initialize()
                finally:
                    logger.setLevel(level)
                _tokenizer = tok
    return _tokenizer


def has_chinese(text: str) -> bool:
    return _HAS_CJK.search(text) is not None


def clean(text: str) -> str:
    """NFKC (full-width → ASCII), Excel artefacts and masked place codes removed, length capped."""
    text = unicodedata.normalize("NFKC", text[: MAX_CHARS * 2])[:MAX_CHARS]
    text = _EXCEL_CR.sub(" ", text)
    return _MASKED_PLACE.sub("", text)


def tokens(text: str) -> list[str]:
    """Segment raw or pre-segmented text into content tokens (stop-words and bare numbers removed)."""
    tok = _get_tokenizer()
    out: list[str] = []
    for chunk in _CHUNK.findall(clean(text)):
        for word in tok.lcut(chunk, HMM=USE_HMM) if has_chinese(chunk) else (chunk,):
            # Numbers (dates, amounts, masked phone numbers) say little about the category and
            # the two data forms treat them differently; single Latin letters are masking debris.
            if word in STOPWORDS or _DIGITS.match(word) or (len(word) == 1 and word.isascii()):
                continue
            out.append(word.lower())
    return out


def prepare(text: str) -> str:
    """The canonical representation: content tokens joined by single spaces."""
    return " ".join(tokens(text))


_SPACED_CJK = re.compile(f"(?<=[{_CJK}]) +(?=[{_CJK}])")


def looks_presegmented(text: str) -> bool:
    """True for text already split into words with spaces (as in train_tokenised.csv)."""
    n_cjk = len(_HAS_CJK.findall(text[:2000]))
    return n_cjk > 0 and len(_SPACED_CJK.findall(text[:2000])) > 0.15 * n_cjk
