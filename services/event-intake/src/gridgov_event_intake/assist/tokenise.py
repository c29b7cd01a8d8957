"""The classifier's features of a text: jieba words (with a user dictionary of the catalog's and the city's words)
and character n-grams. Pure: a text in, a list of feature strings out; the same for training and inference.

Character n-grams catch what the segmenter cuts differently in the caller's words (typos, homophones, a word the
dictionary lacks); the words carry the longer terms whole. Single Chinese characters are features too: weighted by
IDF, a character such as 漏, 堵, 吵 or 臭 carries the category in callers' short, colloquial texts where no longer
term of the training set occurs (on the hand-written evaluation set they raised department top-1 from 88.5 % to
91.5 %, #17). Each feature is prefixed (``w:`` word, ``u:`` single character, ``c:`` n-gram) so the kinds never
collide, and a text whose only known features are single characters counts as no signal (``has_signal``).
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable

import jieba

from gridgov_event_intake.assist.dictionary import main_dictionary

jieba.setLogLevel(logging.WARNING)  # jieba prints its dictionary loading at INFO on every start

NGRAMS = (2, 3)  # 2- and 3-character grams (single Chinese characters are the ``u:`` features)
UNIGRAM = "u:"  # the prefix of a single Chinese character's feature
# A run of text the features are made of: CJK ideographs, Latin letters and digits; everything else separates.
_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaffa-z0-9]+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_DIGITS = re.compile(r"\d+")


def normalise(text: str) -> str:
    """NFKC (full-width letters and digits become ASCII), lower case, and any number becomes ``0``: a house
    number or a time says nothing of the category."""
    return _DIGITS.sub("0", unicodedata.normalize("NFKC", text).lower())


def has_cjk(text: str) -> bool:
    """Whether the text has any Chinese character (another script alone carries no signal for this model)."""
    return _CJK.search(text) is not None


class Tokeniser:
    """jieba with its own dictionary (the process-wide one is left alone) plus the user words, and n-grams."""

    def __init__(self, user_words: Iterable[str] = ()):
        self.user_words = tuple(sorted({w.strip() for w in user_words if w and w.strip()}))
        self._jieba = jieba.Tokenizer()
        self._ready = False
        self._lock = threading.Lock()

    def _initialise(self) -> None:
        """Load the main dictionary and add the user words, once (about a second; done at first use)."""
        with self._lock:
            if self._ready:
                return
            freq, total = main_dictionary()
            # The process's one main dictionary; each model adds its own words to its own view of it.
            self._jieba.FREQ, self._jieba.total = freq.view(), total
            self._jieba.initialized = True
            for word in self.user_words:
                # A high fixed frequency keeps a catalog or place name whole against the general dictionary.
                self._jieba.add_word(normalise(word), freq=2000)
            self._ready = True

    def words(self, text: str) -> list[str]:
        """The jieba words of a normalised text, runs of separators dropped."""
        if not self._ready:
            self._initialise()
        out = []
        for run in _RUN.findall(text):
            out.extend(w for w in self._jieba.lcut(run, HMM=True) if w)
        return out

    def features(self, text: str) -> list[str]:
        """Every feature of ``text``, repeated as often as it occurs (term frequency is counted by the caller)."""
        norm = normalise(text)
        feats = [f"w:{w}" for w in self.words(norm) if len(w) > 1 or _CJK.match(w)]
        for run in _RUN.findall(norm):
            feats.extend(f"{UNIGRAM}{ch}" for ch in run if _CJK.match(ch))
            for n in NGRAMS:
                feats.extend(f"c:{run[i:i + n]}" for i in range(len(run) - n + 1))
        return feats


def has_signal(feature: str) -> bool:
    """Whether a known feature alone is evidence for a category: a word or an n-gram is, a single character is
    not (almost any Chinese text has a few known ones; nonsense must still answer "no signal")."""
    return not feature.startswith(UNIGRAM)
