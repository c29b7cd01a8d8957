"""Repeat callers (重复来电), pure: how alike a caller's new words are to the cases they already have open.

A caller who rings 12345 again about the same problem words it differently ("楼下烧烤又吵到凌晨" after "楼下大排档
每晚烧烤到凌晨"). Texts are compared as sets of shingles — every character and every character bigram (Chinese has no
spaces; a bigram is about a word, a character catches 烧烤/烧烤摊 and 吵/很吵) — by MinHash (``datasketch``): the
estimate of their Jaccard similarity, 0..1. Only the caller's own open cases are compared, a handful, so no LSH
index is needed; a fixed seed keeps every signature the same across processes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:  # imported when first used: datasketch pulls in numpy and scipy (~55 MB per process, #18)
    from datasketch import MinHash

SHINGLES = (1, 2)  # characters per shingle: single characters and bigrams
NUM_PERM = 256  # permutations: about ±0.02 standard error on a similarity near 0.12
SEED = 17
# At or above this similarity a case is offered to attach the call to. Chosen on hand-written pairs
# (tests/unit/test_repeat_similarity.py prints the figures): 12 problems told again in other words scored
# 0.17–0.49, 12 pairs of different problems 0.00–0.08.
THRESHOLD = 0.12

T = TypeVar("T")


@lru_cache(maxsize=1)
def _permutations() -> tuple:
    """The permutations and scheme of every signature, drawn once at first use: a MinHash draws its permutations
    from the seed each time it is made, most of its cost for a short text; signatures made with the same ones are
    the same as with fresh ones."""
    from datasketch import MinHash

    first = MinHash(num_perm=NUM_PERM, seed=SEED)
    return first.permutations, first.scheme


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
def signature(text: str) -> MinHash | None:
    """The text's MinHash signature, or None when it has nothing to compare (no letter or digit).

    Cached (never update the answer): the desk asks again as the operator types, about the same open cases.
    """
    grams = shingles(text)
    if not grams:
        return None
    from datasketch import MinHash

    permutations, scheme = _permutations()
    sig = MinHash(num_perm=NUM_PERM, seed=SEED, permutations=permutations, scheme=scheme)
    sig.update_batch([g.encode("utf-8") for g in sorted(grams)])
    return sig


def similarity(a: str, b: str) -> float:
    """The estimated Jaccard similarity of two texts' shingles, 0..1 (0 when either has nothing to compare)."""
    sa, sb = signature(a), signature(b)
    if sa is None or sb is None:
        return 0.0
    return float(sa.jaccard(sb))


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
        score = round(float(mine.jaccard(theirs)), 3)
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
