"""Evaluating the category classifier (评测), pure: a classifier and labelled texts in, the figures out.

The evaluation set is ``assist/data/eval_texts.tsv`` (texts written by hand in callers' words, never trained on).
Accuracy counts every text, abstained or not (an abstention still ranks the codes; the operator sees them
unselected); the abstain rate and the accuracy of the texts the model did not abstain on are reported beside it.
"""

from __future__ import annotations

import csv
import io
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from importlib.resources import files

import numpy as np

from gridgov_event_intake.assist.departments import department_by_summed_probability, department_of, major_of
from gridgov_event_intake.assist.model import Classifier
from gridgov_event_intake.assist.tokenise import has_cjk

EVAL_FILE = "eval_texts.tsv"
Example = tuple[str, str]


def eval_examples() -> list[Example]:
    """The hand-written evaluation texts as (text, middle code); empty when the file is not there."""
    path = files("gridgov_event_intake.assist").joinpath("data", EVAL_FILE)
    if not path.is_file():
        return []
    rows = csv.reader(io.StringIO(path.read_text(encoding="utf-8")), delimiter="\t")
    header = next(rows, None)
    if header != ["code", "text"]:
        raise ValueError(f"{EVAL_FILE}: the header must be code<TAB>text, not {header}")
    return [(text.strip(), code.strip()) for code, text, *_ in rows if code.strip() and text.strip()]


def _macro_f1(truth: Sequence[str], predicted: Sequence[str | None]) -> float:
    """Macro-F1 over the codes of the truth (an abstention with no suggestion counts as wrong)."""
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for t, p in zip(truth, predicted, strict=True):
        if p == t:
            tp[t] += 1
        else:
            fn[t] += 1
            if p is not None:
                fp[p] += 1
    scores = []
    for code in set(truth):
        prec = tp[code] / (tp[code] + fp[code]) if tp[code] + fp[code] else 0.0
        rec = tp[code] / (tp[code] + fn[code]) if tp[code] + fn[code] else 0.0
        scores.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    return sum(scores) / len(scores) if scores else 0.0


def _rate(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def _summed_department(classifier: Classifier, text: str) -> str | None:
    """The department by summed probability over its codes (``department_by_summed_probability``), or None."""
    probs = classifier.probabilities(text) if classifier.artefact is not None and has_cjk(text) else None
    if probs is None:
        return None
    return department_by_summed_probability(classifier.artefact.classes, probs)[0]


def evaluate(classifier: Classifier, examples: Sequence[Example]) -> dict:
    """top-1, top-3, department accuracy at top-1 (the first code's department; beside it the department of the
    highest summed probability over its codes, ``department_top1_summed``), macro-F1, abstain rate, per major
    class, confusion by department, and the latency per text (ms, p50/p95) — for ``examples``."""
    truth, top1, dept_hits, abstained, latencies = [], [], 0, 0, []
    summed_hits = 0
    top1_hits = top3_hits = confident = confident_hits = 0
    per_major: dict[str, Counter[str]] = defaultdict(Counter)
    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    reasons: Counter[str] = Counter()
    for text, code in examples:
        started = time.perf_counter()
        result = classifier.classify(text)
        latencies.append((time.perf_counter() - started) * 1000)
        codes = [s.code for s in result.suggestions]
        first = codes[0] if codes else None
        truth.append(code)
        top1.append(first)
        reasons[result.reason] += 1
        hit1, hit3 = first == code, code in codes[:3]
        want, got = department_of(code), department_of(first) if first else None
        dept_hit = got is not None and got == want
        summed_hits += _summed_department(classifier, text) == want
        top1_hits += hit1
        top3_hits += hit3
        dept_hits += dept_hit
        abstained += result.abstained
        if not result.abstained:
            confident += 1
            confident_hits += hit1
        major = per_major[major_of(code)]
        major["n"] += 1
        major["top1"] += hit1
        major["top3"] += hit3
        major["department"] += dept_hit
        major["abstained"] += result.abstained
        confusion[want or "?"][got or "(none)"] += 1
    n = len(examples)
    return {
        "texts": n,
        "top1": _rate(top1_hits, n),
        "top3": _rate(top3_hits, n),
        "department_top1": _rate(dept_hits, n),
        "department_top1_summed": _rate(summed_hits, n),
        "macro_f1": round(_macro_f1(truth, top1), 4) if n else None,
        "abstain_rate": _rate(abstained, n),
        "top1_when_not_abstained": _rate(confident_hits, confident),
        "reasons": dict(sorted(reasons.items())),
        "per_major": {m: {"texts": c["n"], "top1": _rate(c["top1"], c["n"]), "top3": _rate(c["top3"], c["n"]),
                          "department_top1": _rate(c["department"], c["n"]),
                          "abstain_rate": _rate(c["abstained"], c["n"])}
                      for m, c in sorted(per_major.items())},
        "confusion_by_department": {d: dict(sorted(c.items())) for d, c in sorted(confusion.items())},
        "latency_ms": ({"p50": round(float(np.percentile(latencies, 50)), 3),
                        "p95": round(float(np.percentile(latencies, 95)), 3),
                        "max": round(max(latencies), 3)} if latencies else None),
    }


def not_worse(candidate: dict, active: dict | None) -> bool:
    """Whether a candidate's evaluation is at least the active model's on top-3 and department accuracy (a
    same texts, evaluated now); anything beats no model."""
    if active is None:
        return True
    for key in ("top3", "department_top1"):
        if (candidate.get(key) or 0.0) < (active.get(key) or 0.0):
            return False
    return True
