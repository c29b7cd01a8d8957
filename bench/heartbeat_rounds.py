"""Benchmark: device presence over HTTP, a gateway's round of heartbeats against one heartbeat per device (#16).

grid-registry and sensing run on the embedded stack (``tests.support.stack.Stack``, loopback); ``--devices`` demo
devices are placed as ``gridgov up`` places them. Then, for ``--rounds`` rounds, the whole set is reported in
``POST /v1/devices/heartbeats`` requests of 5,000 ids (one connection, in a row), and ``--singles`` devices one by
one with ``POST /v1/devices/{id}/heartbeat`` (one keep-alive connection). Figures: the wall time of each request,
per device, and sensing's CPU (its process's user + system time) per device for each way, with what that means for
a city of ``--city`` devices reporting once a ``--interval`` seconds.

Run:  uv run --frozen python bench/heartbeat_rounds.py [--devices 20000] [--rounds 5] [--singles 2000] [--save]
Results: bench/results/heartbeat_rounds.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "results" / "heartbeat_rounds.json"
ROUND = 5000


def _cpu_s(pid: int) -> float:
    """A process's user + system CPU seconds so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    """Place the devices, time both ways, print (and with --save write) the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--singles", type=int, default=2_000)
    ap.add_argument("--city", type=int, default=450_000, help="devices of the city the figures are scaled to")
    ap.add_argument("--interval", type=float, default=60.0, help="seconds between a device's heartbeats")
    ap.add_argument("--save", action="store_true")
    args = ap.parse_args()
    load = os.getloadavg()[0]

    from gridgov_cli.presence import read_demo_list
    from gridgov_cli.sensing import ensure_demo_devices
    from tests.support.stack import SECRET, Stack

    with tempfile.TemporaryDirectory(prefix="gg-heartbeats-") as tmp:
        stack = Stack("embedded", Path(tmp))
        stack.start(["grid-registry", "sensing"])
        try:
            os.environ.update(GRIDGOV_JWT_SECRET=SECRET, GRIDGOV_REGISTRY_PORT=str(stack.ports["grid-registry"]))
            os.environ.pop("GRIDGOV_SENSING_DATABASE_URL", None)
            ensure_demo_devices(stack.data_dir, stack.url("grid-registry"), args.devices)
            ids = [d.device_id for d in read_demo_list(stack.data_dir)]
            headers = stack.auth(sub="bench-gateway", role="device_gateway")
            pid = stack.procs["sensing"].pid
            with httpx.Client(base_url=stack.url("sensing"), headers=headers, timeout=60) as client:
                round_s: list[float] = []
                cpu0 = _cpu_s(pid)
                for _ in range(args.rounds):
                    for start in range(0, len(ids), ROUND):
                        t = time.perf_counter()
                        resp = client.post("/v1/devices/heartbeats", json={"device_ids": ids[start:start + ROUND]})
                        round_s.append(time.perf_counter() - t)
                        resp.raise_for_status()
                        assert resp.json()["recorded"] == len(ids[start:start + ROUND])
                round_cpu = (_cpu_s(pid) - cpu0) / (args.rounds * len(ids))
                single_s: list[float] = []
                cpu0 = _cpu_s(pid)
                for device_id in ids[:args.singles]:
                    t = time.perf_counter()
                    client.post(f"/v1/devices/{device_id}/heartbeat").raise_for_status()
                    single_s.append(time.perf_counter() - t)
                single_cpu = (_cpu_s(pid) - cpu0) / args.singles
        finally:
            stack.close()

    per_s = args.city / args.interval
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"), "devices": len(ids),
        "load_at_start": round(load, 2),
        "round": {"requests": len(round_s), "ids_per_request": ROUND,
                  "median_ms": round(statistics.median(round_s) * 1000, 1),
                  "max_ms": round(max(round_s) * 1000, 1),
                  "wall_us_per_device": round(statistics.median(round_s) / ROUND * 1e6, 2),
                  "sensing_cpu_us_per_device": round(round_cpu * 1e6, 2)},
        "single": {"requests": len(single_s), "median_ms": round(statistics.median(single_s) * 1000, 2),
                   "sensing_cpu_us_per_device": round(single_cpu * 1e6, 1)},
        "city": {"devices": args.city, "interval_s": args.interval,
                 "sensing_cores_rounds": round(per_s * round_cpu, 3),
                 "sensing_cores_singles": round(per_s * single_cpu, 2)},
    }
    print(json.dumps(result, ensure_ascii=False, indent=1))
    if args.save:
        OUT.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
