"""The category classifier at inference (分类建议), pure: a trained artefact in, a ``Classification`` per text out.

The artefact is plain arrays — the features in index order, their IDF, the linear model's weights per feature
and class, the intercepts, the classes, the softmax temperature that calibrates the confidences and the
threshold below which the model abstains — saved as an ``.npz`` with a JSON header and read back without pickle.
Inference is this module's own arithmetic (no scikit-learn object): TF-IDF of the text's features, one sparse row
times the weights, a tempered softmax.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from gridgov_event_intake.assist.tokenise import Tokeniser, has_cjk, has_signal

FORMAT = "gridgov-assist-linear/1"  # the artefact's layout; a reader refuses any other
TOP = 3
Reason = Literal["ok", "low_confidence", "no_model", "no_signal", "empty"]


class ArtefactInvalid(ValueError):
    """The bytes are not an artefact of this format."""


@dataclass(frozen=True)
class Suggestion:
    """One suggested middle code (中类) and its calibrated confidence (0..1)."""

    code: str
    confidence: float


@dataclass(frozen=True)
class Classification:
    """The model's answer for one text: the top suggestions, or why it abstains (不确定，请人工选择).

    ``low_confidence`` still lists the suggestions (the operator may look), but none is to be preselected;
    ``no_signal``, ``empty`` and ``no_model`` list none.
    """

    model_version: str | None
    abstained: bool
    reason: Reason
    suggestions: list[Suggestion] = field(default_factory=list)


@dataclass
class Artefact:
    """A trained model as arrays; ``coef`` is features × classes (a text's rows are gathered at inference)."""

    version: str
    features: list[str]
    idf: np.ndarray  # float32, per feature
    coef: np.ndarray  # float32, features × classes
    intercept: np.ndarray  # float32, per class
    classes: list[str]
    temperature: float
    threshold: float
    user_words: list[str]
    meta: dict = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        """The artefact as ``.npz`` bytes (compressed); the header is JSON in a uint8 array, nothing pickled."""
        header = {"format": FORMAT, "version": self.version, "features": self.features, "classes": self.classes,
                  "temperature": self.temperature, "threshold": self.threshold, "user_words": self.user_words,
                  "meta": self.meta}
        out = io.BytesIO()
        np.savez_compressed(out, header=np.frombuffer(json.dumps(header, ensure_ascii=False).encode(), np.uint8),
                            idf=self.idf.astype(np.float32), coef=self.coef.astype(np.float32),
                            intercept=self.intercept.astype(np.float32))
        return out.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Artefact:
        """Read an artefact written by ``to_bytes``; ``ArtefactInvalid`` for anything else."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                header = json.loads(npz["header"].tobytes().decode())
                idf, coef, intercept = npz["idf"], npz["coef"], npz["intercept"]
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            raise ArtefactInvalid(f"not a classifier artefact: {exc}") from exc
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise ArtefactInvalid("unknown artefact format")
        try:
            n_feat, n_cls = len(header["features"]), len(header["classes"])
        except (KeyError, TypeError) as exc:
            raise ArtefactInvalid(f"incomplete artefact header: {exc}") from exc
        if idf.shape != (n_feat,) or coef.shape != (n_feat, n_cls) or intercept.shape != (n_cls,):
            raise ArtefactInvalid("array shapes do not match the header")
        return cls(version=header["version"], features=header["features"], idf=idf, coef=coef,
                   intercept=intercept, classes=header["classes"], temperature=float(header["temperature"]),
                   threshold=float(header["threshold"]), user_words=header["user_words"],
                   meta=header.get("meta", {}))


def tfidf_row(counts: Counter[int], idf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sublinear TF-IDF of one text's feature counts, L2-normalised: (feature indices, weights)."""
    if not counts:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    idx = np.fromiter(counts.keys(), np.int64, len(counts))
    tf = np.fromiter(counts.values(), np.float32, len(counts))
    weights = (1.0 + np.log(tf)) * idf[idx]
    norm = float(np.sqrt(np.dot(weights, weights)))
    return idx, weights / norm if norm > 0 else weights


def softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    """Tempered softmax over the last axis."""
    z = scores / temperature
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


class Classifier:
    """Suggests middle codes for a text from one artefact (thread-safe); without one it answers "no_model"."""

    def __init__(self, artefact: Artefact | None, tokeniser: Tokeniser | None = None):
        self.artefact = artefact
        self.version = artefact.version if artefact else None
        self.index = {f: i for i, f in enumerate(artefact.features)} if artefact else {}
        self.tokeniser = tokeniser or Tokeniser(artefact.user_words if artefact else ())

    @classmethod
    def from_bytes(cls, data: bytes) -> Classifier:
        """A classifier of a stored artefact."""
        return cls(Artefact.from_bytes(data))

    def warm(self) -> None:
        """Load the segmenter's dictionary now rather than at the first text."""
        if self.artefact is not None:
            self.tokeniser.features("预热")

    def vector(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The text's TF-IDF row over the model's features (unknown features dropped); an empty row when none of
        the known features is evidence alone (``has_signal``: single characters only)."""
        if self.artefact is None:
            return tfidf_row(Counter(), np.zeros(0, np.float32))
        known = [f for f in self.tokeniser.features(text) if f in self.index]
        if not any(has_signal(f) for f in known):
            return tfidf_row(Counter(), self.artefact.idf)
        return tfidf_row(Counter(self.index[f] for f in known), self.artefact.idf)

    def probabilities(self, text: str) -> np.ndarray | None:
        """Calibrated probability per class, or None when no word or n-gram of the text is known to the model."""
        idx, weights = self.vector(text)
        if idx.size == 0 or self.artefact is None:
            return None
        scores = weights @ self.artefact.coef[idx] + self.artefact.intercept
        return softmax(scores.astype(np.float64), self.artefact.temperature)

    def classify(self, text: str) -> Classification:
        """The top three middle codes with calibrated confidence, or an abstention and its reason."""
        if self.artefact is None:
            return no_model()
        if not text or not text.strip():
            return Classification(self.version, True, "empty")
        if not has_cjk(text):
            return Classification(self.version, True, "no_signal")  # another script: the model knows none of it
        probs = self.probabilities(text)
        if probs is None:
            return Classification(self.version, True, "no_signal")
        top = np.argsort(-probs)[:TOP]
        suggestions = [Suggestion(self.artefact.classes[i], round(float(probs[i]), 4)) for i in top]
        confident = math.isfinite(probs[top[0]]) and probs[top[0]] >= self.artefact.threshold
        return Classification(self.version, not confident, "ok" if confident else "low_confidence", suggestions)


def no_model() -> Classification:
    """The answer while no model has been trained and activated."""
    return Classification(None, True, "no_model")
