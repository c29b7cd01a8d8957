"""``gridgov assist train|eval``: the 12345 seat assistant's category classifier, in event-intake's database.

``train`` writes a new version (the generated texts plus the city's corrections) and activates it only when its
evaluation on the hand-written set is no worse than the active one's, on top-3 and department accuracy
(``--force`` activates it anyway); both evaluations are printed. ``eval`` evaluates the active version. A running
intake takes up a newly activated version within seconds. The first ``gridgov up`` trains the first version.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any


def _database(data_dir: str | None):
    if data_dir:
        os.environ["GRIDGOV_DATA_DIR"] = data_dir
    from gridgov_common.db import Database
    from gridgov_common.migrations import upgrade_to_head
    from gridgov_event_intake.assist import models as _assist_models  # noqa: F401 - registers the tables
    from gridgov_event_intake.settings import IntakeSettings
    from gridgov_event_intake.tables import metadata

    settings = IntakeSettings()
    db = Database(settings.resolved_database_url(), metadata, "gridgov-cli")
    upgrade_to_head(db, "gridgov_event_intake")
    return db


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def format_eval(title: str, figures: dict[str, Any] | None) -> str:
    """An evaluation as text: the headline figures, per major class, and the confusion by department."""
    if figures is None:
        return f"{title}: none"
    lines = [f"{title}: {figures['texts']} texts — top-1 {_pct(figures['top1'])}, top-3 {_pct(figures['top3'])}, "
             f"department at top-1 {_pct(figures['department_top1'])}, macro-F1 {figures['macro_f1']}, "
             f"abstain {_pct(figures['abstain_rate'])} (top-1 when not abstaining "
             f"{_pct(figures['top1_when_not_abstained'])})"]
    if figures.get("latency_ms"):
        lat = figures["latency_ms"]
        lines.append(f"  latency per text: p50 {lat['p50']} ms, p95 {lat['p95']} ms")
    lines.append("  per major class (texts, top-1, top-3, department, abstain):")
    for major, m in figures["per_major"].items():
        lines.append(f"    {major}  {m['texts']:>4}  {_pct(m['top1']):>8}  {_pct(m['top3']):>8}  "
                     f"{_pct(m['department_top1']):>8}  {_pct(m['abstain_rate']):>8}")
    lines.append("  confusion by department (right → suggested: texts):")
    for want, row in figures["confusion_by_department"].items():
        lines.append(f"    {want}: " + ", ".join(f"{got} {n}" for got, n in sorted(row.items(), key=lambda x: -x[1])))
    return "\n".join(lines)


def cmd_train(args: argparse.Namespace) -> int:
    """Train a version; activate it unless it evaluates worse than the active one (or --force)."""
    from gridgov_event_intake.assist.handlers import train

    db = _database(args.data_dir)
    try:
        outcome = train(db, force=args.force, per_code=args.per_code, max_features=args.max_features)
    finally:
        db.engine.dispose()
    if args.json:
        print(json.dumps({"version": outcome.version, "activated": outcome.activated,
                          "training": outcome.training, "eval_source": outcome.eval_source,
                          "candidate": outcome.candidate, "active_version": outcome.active_version,
                          "active": outcome.active}, ensure_ascii=False, indent=2))
    else:
        t = outcome.training
        print(f"trained {outcome.version}: {t['examples']} texts ({t['source']}), {t['codes']} codes, "
              f"{t['features']} features, {t['artefact_bytes'] / 1e6:.1f} MB, {t['total_seconds']} s; "
              f"evaluated on {outcome.eval_source}")
        print(format_eval(f"new {outcome.version}", outcome.candidate))
        print(format_eval(f"active {outcome.active_version}", outcome.active))
        print(f"{outcome.version} is {'now active' if outcome.activated else 'NOT activated (evaluates worse)'}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    """Evaluate the active version on the evaluation set; 1 when no version is active."""
    from gridgov_event_intake.assist.handlers import evaluate_active

    db = _database(args.data_dir)
    try:
        version, figures, source = evaluate_active(db)
    finally:
        db.engine.dispose()
    if version is None:
        print("no active model: run `gridgov assist train`", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"version": version, "eval_source": source, **(figures or {})}, ensure_ascii=False,
                         indent=2))
    else:
        print(format_eval(f"{version} on {source}", figures))
    return 0


def ensure_demo_model(data_dir: Path) -> dict[str, Any] | None:
    """``gridgov up``: train and activate the first version when intake (already migrated in ``data_dir``) has
    none active; None when it has one or intake's database is not there yet."""
    if not os.environ.get("GRIDGOV_INTAKE_DATABASE_URL") and not (data_dir / "event-intake.db").exists():
        return None
    from gridgov_event_intake.assist.handlers import ensure_model

    started = time.perf_counter()
    db = _database(str(data_dir))
    try:
        outcome = ensure_model(db)
    finally:
        db.engine.dispose()
    if outcome is None:
        return None
    return {"version": outcome.version, "seconds": round(time.perf_counter() - started, 1),
            "top3": outcome.candidate.get("top3"), "department_top1": outcome.candidate.get("department_top1"),
            "abstain_rate": outcome.candidate.get("abstain_rate"), "eval_source": outcome.eval_source}


def add_parser(sub: argparse._SubParsersAction) -> None:
    """``gridgov assist train|eval``."""
    assist = sub.add_parser("assist", help="the 12345 seat assistant's category classifier")
    assist_sub = assist.add_subparsers(dest="assist_command", required=True)
    train = assist_sub.add_parser("train", help="train a version; activated unless it evaluates worse")
    train.add_argument("--force", action="store_true", help="activate the new version whatever its evaluation")
    train.add_argument("--per-code", type=int, help="generated texts per code (default: the generator's)")
    train.add_argument("--max-features", type=int, help="features kept (default 20,000)")
    train.add_argument("--json", action="store_true", help="print the outcome as JSON")
    train.set_defaults(func=cmd_train)
    ev = assist_sub.add_parser("eval", help="evaluate the active version on the hand-written evaluation set")
    ev.add_argument("--json", action="store_true", help="print the figures as JSON")
    ev.set_defaults(func=cmd_eval)
