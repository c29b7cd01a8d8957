"""The generated training set of the 12345 category classifier (``assist/generate.py`` and its data files).

The classifier learns only what this set shows it: every middle code must be there in numbers, the same seed
must give the same set (a model version is reproducible), and no text may be one the classify endpoint refuses.
"""

import json
import re
import time
from collections import Counter
from functools import cache
from importlib.resources import files

import pytest

from gridgov_common.categories import seed_book
from gridgov_event_intake.assist import generate

CONTROL = re.compile(r"[\x00-\x1f\x7f]")
PER_CODE = 120
MIN_PHRASINGS = 12


@cache
def default_set() -> list[tuple[str, str]]:
    """The default training set, generated once for the module."""
    return generate.training_examples()


def test_training_examples_cover_every_middle_code_in_numbers():
    counts = Counter(code for _text, code in default_set())
    codes = {c.code for c in seed_book()}
    assert set(counts) == codes
    short = {code: n for code, n in counts.items() if n < PER_CODE // 2}
    assert not short, f"codes with fewer than {PER_CODE // 2} examples: {short}"


def test_training_examples_same_seed_same_set_other_seed_differs():
    assert generate.training_examples(seed=5, per_code=30) == generate.training_examples(seed=5, per_code=30)
    assert generate.training_examples(seed=5, per_code=30) != generate.training_examples(seed=6, per_code=30)


def test_training_examples_texts_are_acceptable_and_unique():
    texts = [text for text, _code in default_set()]
    assert len(texts) == len(set(texts))
    for text in texts:
        assert text.strip(), "empty text"
        assert len(text) <= 2000, text[:80]
        assert not CONTROL.search(text), repr(text)
        assert "{" not in text and "}" not in text, f"unfilled slot: {text}"


def test_training_examples_include_every_handwritten_line():
    generated = set(default_set())
    for text, code in generate.handwritten():
        assert (text, code) in generated or text in {t for t, _ in generated}


def test_handwritten_file_parses_with_known_codes_and_covers_every_code_twice():
    codes = {c.code for c in seed_book()}
    rows = generate.handwritten()
    assert len(rows) >= 224
    unknown = {code for _text, code in rows if code not in codes}
    assert not unknown
    counts = Counter(code for _text, code in rows)
    assert {code for code in codes if counts[code] < 2} == set()
    assert all(text and not CONTROL.search(text) for text, _code in rows)


def test_every_code_has_its_own_phrasings():
    wordings = generate.wordings()
    assert set(wordings) == {c.code for c in seed_book()}
    for code, w in wordings.items():
        assert w.names, f"{code} has no names"
        assert len(w.phrasings) + len(w.hard) >= MIN_PHRASINGS, f"{code}: {len(w.phrasings) + len(w.hard)}"
        assert set(w.neighbours) <= set(wordings), f"{code}: unknown neighbour {set(w.neighbours) - set(wordings)}"


def test_extra_phrasings_add_to_a_codes_own_and_keep_them_first():
    extra = json.loads(files("gridgov_event_intake.assist").joinpath("data", generate.EXTRA_FILE)
                       .read_text(encoding="utf-8"))
    wordings = generate.wordings()
    assert extra and set(extra) <= set(wordings)
    for code, entry in extra.items():
        w = wordings[code]
        for key in ("phrasings", "hard"):
            assert set(entry.get(key, ())) <= set(getattr(w, key)), (code, key)
        assert len(w.phrasings) == len(set(w.phrasings)), f"{code}: a phrasing twice"
    # the majors whose confusions cost most department errors got more ways of saying them
    assert {code[:2] for code in extra} >= {"04", "21", "22", "24", "29"}


def test_extra_phrasings_of_an_unknown_code_are_refused(monkeypatch):
    real = generate._read
    monkeypatch.setattr(generate, "_read",
                        lambda name: '{"99001": {"phrasings": ["x"]}}' if name == generate.EXTRA_FILE else real(name))
    generate.wordings.cache_clear()
    try:
        with pytest.raises(ValueError, match="99001"):
            generate.wordings()
    finally:
        generate.wordings.cache_clear()


def test_slots_in_phrasings_are_known():
    known = {"place", "time", "object", "name"} | set(generate.common().slots)
    for code, w in generate.wordings().items():
        for template in w.phrasings + w.hard:
            assert set(re.findall(r"\{([a-z_0-9]+)\}", template)) <= known, f"{code}: {template}"


def test_generation_is_fast():
    generate.training_examples(seed=99, per_code=10)  # data files read and cached
    # CPU time, not wall time: the goal is the generator's own cost, not how busy the machine is.
    started = time.process_time()
    generate.training_examples(seed=23)
    assert time.process_time() - started < 3.0


def test_user_dictionary_holds_catalog_colloquial_and_place_words():
    words = set(generate.user_dictionary())
    assert {"私搭乱建", "施工扰民", "瞓唔着", "嗌交", "寮步镇", "寮步"} <= words
    assert all(len(w) >= 2 and " " not in w for w in words)
    assert generate.user_dictionary() == sorted(words)


def test_places_hold_the_demo_city_towns_and_villages():
    places = generate.places()
    assert len(places["town"]) == 33 and "南城街道" in places["town"]
    assert len(places["village"]) >= 500
    assert places["road"] and places["landmark"]
