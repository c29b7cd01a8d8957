"""The hand-written evaluation set of the 12345 category classifier (``assist/data/eval_texts.tsv``).

The figures the assistant reports (top-1, top-3, department accuracy) are only as honest as this file: it must
cover every middle class of the catalog, carry only codes a report may carry, and be worded as callers speak,
mostly without the category's own name (a set that copies the names would measure keyword matching).
"""

from collections import Counter
from functools import cache
from pathlib import Path

import gridgov_event_intake
from gridgov_common.categories import seed_book

EVAL_FILE = Path(gridgov_event_intake.__file__).parent / "assist" / "data" / "eval_texts.tsv"
MIN_LINES = 600
MIN_PER_CODE = 3
MAX_NAME_SHARE = 0.30


@cache
def rows() -> list[tuple[str, str]]:
    """The (code, text) lines of the evaluation set, header checked and dropped."""
    lines = EVAL_FILE.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "code\ttext", f"header is {lines[0]!r}"
    out = []
    for number, line in enumerate(lines[1:], start=2):
        parts = line.split("\t")
        assert len(parts) == 2, f"line {number}: {len(parts)} columns, expected 2"
        out.append((parts[0], parts[1]))
    return out


def test_eval_set_has_enough_lines():
    assert len(rows()) >= MIN_LINES


def test_eval_set_uses_only_middle_codes_of_the_seed():
    book = seed_book()
    unknown = sorted({code for code, _ in rows() if not book.is_known(code)})
    assert unknown == []


def test_eval_set_covers_every_middle_code_at_least_three_times():
    counts = Counter(code for code, _ in rows())
    thin = {c.code: counts[c.code] for c in seed_book() if counts[c.code] < MIN_PER_CODE}
    assert thin == {}


def test_eval_set_has_no_duplicate_texts():
    counts = Counter(text.strip() for _, text in rows())
    assert [t for t, n in counts.items() if n > 1] == []


def test_eval_texts_have_sane_length_and_no_control_characters():
    bad = [(code, text) for code, text in rows()
           if not 5 <= len(text) <= 200 or text != text.strip()
           or any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in text)]
    assert bad == []


def test_most_eval_texts_avoid_their_category_name():
    book = seed_book()
    named = [text for code, text in rows() if book.get(code).name_zh in text]
    assert len(named) / len(rows()) < MAX_NAME_SHARE
