"""The training set of the 12345 category classifier (训练集): generated from the project's own wording, never scraped.

Every middle code of the catalog has, in ``assist/data/phrasings*.json``, the names people give the thing
(synonyms, colloquial names), objects, caller phrasings with slots (``{place}``, ``{time}``, ``{dur}``, ``{object}``,
``{name}``, ``{company}``, ``{shop}``, ``{person}``), "hard" phrasings that use a neighbouring code's words but
belong here, and the neighbouring codes themselves (an operator's note ruling one out is added at a small
rate). ``phrasings_common.json`` holds what all codes share: slot values, openings and closings of a call,
code-neutral rambling, colloquial/Cantonese rewrites and a typo/homophone table. Place names come from
``places.txt`` (the demo city's towns and villages, dumped once from grid-registry's generator, plus road and
landmark words). ``handwritten_train.tsv`` adds examples written one by one; ``extra_phrasings.json`` adds phrasings
to codes the files above already word.

Pure and deterministic for a seed: the only I/O is reading those packaged files.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from gridgov_common.categories import seed_book, seed_csv

_PACKAGE = "gridgov_event_intake.assist"
_SLOT_RE = re.compile(r"\{([a-z_0-9]+)\}")
_CODE_SLOTS = {"object", "name"}  # filled from the code's own lists; the rest from phrasings_common.json
MAX_TEXT = 2000  # the classify endpoint's limit
_HOUSE_NUMBERS = (3, 8, 12, 15, 23, 36, 57, 88, 102, 168)
# Phrasings added to codes the department confusions showed thin (21, 22, 24, 29, 04, 28 and the "other" codes):
# more ways of saying the same code, and hard ones naming a neighbour's words. Added to, never replacing, a code's own.
EXTRA_FILE = "extra_phrasings.json"


@dataclass(frozen=True)
class CodeWording:
    """What the data files say about one middle code."""

    code: str
    names: tuple[str, ...]
    objects: tuple[str, ...]
    phrasings: tuple[str, ...]
    hard: tuple[str, ...]
    neighbours: tuple[str, ...]


@dataclass(frozen=True)
class Common:
    """Wording shared by all codes."""

    slots: dict[str, tuple[str, ...]]
    vague_places: tuple[str, ...]
    place_patterns: tuple[str, ...]
    short: tuple[str, ...]
    prefixes: tuple[str, ...]
    suffixes: tuple[str, ...]
    fillers: tuple[str, ...]
    colloquial: tuple[tuple[str, tuple[str, ...]], ...]
    typos: tuple[tuple[str, tuple[str, ...]], ...]
    dictionary_words: tuple[str, ...]


def _read(name: str) -> str:
    return files(_PACKAGE).joinpath("data", name).read_text(encoding="utf-8")


def _data_names() -> list[str]:
    return sorted(p.name for p in files(_PACKAGE).joinpath("data").iterdir()
                  if p.name.startswith("phrasings_") and p.name.endswith(".json") and p.name != "phrasings_common.json")


@cache
def middle_codes() -> tuple[str, ...]:
    """The middle codes (中类) of the packaged catalog, in code order."""
    return tuple(c.code for c in seed_book())


@cache
def _catalog_names() -> tuple[str, ...]:
    rows = csv.DictReader(io.StringIO(seed_csv()))
    return tuple(r["name_zh"].strip() for r in rows if r.get("level") in ("major", "middle", "minor"))


def _pairs(rows: list[list]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple((src, tuple(dst) if isinstance(dst, list) else (dst,)) for src, dst in rows)


@cache
def common() -> Common:
    """The shared wording of ``phrasings_common.json``."""
    raw = json.loads(_read("phrasings_common.json"))
    return Common(
        slots={k: tuple(v) for k, v in raw["slots"].items()},
        vague_places=tuple(raw["vague_places"]),
        place_patterns=tuple(raw["place_patterns"]),
        short=tuple(raw["short"]),
        prefixes=tuple(raw["prefixes"]),
        suffixes=tuple(raw["suffixes"]),
        fillers=tuple(raw["fillers"]),
        colloquial=_pairs(raw["colloquial"]),
        typos=_pairs(raw["typos"]),
        dictionary_words=tuple(raw.get("dictionary_words", ())),
    )


@cache
def wordings() -> dict[str, CodeWording]:
    """Every code's wording from the ``phrasings_*.json`` files; a code listed twice or unknown is an error."""
    known = set(middle_codes())
    out: dict[str, CodeWording] = {}
    for name in _data_names():
        for code, entry in json.loads(_read(name)).items():
            if code not in known:
                raise ValueError(f"{name}: {code} is not a middle code of the catalog")
            if code in out:
                raise ValueError(f"{name}: {code} is written twice")
            out[code] = CodeWording(code, tuple(entry.get("names", ())), tuple(entry.get("objects", ())),
                                    tuple(entry.get("phrasings", ())), tuple(entry.get("hard", ())),
                                    tuple(entry.get("neighbours", ())))
    for code, entry in json.loads(_read(EXTRA_FILE)).items():
        base = out.get(code)
        if base is None:
            raise ValueError(f"{EXTRA_FILE}: {code} has no wording of its own to add to")
        out[code] = CodeWording(code, *(_extend(getattr(base, key), entry.get(key, ()))
                                        for key in ("names", "objects", "phrasings", "hard", "neighbours")))
    return out


def _extend(have: tuple[str, ...], more: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """``have`` then the items of ``more`` it lacks, in order."""
    return have + tuple(m for m in dict.fromkeys(more) if m not in have)


@cache
def places() -> dict[str, tuple[str, ...]]:
    """The place names of ``places.txt`` by kind (town, village, road, landmark)."""
    kinds: dict[str, list[str]] = {}
    for line in _read("places.txt").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        kind, name = line.split("\t", 1)
        kinds.setdefault(kind, []).append(name.strip())
    return {k: tuple(v) for k, v in kinds.items()}


@cache
def handwritten() -> tuple[tuple[str, str], ...]:
    """The hand-written examples of ``handwritten_train.tsv`` as (text, code)."""
    rows = csv.reader(io.StringIO(_read("handwritten_train.tsv")), delimiter="\t")
    header = next(rows)
    if header != ["code", "text"]:
        raise ValueError(f"handwritten_train.tsv: header is {header}, expected code<TAB>text")
    return tuple((text.strip(), code.strip()) for code, text in rows)


def _town_short(town: str) -> str:
    # People say 寮步 for 寮步镇 and 南城 for 南城街道.
    for suffix in ("街道", "镇"):
        if town.endswith(suffix) and len(town) > len(suffix) + 1:
            return town[: -len(suffix)]
    return town


def _place(rng: random.Random) -> str:
    c = common()
    if rng.random() < 0.2:
        return rng.choice(c.vague_places)
    p = places()

    def value(m: re.Match[str]) -> str:
        kind = m.group(1)
        if kind == "town":
            town = rng.choice(p["town"])
            return town if rng.random() < 0.6 else _town_short(town)
        if kind == "num":
            return str(rng.choice(_HOUSE_NUMBERS))
        if kind == "road2":  # the second road of a junction
            return rng.choice([r for r in p["road"] if r not in chosen])
        chosen.append(rng.choice(p[kind]))
        return chosen[-1]

    chosen: list[str] = []
    return _SLOT_RE.sub(value, rng.choice(c.place_patterns))


_PLACE_AFTER = ("，地点：{place}", "，位置在{place}", "，在{place}那边", "，地址是{place}", "（{place}）")


def _fill(template: str, w: CodeWording, rng: random.Random) -> str:
    c = common()
    if template.startswith("{place}") and rng.random() < 0.15:  # callers often name the place last
        template = template[len("{place}"):] + rng.choice(_PLACE_AFTER)

    def value(m: re.Match[str]) -> str:
        slot = m.group(1)
        if slot == "place":
            return _place(rng)
        if slot == "object":
            return rng.choice(w.objects or w.names)
        if slot == "name":
            return rng.choice(w.names)
        return rng.choice(c.slots[slot])

    return _SLOT_RE.sub(value, template)


def _rewrite(text: str, rng: random.Random) -> str:
    """Colloquial and Cantonese-flavoured rewrites, each applicable rule taken at random."""
    for src, dsts in common().colloquial:
        if src in text and rng.random() < 0.6:
            text = text.replace(src, rng.choice(dsts))
    return text


def _typo(text: str, rng: random.Random) -> str:
    """One typo or homophone, the way a hurried operator types it."""
    found = [(src, dsts) for src, dsts in common().typos if src in text]
    if not found:
        return text
    src, dsts = rng.choice(found)
    return text.replace(src, rng.choice(dsts), 1)


_SPACES = re.compile(r"\s+")
_PUNCT_RUN = re.compile(r"([，。,！？!?])[，。,！？!?]+")


def _tidy(text: str) -> str:
    text = _SPACES.sub(" ", text).strip()
    text = _PUNCT_RUN.sub(r"\1", text)
    return text.strip("， ,")[:MAX_TEXT]


_CONTRASTS = ("不是{other}的问题", "跟{other}无关", "不属于{other}", "不是{other}")


def _contrast(w: CodeWording, rng: random.Random) -> str:
    """An operator's note that rules out a neighbouring code ("不是雨水井盖"): a hard example against it."""
    other = wordings().get(rng.choice(w.neighbours))
    if other is None or not other.names:
        return ""
    return rng.choice(_CONTRASTS).format(other=rng.choice(other.names))


def _one(w: CodeWording, rng: random.Random) -> str:
    c = common()
    roll = rng.random()
    if roll < 0.08 and w.names:
        core = _fill(rng.choice(c.short), w, rng)
    elif roll < 0.08 + 0.04 * min(len(w.hard), 3):  # hard phrasings weigh by how many a code has
        core = _fill(rng.choice(w.hard), w, rng)
    else:
        core = _fill(rng.choice(w.phrasings or w.hard), w, rng)
    parts = [core]
    if rng.random() < 0.35:
        parts.insert(0, rng.choice(c.prefixes))
    if rng.random() < 0.35:
        parts.append(rng.choice(c.suffixes))
    if rng.random() < 0.08:  # a long rambling call: the point is buried in small talk
        for filler in rng.sample(c.fillers, rng.randint(2, 8)):
            parts.insert(rng.randint(0, len(parts)), filler)
        if rng.random() < 0.5:
            parts.append(_fill(rng.choice(w.phrasings or w.hard), w, rng))
    if w.neighbours and rng.random() < 0.03:
        parts.append(_contrast(w, rng))
    text = "，".join(p.strip("，。 ") for p in parts if p) + ("。" if rng.random() < 0.5 else "")
    if rng.random() < 0.3:
        text = _rewrite(text, rng)
    if rng.random() < 0.12:
        text = _typo(text, rng)
    return _tidy(text)


def training_examples(seed: int = 17, per_code: int = 120) -> list[tuple[str, str]]:
    """(text, middle code) pairs: ``per_code`` generated texts per code plus every hand-written one, deduplicated."""
    ws = wordings()
    seen: set[str] = set()
    out: list[tuple[str, str]] = []
    for text, code in handwritten():
        if text and text not in seen:
            seen.add(text)
            out.append((text, code))
    for code in middle_codes():
        w = ws.get(code)
        if w is None or not (w.phrasings or w.hard):
            continue
        rng = random.Random(seed * 1_000_003 + int(code))
        made, attempts = 0, 0
        while made < per_code and attempts < per_code * 8:
            attempts += 1
            text = _one(w, rng)
            if text and text not in seen:
                seen.add(text)
                out.append((text, code))
                made += 1
    return out


def user_dictionary() -> list[str]:
    """Words for jieba's user dictionary: catalog names, synonyms, objects, colloquial words and place names."""
    words: set[str] = set(_catalog_names())
    for w in wordings().values():
        words.update(w.names)
        words.update(w.objects)
    c = common()
    words.update(c.dictionary_words)
    for _src, dsts in c.colloquial:
        words.update(dsts)
    for kind, names in places().items():
        words.update(names)
        if kind == "town":
            words.update(_town_short(n) for n in names)
    return sorted(w for w in words if len(w) >= 2 and not any(ch in w for ch in " \t\n{}"))
