"""Before/after benchmark of dispatch's rule engine and register consumer, interleaved in one run (issue #18, lane B).

Each round runs two child processes, the code of a git revision ("before": the dispatch package of the working
tree with the files named by --paths taken from that revision) and the working tree ("after"; both copied as the
run starts), in turns A, B, A, B … so both see the same moment of a shared machine. A child measures, in its own
process CPU time:
- ``decide_us``: µs of CPU per ``rules.decide`` over the default rule set and the catalog's categories (reports
  spread over every category, channel, town and hour, built before the clock starts);
- ``register_ms``: ms of CPU per located report through the ``dispatch.register`` consumer (``loop_dispatch.run``:
  a fresh SQLite database, polled batches of 100, tickets routed, dispatched and written with their outbox rows);
- ``media_ms``: ms of CPU per ``media.stored`` message through the ``dispatch.media`` consumer (a fresh SQLite
  database, batches of 100, one message in ten a photo already known);
- ``replay_ms``: ms of CPU per past ticket of a replay (回放) of the default rule set against itself over the newest
  ``--messages`` tickets: reading them as cases, then deciding each twice (tickets made by the register consumer
  before the clock starts).
Medians per side, their after ÷ before ratio and the median of each round's ratio are printed and saved, with the
load average before and after.

Run:  uv run --frozen python bench/loop_rules.py [--before HEAD] [--rounds 5] [--messages 1000] [--decides 20000]
Results: bench/results/loop_rules.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "loop_rules.json"
PACKAGE = "services/dispatch/src/gridgov_dispatch"
# The files lane B changed; the "before" child runs them as they are at --before.
DEFAULT_PATHS = (f"{PACKAGE}/rules/engine.py", f"{PACKAGE}/tickets/handlers.py", f"{PACKAGE}/verification/service.py",
                 f"{PACKAGE}/verification/handlers.py", f"{PACKAGE}/routing/service.py")
CHILD_TIMEOUT_S = 600


def child(messages: int, decides: int) -> dict:
    """Measure in this process (the code on sys.path decides which side this is)."""
    import json as _json
    import logging
    from importlib import resources

    from gridgov_common import categories
    from gridgov_dispatch.departments import seed as department_seed
    from gridgov_dispatch.rules import engine
    from gridgov_dispatch.rules.parsing import parse_rule_set

    sys.path.insert(0, str(ROOT / "bench"))
    import loop_dispatch

    logging.disable(logging.INFO)
    text = resources.files("gridgov_dispatch.rules").joinpath("default_rules.json").read_text(encoding="utf-8")
    rule_set = parse_rule_set(_json.loads(text))
    context = engine.RoutingContext.of(
        engine.DepartmentInfo(d.code, getattr(d, "department_type", None) or d.code,
                              getattr(d, "level", None) or "city", getattr(d, "town_code", None))
        for d in department_seed.DEPARTMENTS)
    codes = sorted(c.code for c in categories.seed_book())
    towns = ("441900003", "441900004", "441900006", "441900011")
    channels = sorted(engine.CHANNELS)
    start = datetime(2026, 3, 3, tzinfo=UTC)
    facts = [engine.ReportFacts(category_code=codes[i % len(codes)], channel=channels[i % len(channels)],
                                description="燃气泄漏" if i % 7 == 0 else "路面积水", location_status="located",
                                town_code=towns[i % len(towns)], village_code=None, grid_code=None,
                                department_areas=frozenset({"w-hanxi"}) if i % 5 == 0 else frozenset(),
                                priority="urgent" if i % 11 == 0 else "normal",
                                at=start + timedelta(minutes=37 * i)) for i in range(decides)]
    for report in facts[:200]:  # warm: the first decision of each category builds what later ones reuse
        engine.decide(report, rule_set, context)
    cpu0 = time.process_time()
    for report in facts:
        engine.decide(report, rule_set, context).to_data()
    decide_cpu = time.process_time() - cpu0
    register = loop_dispatch.run(messages, 100, None)
    return {"decide_us": round(decide_cpu * 1e6 / decides, 2), "register_ms": register["cpu_ms_per_report"],
            "register_wall_ms": register["wall_ms_per_report"], "dispatched": register["dispatched"],
            "media_ms": media_ms(messages), "replay_ms": replay_ms(messages)}


def replay_ms(messages: int) -> float:
    """CPU ms per past ticket of ``routing`` reading cases and replaying the current rule set against itself."""
    from gridgov_dispatch.routing.service import past_cases
    from gridgov_dispatch.rules import service as rule_sets
    from gridgov_dispatch.rules.replay import replay

    sys.path.insert(0, str(ROOT / "bench"))
    import loop_dispatch

    with tempfile.TemporaryDirectory() as tmp:
        db, ctx = _fresh(Path(tmp))
        [spec] = [s for s in _specs(ctx) if s.group == "dispatch.register"]
        for i in range(0, messages, 100):
            spec.handler([loop_dispatch.located(j) for j in range(i, min(i + 100, messages))])
        rule_set = rule_sets.current_rule_set(db)
        cpu0 = time.process_time()
        with db.session() as session:
            context = rule_sets.routing_context(session)
            cases = past_cases(session, None, messages)
        report = replay(cases, rule_set, rule_set, context)
        cpu = time.process_time() - cpu0
        db.engine.dispose()
    assert report.total == messages and report.changed == 0
    return round(cpu * 1000 / messages, 4)


def _fresh(tmp: Path):
    """A migrated, seeded dispatch database in ``tmp`` and its context."""
    from gridgov_common.db import Database
    from gridgov_common.migrations import upgrade_to_head
    from gridgov_common.settings import CommonSettings
    from gridgov_dispatch.app import MIGRATIONS
    from gridgov_dispatch.catalog import service as catalogs
    from gridgov_dispatch.context import DispatchContext
    from gridgov_dispatch.departments import service as departments
    from gridgov_dispatch.rules import service as rule_sets
    from gridgov_dispatch.settings import DispatchSettings
    from gridgov_dispatch.tables import metadata

    db = Database(f"sqlite:///{tmp / 'dispatch.db'}", metadata, "dispatch")
    upgrade_to_head(db, MIGRATIONS)
    departments.seed(db)
    catalogs.seed(db)
    rule_sets.seed(db)
    return db, DispatchContext(db, DispatchSettings(common=CommonSettings(data_dir=tmp, log_json=False),
                                                    sla_scan_seconds=0))


def _specs(ctx):
    from gridgov_dispatch.consumers import consumer_specs

    return consumer_specs(ctx)


def media_ms(messages: int) -> float:
    """CPU ms per media.stored message through the dispatch.media consumer's batch handler (fresh SQLite)."""
    import uuid

    from gridgov_common.bus.envelope import new_envelope
    from gridgov_common.db import Database
    from gridgov_common.events.media import MEDIA_STORED_TYPE, MediaStored
    from gridgov_common.migrations import upgrade_to_head
    from gridgov_common.settings import CommonSettings
    from gridgov_dispatch.app import MIGRATIONS
    from gridgov_dispatch.catalog import service as catalogs
    from gridgov_dispatch.consumers import MEDIA, consumer_specs
    from gridgov_dispatch.context import DispatchContext
    from gridgov_dispatch.departments import service as departments
    from gridgov_dispatch.rules import service as rule_sets
    from gridgov_dispatch.settings import DispatchSettings
    from gridgov_dispatch.tables import metadata

    stored_at = datetime.now(UTC)

    def photo(media_id: str) -> object:
        payload = MediaStored(media_id=media_id, uploaded_by="gw-7", uploader_role="grid_worker",
                              content_type="image/jpeg", sha256="ab" * 32, phash="0f0f0f0f0f0f0f0f",
                              exif_lat=23.02, exif_lon=113.75, exif_taken_at=stored_at, stored_at=stored_at)
        return new_envelope(type=MEDIA_STORED_TYPE, producer="event-intake", key=media_id, payload=payload,
                            correlation_id=media_id)

    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'dispatch.db'}", metadata, "dispatch")
        upgrade_to_head(db, MIGRATIONS)
        departments.seed(db)
        catalogs.seed(db)
        rule_sets.seed(db)
        ctx = DispatchContext(db, DispatchSettings(common=CommonSettings(data_dir=Path(tmp), log_json=False),
                                                   sla_scan_seconds=0))
        [spec] = [s for s in consumer_specs(ctx) if s.group == MEDIA.group]
        spec.handler([photo(str(uuid.uuid4())) for _ in range(100)])  # warm
        ids = [str(uuid.uuid4()) for _ in range(messages)]
        envelopes = [photo(ids[i - 1] if i % 10 == 9 else ids[i]) for i in range(messages)]  # some known
        cpu0 = time.process_time()
        for i in range(0, messages, 100):
            spec.handler(envelopes[i:i + 100])
        cpu = time.process_time() - cpu0
        db.engine.dispose()
    return round(cpu * 1000 / messages, 3)


def package_tree(revision: str | None, paths: list[str], into: Path) -> Path:
    """A copy of the working tree's dispatch package (taken now, so edits during the run change neither side),
    with ``paths`` as they are at ``revision`` when one is given."""
    target = into / "gridgov_dispatch"
    shutil.copytree(ROOT / PACKAGE, target, ignore=shutil.ignore_patterns("__pycache__"))
    for path in paths if revision else ():
        shown = subprocess.run(["git", "show", f"{revision}:{path}"], cwd=ROOT, capture_output=True, check=True)
        (target / Path(path).relative_to(PACKAGE)).write_bytes(shown.stdout)
    return into


def run_child(side: str, src: Path, messages: int, decides: int) -> dict:
    """One child process of ``side``; ``src`` (its copy of the dispatch package) goes first on its path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(src), env.get("PYTHONPATH")]))
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    out = subprocess.run([sys.executable, __file__, "--child", "--messages", str(messages), "--decides",
                          str(decides)], env=env, cwd=ROOT, capture_output=True, text=True, check=True,
                         timeout=CHILD_TIMEOUT_S)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["side"] = side
    return result


def main() -> None:
    """Run the interleaved rounds and save the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="HEAD", help="git revision of the 'before' side")
    parser.add_argument("--paths", nargs="*", default=list(DEFAULT_PATHS))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--decides", type=int, default=20000)
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.messages, args.decides)))
        return
    load_before = os.getloadavg()
    runs: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        before = package_tree(args.before, args.paths, Path(tmp) / "before")
        after = package_tree(None, [], Path(tmp) / "after")
        for _ in range(max(1, min(args.rounds, 20))):
            runs.append(run_child("before", before, args.messages, args.decides))
            runs.append(run_child("after", after, args.messages, args.decides))
    load_after = os.getloadavg()
    summary: dict = {}
    for key in ("decide_us", "register_ms", "register_wall_ms", "media_ms", "replay_ms"):
        if any(key not in r for r in runs):
            continue
        before = statistics.median(r[key] for r in runs if r["side"] == "before")
        after = statistics.median(r[key] for r in runs if r["side"] == "after")
        pairs = [a[key] / b[key] for b, a in zip(runs[::2], runs[1::2], strict=True) if b[key]]
        summary[key] = {"before_median": before, "after_median": after, "ratio_after_over_before":
                        round(after / before, 3) if before else None,
                        "median_of_round_ratios": round(statistics.median(pairs), 3) if pairs else None}
    result = {"before": args.before, "paths": args.paths, "rounds": args.rounds, "messages": args.messages,
              "decides": args.decides, "summary": summary, "runs": runs,
              "loadavg_before": [round(x, 2) for x in load_before],
              "loadavg_after": [round(x, 2) for x in load_after],
              "at": datetime.now(UTC).isoformat(timespec="seconds"), "cpus": os.cpu_count()}
    print(json.dumps({"summary": summary, "loadavg_before": result["loadavg_before"],
                      "loadavg_after": result["loadavg_after"]}, indent=1))
    if not args.no_save:
        RESULTS.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    sys.exit(main())
