"""Repeat callers (重复来电), pure: how alike a caller's new words are to the cases they already have open.

A caller who rings 12345 again about the same problem words it differently ("楼下烧烤又吵到凌晨" after "楼下大排档
每晚烧烤到凌晨"). Texts are compared as sets of shingles — every character and every character bigram (Chinese has no
spaces; a bigram is about a word, a character catches 烧烤/烧烤摊 and 吵/很吵) — by their Jaccard similarity, 0..1,
computed exactly. Only the caller's own open cases are compared, a handful of short texts, so neither an LSH index
nor a MinHash estimate is needed: the estimate (``datasketch``, until #18) cost 56 MB of imports (scipy) per
process and ±0.02 of error, and on the hand-written pairs below the exact figure separates repeats from other
problems more widely (0.185 against 0.064, where the estimate gave 0.168 against 0.078).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import TypeVar

SHINGLES = (1, 2)  # characters per shingle: single characters and bigrams
# At or above this similarity a case is offered to attach the call to. Chosen on hand-written pairs
# (tests/unit/test_repeat_similarity.py prints the figures): 12 problems told again in other words scored
# 0.185–0.465, 12 pairs of different problems 0.000–0.064.
THRESHOLD = 0.12

T = TypeVar("T")


def normalise(text: str) -> str:
    """The text's letters and digits only, full-width folded and lower-cased (punctuation and spaces say
    nothing about the problem)."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] in "LN")


def shingles(text: str, sizes: tuple[int, ...] = SHINGLES) -> set[str]:
    """The text's character n-grams of each size (none for a text without letters or digits)."""
    norm = normalise(text)
    return {norm[i:i + k] for k in sizes for i in range(len(norm) - k + 1)}


@lru_cache(maxsize=4096)
def signature(text: str) -> frozenset[str] | None:
    """The text's shingles as compared, or None when it has nothing to compare (no letter or digit).

    Cached (never update the answer): the desk asks again as the operator types, about the same open cases.
    """
    return frozenset(shingles(text)) or None


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """The Jaccard similarity of two shingle sets: shared ÷ either, 0..1."""
    return len(a & b) / len(a | b)


def similarity(a: str, b: str) -> float:
    """The Jaccard similarity of two texts' shingles, 0..1 (0 when either has nothing to compare)."""
    sa, sb = signature(a), signature(b)
    if sa is None or sb is None:
        return 0.0
    return jaccard(sa, sb)


def rank(text: str, candidates: Iterable[tuple[T, str]], threshold: float = THRESHOLD) -> list[tuple[T, float]]:
    """The candidates (item, its text) at least ``threshold`` alike to ``text``, most alike first, with their
    similarity rounded to 3 places; the order among equals is the candidates' own."""
    mine = signature(text)
    if mine is None:
        return []
    found = []
    for item, other in candidates:
        theirs = signature(other)
        if theirs is None:
            continue
        score = round(jaccard(mine, theirs), 3)
        if score >= threshold:
            found.append((item, score))
    return sorted(found, key=lambda pair: -pair[1])


_NOT_DIGIT = re.compile(r"\D")


def phone_variants(phone: str) -> list[str]:
    """The spellings under which the same phone may have been stored: as given, digits only, and for a
    mainland mobile also 3-4-4 with dashes and with +86/86 in front (the hotline's systems differ)."""
    digits = _NOT_DIGIT.sub("", phone)
    variants = {phone, digits}
    national = digits[2:] if len(digits) == 13 and digits.startswith("86") else digits
    if len(national) == 11 and national.startswith("1"):
        variants |= {national, f"{national[:3]}-{national[3:7]}-{national[7:]}", f"+86{national}", f"86{national}"}
    return sorted(v for v in variants if v)
