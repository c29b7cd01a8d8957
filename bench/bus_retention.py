"""Benchmark: the embedded log under a steady flow, with its retention applied and without (``EmbeddedBus.prune``).

A publisher appends ``--rate`` messages a second of ``--size`` bytes (batches of 50, four partitions, keys spread)
for ``--seconds``; a consumer group reads and commits them as they come (a service's consumer); in the variant
with retention a pruning thread does what each service's runtime does every ``retention_check_s``
(``--check`` seconds here) with a retention of ``--retention`` seconds. Each variant is a fresh log file; the same
flow; one after the other.

Per variant: the log file's size (``bus.db`` + its WAL) sampled every second, the messages in the log at the end,
the publish call's latency (median, p99, max: a prune holds the file's write lock while it deletes), the prune
passes' durations and what they deleted, and whether the consumer read every message once, in order per
partition.

Run:  uv run --frozen python bench/bus_retention.py [--seconds 90] [--rate 2000] [--retention 15] [--save]
Results: bench/results/bus_retention.json (earlier runs kept under "previous").
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

from gridgov_common.bus import embedded
from gridgov_common.bus.embedded import EmbeddedBus
from gridgov_common.bus.interface import OutgoingMessage

RESULTS = Path(__file__).resolve().parent / "results" / "bus_retention.json"
TOPIC = "bench.retention"
PARTITIONS = 4
BATCH = 50


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


def run(seconds: float, rate: int, size: int, retention: float | None, check: float) -> dict:
    """One variant on a fresh log: the flow for ``seconds``, pruning every ``check`` seconds when ``retention``."""
    with tempfile.TemporaryDirectory(prefix="gg-retention-") as tmp:
        path = Path(tmp) / "bus.db"
        bus = EmbeddedBus(path)
        bus.ensure_topics([TOPIC], PARTITIONS, retention_s=retention)
        stop = threading.Event()
        published = 0
        read: dict[int, list[int]] = {p: [] for p in range(PARTITIONS)}
        prunes: list[tuple[float, int]] = []

        def consume() -> None:
            consumer = bus.consumer("bench.retention.readers", [TOPIC])
            try:
                while not stop.is_set() or consumer.behind():
                    records = consumer.poll(timeout=0.2, max_records=500)
                    for r in records:
                        read[r.partition].append(r.offset)
                    consumer.commit(records)
            finally:
                consumer.close()

        def prune() -> None:
            while not stop.wait(check):
                t = time.perf_counter()
                gone = bus.prune()
                prunes.append((time.perf_counter() - t, gone))

        threads = [threading.Thread(target=consume, name="consumer")]
        if retention is not None:
            threads.append(threading.Thread(target=prune, name="prune"))
        for t in threads:
            t.start()
        body = os.urandom(size // 2).hex().encode()[:size]
        latencies: list[float] = []
        sizes: list[tuple[float, int]] = []
        start = time.monotonic()
        next_sample = start
        while (now := time.monotonic()) - start < seconds:
            batch = [OutgoingMessage(TOPIC, f"k{(published + i) % 9973}", body) for i in range(BATCH)]
            t = time.perf_counter()
            bus.publish(batch)
            latencies.append(time.perf_counter() - t)
            published += BATCH
            if now >= next_sample:
                sizes.append((round(now - start, 1), _size(path)))
                next_sample += 1.0
            pause = start + published / rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        achieved = published / (time.monotonic() - start)
        stop.set()
        for t in threads:
            t.join(timeout=120)
        sizes.append((round(time.monotonic() - start, 1), _size(path)))
        conn = bus._conn()
        (kept,) = conn.execute("SELECT count(*) FROM log WHERE topic=?", (TOPIC,)).fetchone()
        (free,) = conn.execute("PRAGMA freelist_count").fetchone()
        bus.close()
        in_order = all(offsets == list(range(offsets[0], offsets[0] + len(offsets))) if offsets else True
                       for offsets in read.values())
        latencies.sort()
        durations = sorted(d for d, _ in prunes)
        return {
            "retention_s": retention, "check_s": check if retention is not None else None,
            "published": published, "rate_achieved": round(achieved, 1),
            "read": sum(len(v) for v in read.values()), "read_once_in_order": in_order,
            "kept_at_end": kept, "free_pages_at_end": free,
            "file_mb_at": {f"{t:.0f}s": round(b / 2**20, 1) for t, b in sizes[::10] + sizes[-1:]},
            "file_mb_end": round(sizes[-1][1] / 2**20, 1), "file_mb_max": round(max(b for _, b in sizes) / 2**20, 1),
            "publish_ms": {"median": round(statistics.median(latencies) * 1e3, 2),
                           "p99": round(latencies[int(0.99 * (len(latencies) - 1))] * 1e3, 2),
                           "max": round(latencies[-1] * 1e3, 2)},
            "prune_passes": len(prunes), "deleted": sum(g for _, g in prunes),
            "prune_pass_ms": ({"median": round(statistics.median(durations) * 1e3, 1),
                               "max": round(durations[-1] * 1e3, 1)} if durations else None),
        }


def main() -> None:
    """Both variants, one after the other; print and optionally save."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=90)
    parser.add_argument("--rate", type=int, default=2000)
    parser.add_argument("--size", type=int, default=1050)  # a ticket event's envelope
    parser.add_argument("--retention", type=float, default=15)
    parser.add_argument("--check", type=float, default=5)
    parser.add_argument("--page-size", type=int, default=embedded.PAGE_SIZE,
                        help="the new log files' page size (the product's by default; 4096: before 2026-12-06)")
    parser.add_argument("--save", action="store_true")
    args = parser.parse_args()
    embedded.PAGE_SIZE = args.page_size
    result = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "flow": {"seconds": args.seconds, "rate": args.rate, "size": args.size, "partitions": PARTITIONS,
                 "batch": BATCH, "page_size": args.page_size},
        "kept_for_ever": run(args.seconds, args.rate, args.size, None, args.check),
        "with_retention": run(args.seconds, args.rate, args.size, args.retention, args.check),
    }
    print(json.dumps(result, indent=1))
    if args.save:
        old = json.loads(RESULTS.read_text()) if RESULTS.exists() else None
        runs = ([old["latest"], *old.get("previous", [])] if old else [])
        RESULTS.write_text(json.dumps({"latest": result, "previous": runs}, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
