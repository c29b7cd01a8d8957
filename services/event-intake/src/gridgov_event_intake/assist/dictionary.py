"""jieba's main dictionary held as a compact trie (#18): the same words and frequencies in about 3 MB, not 63.

jieba keeps its dictionary as a dict of about 500,000 str keys (every word and every prefix of a word, a prefix
that is no word with frequency 0). The str objects alone are most of event-intake's memory above the other
services'. Here the same keys live in one ``marisa_trie.Trie`` (C++, no Python object per key) and the
frequencies in an ``array`` indexed by the trie's key ids; :class:`WordFrequencies` answers the three things
jieba asks of its ``FREQ`` (``in``, ``[]``, ``.get``) and keeps the words a model adds (``add_word`` writes
``FREQ[word]``) in a small dict of its own, so one trie serves every tokeniser of the process. Segmentation is the
same as with jieba's own dictionary (a test compares both on the classifier's texts).

The trie is built once per machine user (about 2 s of CPU and ~55 MB for a moment) and saved in a private cache
directory; later starts memory-map it (a few ms, its pages shared through the page cache), as jieba caches its
own dict in the temporary directory.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import tempfile
import threading
from array import array
from collections.abc import Iterator
from pathlib import Path

import jieba
import marisa_trie


class WordFrequencies:
    """A word's (or a word's prefix's) frequency in jieba's main dictionary, plus words added to this view."""

    __slots__ = ("_added", "_freq", "_trie")

    def __init__(self, trie: marisa_trie.Trie, freq: array, added: dict[str, int] | None = None):
        self._trie = trie
        self._freq = freq
        self._added = {} if added is None else added

    def view(self) -> WordFrequencies:
        """Another view of the same dictionary with no added words of its own (the trie is shared, not copied)."""
        return WordFrequencies(self._trie, self._freq)

    def __contains__(self, word: object) -> bool:
        return word in self._added or word in self._trie

    def __getitem__(self, word: str) -> int:
        value = self._added.get(word)
        if value is not None:
            return value
        key_id = self._trie.get(word)
        if key_id is None:
            raise KeyError(word)
        return self._freq[key_id]

    def get(self, word: str, default: int | None = None) -> int | None:
        """The frequency of ``word`` (0 for a prefix that is no word), ``default`` when the dictionary lacks it."""
        value = self._added.get(word)
        if value is not None:
            return value
        key_id = self._trie.get(word)
        return default if key_id is None else self._freq[key_id]

    def __setitem__(self, word: str, freq: int) -> None:
        self._added[word] = freq


def _entries() -> Iterator[tuple[str, int]]:
    """(word, frequency) of each line of jieba's main dictionary file, in file order."""
    with jieba.Tokenizer().get_dict_file() as lines:
        for raw in lines:
            line = raw.strip().decode("utf-8")
            if line:
                word, freq = line.split(" ")[:2]
                yield word, int(freq)


def _prefixes() -> Iterator[str]:
    """Every word of the dictionary and every prefix of one (jieba's DAG walks a word's prefixes to reach it)."""
    for word, _freq in _entries():
        for end in range(1, len(word) + 1):
            yield word[:end]


def build() -> tuple[WordFrequencies, int]:
    """Read jieba's main dictionary into a trie: (its frequencies, the sum of all frequencies) as jieba has them."""
    # Two passes over the file rather than a list of its 350,000 words: nothing of that size is ever in Python.
    trie = marisa_trie.Trie(_prefixes())
    freq = array("I", bytes(4 * len(trie)))  # a prefix that is no word: 0
    total = 0
    for word, value in _entries():
        freq[trie[word]] = value  # a word listed twice: the later line wins, as in jieba
        total += value
    _return_freed_memory()
    return WordFrequencies(trie, freq), total


def _return_freed_memory() -> None:
    # Building the trie takes ~55 MB of C++ memory for a moment; glibc keeps freed heap pages unless asked.
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: the pages are reused by the process later instead
        pass


def _cache_dir() -> Path | None:
    """This user's private cache directory (``$TMPDIR/gridgov-<uid>``, mode 0700), None if it cannot be had."""
    path = Path(tempfile.gettempdir()) / f"gridgov-{os.getuid()}"
    try:
        path.mkdir(mode=0o700, exist_ok=True)
        info = path.stat()
    except OSError:
        return None
    # Another user's directory, or one others may write to, could hold a planted file: build in memory instead.
    if info.st_uid != os.getuid() or info.st_mode & 0o022:
        return None
    return path


def _cache_key() -> str:
    """jieba's version and a digest of its dictionary file: a new jieba or dictionary builds a new trie."""
    with jieba.Tokenizer().get_dict_file() as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    return f"jieba-{jieba.__version__}-{digest}"


def load() -> tuple[WordFrequencies, int]:
    """jieba's main dictionary from this user's cache (the trie memory-mapped: its pages are the page cache's,
    shared by every process), built and saved there first when missing; built in memory if there is no cache."""
    folder = _cache_dir()
    if folder is None:
        return build()
    key = _cache_key()
    trie_file, freq_file = folder / f"{key}.marisa", folder / f"{key}.freq"
    try:
        data = freq_file.read_bytes()  # OSError when missing (the first start)
        trie = marisa_trie.Trie()
        trie.mmap(str(trie_file))  # RuntimeError when missing or not a trie
        total = int.from_bytes(data[:8], "little")
        freq = array("I")
        freq.frombytes(data[8:])
        if len(freq) == len(trie):
            return WordFrequencies(trie, freq), total
    except (OSError, RuntimeError):
        pass  # missing or damaged: build it again
    built, total = build()
    # Written beside and renamed into place: a process reading the cache never sees half a file.
    for path, write in ((trie_file, lambda to: built._trie.save(str(to))),
                        (freq_file, lambda to: to.write_bytes(total.to_bytes(8, "little") + built._freq.tobytes()))):
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        try:
            write(partial)
            os.replace(partial, path)
        except (OSError, RuntimeError):  # a full or read-only disk: this process keeps the trie it built
            partial.unlink(missing_ok=True)
    return built, total


_main: tuple[WordFrequencies, int] | None = None
_main_lock = threading.Lock()


def main_dictionary() -> tuple[WordFrequencies, int]:
    """jieba's main dictionary, loaded once per process: take a ``view()`` to add words to."""
    global _main
    with _main_lock:
        if _main is None:
            _main = load()
        return _main
