"""``gridgov grids``: generate, import, export and list grid sets, with progress bars on long work.

``import`` and ``export`` work on grid-registry's own database (``GRIDGOV_REGISTRY_DATABASE_URL``, or the
SQLite file in the data directory), as an administrator's tool: a running registry notices a new grid set
within seconds (or at the moment it takes effect) and switches to it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gridgov_grid_registry.grids.validation import Issue

# The registry's modules (shapely, numpy) load only when a grids command runs: `gridgov up` stays light.
SCALE_NAMES = ("dongguan", "100k")  # gridgov_grid_registry.grids.generator.SCALES
EXIT_INVALID = 1
EXIT_CONFLICT = 2


class Bars:
    """A progress callback ``(stage, done, total)`` drawing one tqdm bar per stage on stderr."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self.bars: dict[str, Any] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        """Move the stage's bar to ``done`` of ``total``."""
        if not self.enabled:
            return
        bar = self.bars.get(stage)
        if bar is None:
            from tqdm import tqdm

            bar = self.bars[stage] = tqdm(total=total, desc=f"{stage:<17}", unit="", file=sys.stderr,
                                          leave=True, dynamic_ncols=True)
        bar.total = total
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    def close(self) -> None:
        """Close every bar still open."""
        for bar in self.bars.values():
            bar.close()


@contextmanager
def _output(path: str | None) -> Iterator[IO[str]]:
    if path is None or path == "-":
        yield sys.stdout
        return
    with open(path, "w", encoding="utf-8") as fh:
        yield fh


def _write_collection(collection: dict, out: IO[str], progress: Bars) -> None:
    # Feature by feature, so a 100,000-grid set streams out with a progress bar instead of one huge string.
    features = collection["features"]
    head = {k: v for k, v in collection.items() if k != "features"}
    out.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "features": [\n')
    for i, feature in enumerate(features):
        out.write(("," if i else "") + json.dumps(feature, ensure_ascii=False, separators=(",", ":")) + "\n")
        if i % 1000 == 0:
            progress("write", i, len(features))
    out.write("]}\n")
    progress("write", len(features), len(features))


def cmd_generate(args: argparse.Namespace) -> int:
    """Write the generated Dongguan-like city (or the 100,000-grid set) as a GeoJSON FeatureCollection."""
    from gridgov_grid_registry.grids.generator import generate
    from gridgov_grid_registry.grids.geojson import feature_collection

    bars = Bars(not args.quiet)
    city = generate(args.scale, bars)
    collection = feature_collection(city.grid_set.areas, city.grid_set.version)
    with _output(args.out) as out:
        _write_collection(collection, out, bars)
    bars.close()
    counts = {lvl: sum(a.level == lvl for a in city.grid_set.areas) for lvl in ("town", "village", "grid")}
    print(f"generated {city.grid_set.version}: {counts['town']} towns, {counts['village']} villages, "
          f"{counts['grid']} grids" + (f" → {args.out}" if args.out else ""), file=sys.stderr)
    return 0


def _database(args: argparse.Namespace):
    if getattr(args, "data_dir", None):
        os.environ["GRIDGOV_DATA_DIR"] = args.data_dir
    from gridgov_common.db import Database
    from gridgov_common.migrations import upgrade_to_head
    from gridgov_grid_registry.app import MIGRATIONS
    from gridgov_grid_registry.settings import RegistrySettings
    from gridgov_grid_registry.tables import metadata

    settings = RegistrySettings()
    db = Database(settings.resolved_database_url(), metadata, "gridgov-cli")
    upgrade_to_head(db, MIGRATIONS)
    return db


def _print_issues(issues: list[Issue], limit: int) -> None:
    for issue in issues[:limit]:
        print(f"  {issue.severity:<7} {issue.describe()}")
    if len(issues) > limit:
        print(f"  … and {len(issues) - limit} more (--show N to see more)")


def cmd_import(args: argparse.Namespace) -> int:
    """Validate a GeoJSON grid set and store it (all or nothing); with --dry-run only validate."""
    from gridgov_common.errors import Conflict
    from gridgov_grid_registry.grids import handlers
    from gridgov_grid_registry.grids.geojson import parse_mapping
    from gridgov_grid_registry.grids.validation import ValidationOptions

    try:
        mapping = parse_mapping(args.mapping)
        effective = handlers.parse_moment(args.effective_from) if args.effective_from else None
    except ValueError as exc:
        print(f"gridgov grids import: {exc}", file=sys.stderr)
        return EXIT_INVALID
    path = Path(args.file)
    bars = Bars(not args.quiet)
    bars("read", 0, 1)
    raw = path.read_bytes()
    try:
        collection = json.loads(raw)
    except json.JSONDecodeError as exc:
        print(f"{path}: not JSON: {exc}", file=sys.stderr)
        return EXIT_INVALID
    bars("read", 1, 1)
    version = args.version or handlers.default_version(raw)
    options = ValidationOptions(overlap_tolerance_m2=args.tolerance, gap_tolerance_m2=args.tolerance,
                                allow_gaps=args.allow_gaps)
    db = _database(args)
    try:
        result = handlers.import_grid_set(db, collection, version=version, description=args.description or
                                          f"import of {path.name}", effective_from=effective, mapping=mapping,
                                          options=options, dry_run=args.dry_run, source=str(path)[:200],
                                          progress=bars)
    except Conflict as exc:
        bars.close()
        print(f"gridgov grids import: {exc}", file=sys.stderr)
        return EXIT_CONFLICT
    finally:
        db.engine.dispose()
    bars.close()
    report = result.report
    counts = ", ".join(f"{n} {lvl}s" for lvl, n in report.counts.items())
    print(f"{path}: {report.features} features ({counts}); {len(report.errors)} errors, "
          f"{len(report.warnings)} warnings")
    _print_issues(report.errors + report.warnings, args.show)
    if not report.ok:
        print("nothing was imported")
        return EXIT_INVALID
    if result.dry_run:
        print(f"dry run: valid; would import as {version}")
    else:
        print(f"imported grid set {version}, in effect from {result.effective_from.isoformat()}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Write a stored grid set (default: the one in effect) as GeoJSON that QGIS and ``import`` read."""
    from gridgov_grid_registry.grids import service
    from gridgov_grid_registry.grids.geojson import feature_collection

    db = _database(args)
    bars = Bars(not args.quiet)
    try:
        with db.session() as session:
            version = args.version
            if version is None:
                active = service.effective_grid_set(session, datetime.now(UTC))
                version = active.version if active else None
            if version is None or service.get_grid_set(session, version) is None:
                print(f"gridgov grids export: no grid set {version or 'in effect'}", file=sys.stderr)
                return EXIT_INVALID
            bars("read", 0, 1)
            areas = service.list_areas(session, version, args.level)
            bars("read", 1, 1)
    finally:
        db.engine.dispose()
    with _output(args.out) as out:
        _write_collection(feature_collection(areas, version), out, bars)
    bars.close()
    print(f"exported {len(areas)} areas of {version}" + (f" → {args.out}" if args.out else ""), file=sys.stderr)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    """Print the stored grid sets, the one in effect marked."""
    from gridgov_grid_registry.grids import service

    db = _database(args)
    try:
        with db.session() as session:
            active = service.effective_grid_set(session, datetime.now(UTC))
            for s in service.list_grid_sets(session):
                counts = service.area_counts(session, s.version)
                mark = "*" if active and s.version == active.version else " "
                when = s.effective_from.isoformat() if s.effective_from else "never"
                print(f"{mark} {s.version:<24} from {when:<32} {counts['town']:>3} towns {counts['village']:>5} "
                      f"villages {counts['grid']:>6} grids  {s.description}")
    finally:
        db.engine.dispose()
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``gridgov grids …`` on the main parser."""
    grids = sub.add_parser("grids", help="generate, import, export and list grid sets")
    gsub = grids.add_subparsers(dest="grids_command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--quiet", action="store_true", help="no progress bars")

    gen = gsub.add_parser("generate", parents=[common], help="write the generated Dongguan-like city as GeoJSON")
    gen.add_argument("--scale", choices=SCALE_NAMES, default="dongguan",
                     help="dongguan: 33 towns, 593 villages, 2,930 grids; 100k: 100,000 grids (benchmarks)")
    gen.add_argument("--out", help="output file (default: standard output)")
    gen.set_defaults(func=cmd_generate)

    imp = gsub.add_parser("import", parents=[common], help="validate and store a GeoJSON grid set (all or nothing)")
    imp.add_argument("file", help="a GeoJSON FeatureCollection of towns, villages and grids (WGS84 lon/lat)")
    imp.add_argument("--dry-run", action="store_true", help="validate only; store nothing")
    imp.add_argument("--effective-from", help="YYYY-MM-DD (local midnight, UTC+8) or ISO time; default now")
    imp.add_argument("--mapping", help="FIELD=PROPERTY,… for code, name, level, parent (e.g. code=WGBM,name=WGMC)")
    imp.add_argument("--version", help="version name (default: import-<hash of the file>)")
    imp.add_argument("--description", help="what this grid set is")
    imp.add_argument("--tolerance", type=float, default=1.0, help="overlap and gap tolerance in m² (default 1)")
    imp.add_argument("--allow-gaps", action="store_true", help="report gaps inside parents as warnings only")
    imp.add_argument("--show", type=int, default=50, help="how many issues to print (default 50)")
    imp.set_defaults(func=cmd_import)

    exp = gsub.add_parser("export", parents=[common], help="write a stored grid set as GeoJSON (QGIS reads it)")
    exp.add_argument("--version", help="grid set version (default: the one in effect)")
    exp.add_argument("--level", choices=["town", "village", "grid"], help="one level only")
    exp.add_argument("--out", help="output file (default: standard output)")
    exp.set_defaults(func=cmd_export)

    lst = gsub.add_parser("list", help="list the stored grid sets")
    lst.set_defaults(func=cmd_list)

