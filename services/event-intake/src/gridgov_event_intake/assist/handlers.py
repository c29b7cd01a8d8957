"""Use cases of the seat assistant: learn a labelled text from a correction (consumer), train a version and
activate it only when it evaluates no worse than the one in use, evaluate the one in use."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, insert, select, update
from sqlmodel import Session

from gridgov_common.bus.envelope import Envelope
from gridgov_common.db import Database, on_commit
from gridgov_common.events.tickets import TicketEvent
from gridgov_event_intake.assist import evaluate, service
from gridgov_event_intake.assist.model import Classifier
from gridgov_event_intake.assist.models import AssistExample, AssistModel
from gridgov_event_intake.reports.models import Report
from gridgov_event_intake.settings import IntakeSettings

if TYPE_CHECKING:
    from gridgov_event_intake.assist.training import TrainingSet

log = logging.getLogger(__name__)
RETURN_RULED = "rule_return"  # 退单裁定: the command centre re-dispatched a returned ticket
EVAL_FALLBACK_SHARE = 0.1  # without the hand-written set: this share of the training texts, held out
REPORTS = Report.__table__
EXAMPLES = AssistExample.__table__
# executemany UPDATE of moved labels: the key is not a column name, so it cannot clash with a SET.
MOVE_LABEL = update(EXAMPLES).where(EXAMPLES.c.report_id == bindparam("report_key"))


class CorrectionBatch:
    """One assist-corrections batch (issue #18): its reports' ids and, once asked, their text and category and
    the labelled texts already stored, read in one query each; new and moved labels written at its commit.

    ``learn_correction`` loaded the whole report per ticket event (11 % of intake's CPU) although most events
    change no label. The same mechanism as ``reports.batch.FollowBatch``: ids from the envelopes, read-ahead
    inside the batch's transaction, one multi-row INSERT and one executemany UPDATE just before the transaction
    commits (``on_commit``).
    """

    def __init__(self, settings: IntakeSettings, report_ids: Iterable[str]):
        self.settings = settings
        self.report_ids = set(report_ids)
        self._asked: set[str] = set()
        self._reports: dict[str, tuple[str, str]] = {}  # report id -> (description, category code)
        self._codes: dict[str, str] = {}  # report id -> its stored or staged label
        self._new: dict[str, dict[str, Any]] = {}
        self._moved: dict[str, dict[str, Any]] = {}

    @classmethod
    def of(cls, settings: IntakeSettings, envelopes: Iterable[Envelope]) -> CorrectionBatch:
        """The batch of these envelopes: the report ids their payloads name (read without validating)."""
        return cls(settings, (r for e in envelopes if isinstance(e.payload, dict)
                              and isinstance(r := e.payload.get("report_id"), str)))

    def report(self, session: Session, report_id: str) -> tuple[str, str] | None:
        """The report's (description, category code), None if intake has no such report."""
        if report_id not in self._asked:
            wanted = (self.report_ids | {report_id}) - self._asked
            rows = session.execute(select(REPORTS.c.id, REPORTS.c.description, REPORTS.c.category_code)
                                   .where(REPORTS.c.id.in_(wanted)))
            self._reports.update((r.id, (r.description, r.category_code)) for r in rows)
            labels = session.execute(select(EXAMPLES.c.report_id, EXAMPLES.c.code)
                                     .where(EXAMPLES.c.report_id.in_(wanted)))
            self._codes.update((r.report_id, r.code) for r in labels)
            self._asked |= wanted
        return self._reports.get(report_id)

    def record(self, session: Session, report_id: str, text: str, code: str, now: datetime) -> bool:
        """Stage a labelled text: one per report, the latest category wins; True if it changed anything."""
        known = self._codes.get(report_id)
        if known == code:
            return False
        on_commit(session, self.write_staged)
        self._codes[report_id] = code
        if known is None:
            self._new[report_id] = {"report_id": report_id, "text": text, "code": code, "source": "correction",
                                    "created_at": now, "updated_at": now}
        elif report_id in self._new:
            self._new[report_id].update(code=code, updated_at=now)
        else:
            self._moved[report_id] = {"report_key": report_id, "code": code, "updated_at": now}
        return True

    def write_staged(self, session: Session) -> None:
        """Insert the new labelled texts, then move the changed ones."""
        new, moved = list(self._new.values()), [self._moved[k] for k in sorted(self._moved)]  # lock order
        self._new, self._moved = {}, {}
        if new:
            session.execute(insert(EXAMPLES), new)
        if moved:
            session.execute(MOVE_LABEL, moved)


def learn_correction(deps: IntakeSettings | CorrectionBatch, session: Session, envelope: Envelope) -> None:
    """A ticket's final category after a return ruling (退单裁定), or any event whose category differs from its
    report's, becomes a labelled text: the report's own description and that category (one per report).

    The consumer hands a ``CorrectionBatch`` (reads once per batch, writes at its commit); bare settings (a
    direct call) make a batch of this one event, written at once."""
    event = TicketEvent.model_validate(envelope.payload)
    batch = deps if isinstance(deps, CorrectionBatch) else CorrectionBatch(deps, [event.report_id])
    found = batch.report(session, event.report_id)
    if found is None or not found[0].strip():
        return
    if event.action != RETURN_RULED and event.category_code == found[1]:
        return
    if batch.record(session, event.report_id, found[0], event.category_code, event.occurred_at):
        _log_labelled(event)
    if batch is not deps:
        batch.write_staged(session)


def _log_labelled(event: TicketEvent) -> None:
    log.info("assist: report %s labelled %s from ticket event %s", event.report_id, event.category_code,
             event.action)


@dataclass(frozen=True)
class TrainOutcome:
    """What ``train`` did: the new version, whether it is now in use, and both evaluations."""

    version: str
    activated: bool
    candidate: dict
    active_version: str | None
    active: dict | None
    training: dict
    eval_source: str


def evaluation_set(examples: Sequence[tuple[str, str]]) -> tuple[list[tuple[str, str]], list[tuple[str, str]], str]:
    """(training texts, evaluation texts, where the evaluation texts came from): the hand-written set when it is
    there (any of its texts dropped from training), else a held-out share of the training texts."""
    from gridgov_event_intake.assist import training  # scikit-learn and scipy: only where a model is trained

    hand = evaluate.eval_examples()
    if hand:
        held = {t for t, _ in hand}
        return [ex for ex in examples if ex[0] not in held], hand, "eval_texts.tsv"
    kept, held_out = training.split(examples, EVAL_FALLBACK_SHARE, seed=1017)
    return kept, held_out, "held-out training texts"


def train(db: Database, *, force: bool = False, per_code: int | None = None, seed: int = 17,
          max_features: int | None = None, base: TrainingSet | None = None) -> TrainOutcome:
    """Train a new version on the generated texts and the corrections; store it; activate it when its
    evaluation is no worse than the active one's on top-3 and department accuracy (or ``force``); ``base``
    replaces the generated texts (tests)."""
    from gridgov_event_intake.assist import training

    started = time.perf_counter()
    base = base or training.training_set(per_code)
    with db.session() as session:
        corrections = service.correction_examples(session)
        active_row = service.get_active(session)
        active_bytes, active_name = (active_row.artefact, active_row.version) if active_row else (None, None)
    texts, eval_texts, eval_source = evaluation_set(base.examples + corrections)
    now = service.now_utc()
    with db.session() as session:
        version = service.next_version(session, now)
    artefact, facts = training.fit(texts, base.user_words, version, seed=seed,
                                   max_features=max_features or training.MAX_FEATURES)
    cand_eval = evaluate.evaluate(_warm(Classifier(artefact)), eval_texts)
    active_eval = evaluate.evaluate(_warm(Classifier.from_bytes(active_bytes)), eval_texts) if active_bytes else None
    activate = force or evaluate.not_worse(cand_eval, active_eval)
    facts = {**facts, "source": base.source, "total_seconds": round(time.perf_counter() - started, 2)}
    data = artefact.to_bytes()
    facts["artefact_bytes"] = len(data)
    row = AssistModel(version=version, created_at=now, artefact=data,
                      metrics={"training": facts, "eval": cand_eval, "eval_source": eval_source},
                      generated_examples=len(base.examples), correction_examples=len(corrections))
    with db.session() as session:
        service.add_model(session, row, activate)
        session.commit()
    if activate:
        service.forget(db)
    return TrainOutcome(version, activate, cand_eval, active_name, active_eval, facts, eval_source)


def evaluate_active(db: Database) -> tuple[str | None, dict | None, str]:
    """The active version and its evaluation on the evaluation set now, and where that set came from."""
    with db.session() as session:
        row = service.get_active(session)
        data, version = (row.artefact, row.version) if row else (None, None)
    if data is None:
        return None, None, ""
    hand = evaluate.eval_examples()
    if hand:
        return version, evaluate.evaluate(_warm(Classifier.from_bytes(data)), hand), "eval_texts.tsv"
    from gridgov_event_intake.assist import training

    base = training.training_set()
    _, held, source = evaluation_set(base.examples)
    return version, evaluate.evaluate(_warm(Classifier.from_bytes(data)), held), source


def _warm(classifier: Classifier) -> Classifier:
    """The classifier with its dictionary loaded, so the first text's latency is not the loading's."""
    classifier.warm()
    return classifier


def ensure_model(db: Database) -> TrainOutcome | None:
    """Train and activate the first model when none is active (the first ``gridgov up``); None if one is."""
    with db.session() as session:
        if service.active_version(session) is not None:
            return None
    return train(db, force=True)
