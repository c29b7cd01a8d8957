"""``gridgov sensing devices generate|import``: the city's cameras and sensors into sensing's database, with
progress bars.

Both write sensing's own database (``GRIDGOV_SENSING_DATABASE_URL``, or the SQLite file in the data directory), as
an administrator's tool, and learn the grids from grid-registry's API (``GRIDGOV_SENSING_REGISTRY_URL``, with a
token minted from the data directory's secret): ``generate`` reads the grid set in effect (``GET /v1/grids``) and
places the devices inside the grids (``devices/placement.py``); ``import`` places each device of a CSV or GeoJSON
file with ``POST /v1/locate/batch``, then stores all of them or none. A running sensing picks the devices up at
its next batch (the devices' version moved on).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from gridgov_cli.grids import Bars

GENERATE_CHUNK = 10_000  # devices written per transaction by the generator


def _database(args: argparse.Namespace):
    if getattr(args, "data_dir", None):
        os.environ["GRIDGOV_DATA_DIR"] = args.data_dir
    from gridgov_common.db import Database
    from gridgov_common.migrations import upgrade_to_head
    from gridgov_sensing.settings import SensingSettings
    from gridgov_sensing.tables import metadata
    from gridgov_sensing.types.handlers import seed_alarm_types

    settings = SensingSettings()
    db = Database(settings.resolved_database_url(), metadata, "gridgov-cli")
    upgrade_to_head(db, "gridgov_sensing")
    seed_alarm_types(db)  # as a starting sensing does: devices name alarm types
    return settings, db


def fetch_grids(registry_url: str, token: str, timeout: float = 120.0) -> list[tuple[str, str, str, Any]]:
    """The grids of the grid set in effect as ``(grid, village, town, polygon)``, from grid-registry's API."""
    from shapely.geometry import shape

    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=registry_url.rstrip("/"), headers=headers, timeout=timeout) as client:
        villages = client.get("/v1/grids", params={"level": "village", "zoom": 8})
        villages.raise_for_status()
        town_of = {f["properties"]["code"]: f["properties"]["parent"] for f in villages.json()["features"]}
        grids = client.get("/v1/grids", params={"level": "grid"})
        grids.raise_for_status()
    out = []
    for feature in grids.json()["features"]:
        props = feature["properties"]
        village = props["parent"]
        out.append((props["code"], village, town_of.get(village) or village[:9], shape(feature["geometry"])))
    return out


def _chunks(rows: Iterator[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def generate(db, registry_url: str, token: str, count: int, seed: int, cameras_share: float = 0.8,
             progress: Bars | None = None, placed: list | None = None) -> dict[str, Any]:
    """Place ``count`` devices along the grids in effect (the same for the same seed and grid set) and store them;
    what was done (and, into ``placed``, each device as ``presence.DemoDevice``). ``httpx.HTTPError`` when
    grid-registry does not answer, ValueError when it has no grid."""
    from gridgov_cli.presence import DemoDevice
    from gridgov_sensing.devices.handlers import store_devices
    from gridgov_sensing.devices.placement import place_devices

    t0 = time.perf_counter()
    grids = fetch_grids(registry_url, token)
    if not grids:
        raise ValueError("grid-registry has no grid set in effect")
    fetched = time.perf_counter() - t0
    imported = updated = done = 0
    now = datetime.now(UTC)
    for chunk in _chunks(place_devices(grids, count, seed, cameras_share=cameras_share), GENERATE_CHUNK):
        result = store_devices(db, [{"device_id": r.device_id, "kind": r.kind, "name": r.name, "lon": r.lon,
                                     "lat": r.lat, "grid_code": r.grid_code, "village_code": r.village_code,
                                     "town_code": r.town_code, "owner_department": r.owner_department,
                                     "algorithms": list(r.algorithms)} for r in chunk], now)
        imported, updated, done = imported + result.imported, updated + result.updated, done + len(chunk)
        if placed is not None:
            placed.extend(DemoDevice(r.device_id, r.kind, r.village_code, tuple(r.algorithms)) for r in chunk)
        if progress is not None:
            progress("devices", done, count)
    return {"devices": done, "grids": len(grids), "new": imported, "replaced": updated,
            "fetch_s": round(fetched, 1), "total_s": round(time.perf_counter() - t0, 1)}


def cmd_generate(args: argparse.Namespace) -> int:
    """Place ``--count`` devices along the grids in effect (deterministic for a seed) and store them."""
    from gridgov_sensing.runtime import registry_client

    settings, db = _database(args)
    registry_url = args.registry_url or settings.registry_url
    progress = Bars(enabled=not args.quiet)
    try:
        client = registry_client(settings)
        done = generate(db, registry_url, client.token(), args.count, args.seed, args.cameras_share, progress)
        client.close()
    except (httpx.HTTPError, ValueError) as exc:
        print(f"generate FAILED: grid-registry at {registry_url}: {type(exc).__name__}: {exc} "
              "(is `gridgov up` running?)", file=sys.stderr)
        return 1
    finally:
        progress.close()
        db.engine.dispose()
    print(f"devices: {done['devices']} placed in {done['grids']} grids (seed {args.seed}): {done['new']} new, "
          f"{done['replaced']} replaced; grids fetched in {done['fetch_s']} s, {done['total_s']} s in all")
    return 0


def ensure_demo_devices(data_dir: Path, registry_url: str, count: int, seed: int = 16) -> dict[str, Any] | None:
    """``gridgov up``'s demo devices: ``count`` of them placed once, when sensing (in ``data_dir``) has none, and
    listed for the demo gateway (``presence.DEMO_LIST``); None when it has some."""
    from sqlmodel import func, select

    from gridgov_cli.presence import write_demo_list
    from gridgov_sensing.devices.models import Device
    from gridgov_sensing.runtime import registry_client

    settings, db = _database(argparse.Namespace(data_dir=str(data_dir)))
    try:
        with db.session() as session:
            if session.exec(select(func.count()).select_from(Device)).one():
                return None
        client = registry_client(settings)
        placed: list = []
        try:
            result = generate(db, registry_url, client.token(), count, seed, progress=Bars(), placed=placed)
        finally:
            client.close()
        write_demo_list(data_dir, placed)
        return result
    finally:
        db.engine.dispose()


def cmd_import(args: argparse.Namespace) -> int:
    """Place every device of a CSV or GeoJSON file in its grid and store them all, or none (bad fields listed)."""
    from gridgov_common.errors import DomainError
    from gridgov_sensing.devices import importer
    from gridgov_sensing.devices.handlers import import_devices
    from gridgov_sensing.runtime import registry_client

    path = Path(args.file)
    body = path.read_bytes()
    settings, db = _database(args)
    if args.registry_url:
        settings.registry_url = args.registry_url
    geojson = path.suffix.lower() in (".geojson", ".json") or body.lstrip()[:1] == b"{"
    bars = Bars(enabled=not args.quiet)
    counts = {"locate": 0, "store": 0}
    t0 = time.perf_counter()
    try:
        rows = (importer.read_geojson if geojson else importer.read_csv)(body, max_rows=args.max_rows)
        prefix = "features" if geojson else "rows"

        def progress(stage: str, n: int) -> None:
            counts[stage] += n
            bars(stage, counts[stage], len(rows))

        registry = registry_client(settings)
        try:
            result = import_devices(db, registry, [(f"{prefix}[{i}].", row) for i, row in enumerate(rows)],
                                    datetime.now(UTC), progress)
        finally:
            registry.close()
    except DomainError as exc:
        bars.close()
        print(f"import FAILED, nothing stored: {exc.message}", file=sys.stderr)
        for detail in exc.details[:args.show]:
            print(f"  {detail.field}: {detail.reason}", file=sys.stderr)
        return 1
    finally:
        bars.close()
        db.engine.dispose()
    print(f"devices: {result.imported} new, {result.updated} replaced from {path.name} "
          f"in {time.perf_counter() - t0:.1f} s")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``gridgov sensing …`` on the main parser."""
    sensing = sub.add_parser("sensing", help="sensing: the city's cameras and sensors")
    ssub = sensing.add_subparsers(dest="sensing_command", required=True)
    devices = ssub.add_parser("devices", help="generate or import devices")
    dsub = devices.add_subparsers(dest="devices_command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--quiet", action="store_true", help="no progress bars")
    common.add_argument("--registry-url", help="grid-registry's URL (default GRIDGOV_SENSING_REGISTRY_URL, or the "
                                               "local one)")

    gen = dsub.add_parser("generate", parents=[common],
                          help="place devices along the grids in effect (Dongguan scale: --count 450000)")
    gen.add_argument("--count", type=int, default=450_000, help="how many devices (default 450,000)")
    gen.add_argument("--seed", type=int, default=16, help="the placement's seed (default 16)")
    gen.add_argument("--cameras-share", type=float, default=0.8, help="share of cameras (default 0.8)")
    gen.set_defaults(func=cmd_generate)

    imp = dsub.add_parser("import", parents=[common], help="import devices from CSV or GeoJSON (all or nothing)")
    imp.add_argument("file", help="CSV (device_id,kind,name,lon,lat[,owner_department,algorithms]) or GeoJSON "
                                  "points")
    imp.add_argument("--max-rows", type=int, default=1_000_000, help="refuse files with more devices")
    imp.add_argument("--show", type=int, default=50, help="how many refused fields to print (default 50)")
    imp.set_defaults(func=cmd_import)
