"""jieba's main dictionary as a trie (``assist/dictionary.py``): the same segmentation as jieba's own dict, words
added to one view only, and the same frequencies (#18)."""

from __future__ import annotations

import jieba
import pytest

from gridgov_event_intake.assist import evaluate, training
from gridgov_event_intake.assist.dictionary import main_dictionary
from gridgov_event_intake.assist.tokenise import normalise

CITY_WORDS = ["占道经营", "占道广告牌", "东城街道", "松山湖", "井盖缺失"]


@pytest.fixture(scope="module")
def jieba_own():
    """jieba with the dict it builds itself (about 60 MB, for the comparison only)."""
    tok = jieba.Tokenizer()
    tok.initialize()
    return tok


def trie_tokeniser() -> jieba.Tokenizer:
    """jieba over a view of the trie dictionary."""
    tok = jieba.Tokenizer()
    freq, tok.total = main_dictionary()
    tok.FREQ = freq.view()
    tok.initialized = True
    return tok


def texts() -> list[str]:
    """Callers' texts: the hand-written evaluation set and the catalog's own examples (1,000+ texts)."""
    return [text for text, _code in evaluate.eval_examples()] + [text for text, _code in training.catalog_examples()]


def test_the_trie_holds_jiebas_words_prefixes_and_frequencies(jieba_own):
    freq, total = main_dictionary()
    assert total == jieba_own.total
    for word in ("中华人民共和国", "中华人民", "中华人", "水管", "漏水", "的", "占道经营", "东城", "不存在的词语吧"):
        assert (word in freq) == (word in jieba_own.FREQ), word
        assert freq.get(word) == jieba_own.FREQ.get(word), word
    assert freq["中华人"] == 0 and freq["中华人民共和国"] > 0  # a prefix that is no word, and a word
    with pytest.raises(KeyError):
        freq["不存在的词语吧"]


@pytest.mark.parametrize("mode", ["lcut", "lcut_for_search"])
def test_segmentation_is_jiebas_own_with_and_without_added_words(jieba_own, mode):
    sample = texts()
    assert len(sample) > 1000
    plain = trie_tokeniser()
    assert [getattr(plain, mode)(t) for t in sample] == [getattr(jieba_own, mode)(t) for t in sample]
    own = jieba.Tokenizer()
    own.FREQ, own.total, own.initialized = dict(jieba_own.FREQ), jieba_own.total, True
    added = trie_tokeniser()
    for word in CITY_WORDS:
        own.add_word(normalise(word), freq=2000)
        added.add_word(normalise(word), freq=2000)
    assert added.total == own.total
    cut = [getattr(added, mode)(t) for t in sample]
    assert cut == [getattr(own, mode)(t) for t in sample]
    assert sum(w in CITY_WORDS for words in cut for w in words) > 0  # added words are kept whole here


def test_words_added_to_one_view_are_not_in_another():
    freq, _total = main_dictionary()
    one, other = freq.view(), freq.view()
    one["松山湖畔"] = 2000
    assert "松山湖畔" in one and one["松山湖畔"] == 2000
    assert "松山湖畔" not in other and other.get("松山湖畔") is None and "松山湖畔" not in freq


def test_the_trie_is_saved_once_then_mapped_and_a_damaged_cache_is_built_again(tmp_path, monkeypatch):
    from gridgov_event_intake.assist import dictionary

    monkeypatch.setattr(dictionary.tempfile, "gettempdir", lambda: str(tmp_path))
    built = []
    monkeypatch.setattr(dictionary, "build", lambda real=dictionary.build: built.append(1) or real())
    first, total = dictionary.load()
    saved = sorted(p.name for p in (tmp_path / f"gridgov-{dictionary.os.getuid()}").iterdir())
    assert len(saved) == 2 and not any(name.endswith(".partial") for name in saved)
    second, again = dictionary.load()  # from the cache: not built again
    assert built == [1] and again == total
    for word in ("中华人民共和国", "中华人", "水管", "不存在的词语吧"):
        assert second.get(word) == first.get(word) and (word in second) == (word in first)
    (tmp_path / f"gridgov-{dictionary.os.getuid()}" / saved[0]).write_bytes(b"\0" * 12)  # the .freq: too short
    third, _ = dictionary.load()
    assert built == [1, 1] and third.get("水管") == first.get("水管")


def test_a_cache_directory_others_may_write_to_is_not_trusted(tmp_path, monkeypatch):
    from gridgov_event_intake.assist import dictionary

    monkeypatch.setattr(dictionary.tempfile, "gettempdir", lambda: str(tmp_path))
    folder = tmp_path / f"gridgov-{dictionary.os.getuid()}"
    folder.mkdir(mode=0o777)
    folder.chmod(0o777)
    assert dictionary._cache_dir() is None
    folder.chmod(0o700)
    assert dictionary._cache_dir() == folder
