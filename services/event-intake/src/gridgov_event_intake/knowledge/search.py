"""Search of the knowledge base, pure: articles in, a BM25 index over jieba tokens, ranked hits out; no I/O.

Each article has three fields, each with its own BM25 index (``bm25s``): the question, the keywords (synonyms
and the caller's words the author expects) and the answer. An article's score is the weighted sum of its three
field scores — the question counts most, the answer least, since an answer names many things it is not about
(departments, apps, documents). Only articles valid on the given day are returned; the index holds them all,
so a new day needs no rebuild.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported at the first search: bm25s pulls in numpy and scipy (~40 MB per process, #18)
    import bm25s
    import jieba

# Field weights (question above keywords above answer); tuned on the paraphrases of tests/unit.
WEIGHTS = {"question": 1.0, "keywords": 0.7, "answer": 0.3}
# Words every consultation has: they carry no topic and would only add noise to the scores.
STOPWORDS = frozenset("""
的 了 吗 呢 啊 吧 呀 嘛 哦 么 是 在 有 和 与 或 及 就 都 也 还 又 把 被 给 让 对 从 到 向 这 那 这个 那个 这些
我 你 他 她 它 我们 你们 他们 自己 咱 俺 请问 请 问 问下 问一下 一下 想 想问 想要 要 能 能不能 可以 可不可以 会 该
应该 需要 怎么 怎么样 怎样 如何 什么 啥 哪 哪里 哪儿 哪些 多少 几 为什么 咋 咋办 怎么办 吗 呢 谢谢 您好 你好 麻烦
一个 个 些 下 上 里 去 来 说 得 地 着 过 没 没有 不 不是 现在 今天 已经 还是 就是 比如 或者 然后 所以 因为
""".split())
_WORD = re.compile(r"[\w]", re.UNICODE)  # a token with no letter, digit or CJK character is punctuation
_HAN_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")

logging.getLogger("jieba").setLevel(logging.WARNING)  # its dictionary loading is not news
_tokenizer: jieba.Tokenizer | None = None  # made at the first search (jieba is imported then)
_tokenizer_lock = threading.Lock()


def _jieba() -> jieba.Tokenizer:
    """Our own initialised jieba instance: words another module adds to jieba's global one change nothing here."""
    global _tokenizer
    if _tokenizer is None:
        with _tokenizer_lock:
            if _tokenizer is None:
                import jieba

                from gridgov_event_intake.assist.dictionary import main_dictionary

                tok = jieba.Tokenizer()
                # The process's one main dictionary (a trie the classifier shares; its words go to its own view):
                # a second dict of jieba's would cost ~60 MB per process (#18).
                freq, tok.total = main_dictionary()
                tok.FREQ = freq.view()
                tok.initialized = True
                _tokenizer = tok
    return _tokenizer


def tokenise(text: str) -> list[str]:
    """The search tokens of a text: jieba's search-mode words (long words also as their parts), lower-cased,
    without punctuation and stopwords, plus the character bigrams of each run of Chinese characters.

    The bigrams catch what segmentation splits differently in a caller's wording ("停不停水" holds 停水; "狗证"
    is one word to nobody's dictionary but a bigram of 办狗证).
    """
    words = [token for token in (t.strip().lower() for t in _jieba().lcut_for_search(text))
             if token and token not in STOPWORDS and _WORD.search(token)]
    bigrams = [f"#{pair}" for run in _HAN_RUN.findall(text) for i in range(len(run) - 1)
               if (pair := run[i:i + 2]) not in STOPWORDS]
    return words + bigrams


@dataclass(frozen=True)
class ArticleDoc:
    """What the index needs of an article."""

    id: str
    question: str
    answer: str
    keywords: tuple[str, ...]
    valid_from: date
    valid_to: date | None

    def valid_on(self, day: date) -> bool:
        """Whether the article holds on ``day`` (both ends included)."""
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True)
class Hit:
    """An article found for a query, with its score (higher is better; only positive scores are hits)."""

    id: str
    score: float


class KnowledgeIndex:
    """A BM25 index of a set of articles (built once, read by many threads)."""

    def __init__(self, docs: Sequence[ArticleDoc]):
        self.docs = list(docs)
        self._fields: dict[str, bm25s.BM25] = {}
        if not self.docs:
            return
        texts = {"question": [d.question for d in self.docs], "answer": [d.answer for d in self.docs],
                 "keywords": [" ".join(d.keywords) for d in self.docs]}
        for name, column in texts.items():
            tokens = [tokenise(text) for text in column]
            if not any(tokens):
                continue  # a field no article fills (no keywords anywhere) scores nothing; bm25s cannot index it
            import bm25s

            index = bm25s.BM25()
            index.index(tokens, show_progress=False)
            self._fields[name] = index

    def search(self, query: str, day: date, limit: int = 5) -> list[Hit]:
        """The ``limit`` best articles valid on ``day`` for the query, best first; [] when nothing matches."""
        tokens = tokenise(query)
        if not self.docs or not tokens or limit <= 0:
            return []
        import numpy as np
        total = np.zeros(len(self.docs), dtype=np.float64)
        for name, index in self._fields.items():
            total += WEIGHTS[name] * np.nan_to_num(index.get_scores(tokens))
        valid = np.fromiter((d.valid_on(day) for d in self.docs), dtype=bool, count=len(self.docs))
        total[~valid] = 0.0
        order = np.argsort(-total, kind="stable")[:limit]
        return [Hit(self.docs[i].id, round(float(total[i]), 4)) for i in order if total[i] > 0]


def build(docs: Iterable[ArticleDoc]) -> KnowledgeIndex:
    """The index of these articles."""
    return KnowledgeIndex(list(docs))
