"""Peak RSS (VmHWM) of each process `gridgov up` starts, with the demo data (issue #18, item 5).

Starts the seven services as `gridgov up` does (``gridgov_cli.stack.service_env`` + ``spawn``: same environment,
MALLOC_ARENA_MAX=2) on a data directory that already holds the demo data (run `gridgov up` on it once, or pass
``--prepare`` to load it here: devices and the 90 days of history, and the classifier unless
GRIDGOV_ASSIST_TRAIN=0), on ports 9150–9156 of 127.0.0.1. Then, bounded in count and time:

1. ``started``: VmHWM once every service answers /readyz (import cost, preloads, caches filled at start);
2. ``loop``: after ``--reports`` patrol reports went round the loop (accepted → located → dispatched → notices);
3. ``rare``: after one call of each rarely used endpoint that loads heavy modules (assist classify, repeat callers,
   knowledge search), so the cost of loading them on demand is on record too.

``--src-root DIR`` runs the services from another copy of the sources (e.g. ``git archive <commit> services libs
cli | tar -x -C DIR``), put first on PYTHONPATH: the same venv and data, the code before a change.

Run:  uv run --frozen python bench/memory_peak.py --data-dir /tmp/gg-mem --label after [--src-root DIR]
Results are merged into bench/results/memory.json (or --out) under ``runs[label]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gridgov_cli.demo import DEMO_POINT  # noqa: E402
from gridgov_cli.stack import SERVICES, service_env, spawn, wait_ready  # noqa: E402
from gridgov_common.auth import mint_token  # noqa: E402

PORTS = {name: 9150 + i for i, name in enumerate(["console", "event-intake", "grid-registry", "dispatch",
                                                   "notification", "sensing", "analytics"])}
SECRET = "memory-bench-secret-not-for-production"


def vm(pid: int) -> dict[str, float]:
    """VmHWM and VmRSS of a process, in MB."""
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    out = {}
    for line in status:
        if line.startswith(("VmHWM", "VmRSS")):
            out[line.split(":")[0]] = round(int(line.split()[1]) / 1024, 1)
    return out


def snapshot(procs: dict[str, subprocess.Popen]) -> dict:
    """Peak RSS per process and their sum, in MB."""
    per = {name: vm(proc.pid)["VmHWM"] for name, proc in procs.items()}
    return {"peak_rss_mb": per, "peak_rss_mb_sum": round(sum(per.values()), 1), "loadavg": loadavg()}


def loadavg() -> str:
    """The machine's load averages now."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def prepare(data_dir: Path, env: dict[str, str]) -> None:
    """Load the demo data as `gridgov up` does (the services must be up): classifier, devices, history."""
    from gridgov_cli import stack as cli_stack

    os.environ.update({k: v for k, v in env.items() if k.startswith("GRIDGOV_")})
    cli_stack._assist(data_dir)
    cli_stack._devices(data_dir, f"http://127.0.0.1:{PORTS['grid-registry']}")
    cli_stack._history(data_dir)


def drive_loop(data_dir: Path, reports: int, timeout: float) -> dict:
    """Post ``reports`` patrol reports and wait (bounded) until dispatch has a ticket for each."""
    from sqlalchemy import create_engine, text

    token = mint_token(SECRET, sub="bench", role="grid_worker")
    body = {"category_code": "01002", "description": "memory bench", "lon": DEMO_POINT[0], "lat": DEMO_POINT[1]}
    ids = []
    with httpx.Client(timeout=30, headers={"Authorization": f"Bearer {token}"}) as client:
        for _ in range(reports):
            r = client.post(f"http://127.0.0.1:{PORTS['event-intake']}/v1/reports/patrol", json=body)
            if r.status_code == 202:
                ids.append(r.json().get("id") or r.json().get("report_id"))
    engine = create_engine(f"sqlite:///{data_dir / 'dispatch.db'}")
    deadline = time.monotonic() + timeout
    done = 0
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            done = conn.execute(text("SELECT count(*) FROM ticket WHERE report_id IN "
                                     "(SELECT value FROM json_each(:ids))"), {"ids": json.dumps(ids)}).scalar_one()
        if done >= len(ids):
            break
        time.sleep(0.5)
    engine.dispose()
    return {"posted": reports, "accepted": len(ids), "dispatched": done}


def call_rare(timeout: float = 120) -> dict[str, int]:
    """One call of each endpoint that loads heavy modules on demand; their status codes."""
    headers = {"Authorization": f"Bearer {mint_token(SECRET, sub='bench', role='command_centre')}"}
    base = f"http://127.0.0.1:{PORTS['event-intake']}"
    out = {}
    with httpx.Client(timeout=timeout, headers=headers) as client:
        out["assist_classify"] = client.post(f"{base}/v1/assist/classify",
                                             json={"text": "楼下烧烤店油烟很大"}).status_code
        out["assist_repeats"] = client.post(f"{base}/v1/assist/repeats", json={
            "caller_phone": "13800138000", "text": "楼下烧烤又吵到凌晨"}).status_code
        out["knowledge_search"] = client.get(f"{base}/v1/knowledge/search", params={"q": "怎么办狗证"}).status_code
    return out


def main() -> None:
    """Start the stack, measure, save."""
    parser = argparse.ArgumentParser(description="Peak RSS (VmHWM) of each `gridgov up` process with the demo data")
    parser.add_argument("--data-dir", type=Path, required=True,
                        help="data directory holding (or to hold) the demo data")
    parser.add_argument("--label", required=True, help="name of this run in the results (e.g. before, after)")
    parser.add_argument("--src-root", type=Path, help="run the services from this copy of services/libs/cli")
    parser.add_argument("--prepare", action="store_true", help="load the demo data first, as `gridgov up` does")
    parser.add_argument("--reports", type=int, default=300, help="patrol reports driven round the loop (default 300)")
    parser.add_argument("--timeout", type=float, default=300, help="bound of each wait, seconds (default 300)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "memory.json")
    args = parser.parse_args()

    data_dir = args.data_dir.resolve()
    base = {k: v for k, v in os.environ.items() if not k.startswith("GRIDGOV_") or k == "GRIDGOV_ASSIST_TRAIN"}
    env = service_env(base, data_dir, PORTS)
    env.update({"GRIDGOV_JWT_SECRET": SECRET, "PYTHONUNBUFFERED": "1"})
    if args.src_root:
        src = args.src_root.resolve()
        paths = [src / "libs" / "common" / "src", src / "cli" / "src",
                 *sorted(p / "src" for p in (src / "services").iterdir() if (p / "src").is_dir())]
        env["PYTHONPATH"] = os.pathsep.join(str(p) for p in paths)
    procs = {name: spawn(SERVICES[name], env, data_dir / "logs-memory") for name in SERVICES}
    result: dict = {"when": datetime.now(UTC).isoformat(timespec="seconds"),
                    "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                    "src_root": str(args.src_root) if args.src_root else "working tree",
                    "assist_train": env.get("GRIDGOV_ASSIST_TRAIN", "1")}
    try:
        wait_ready({n: f"http://127.0.0.1:{p}" for n, p in PORTS.items()}, args.timeout)
        if args.prepare:
            prepare(data_dir, env)
        time.sleep(5)  # let start-up work (preloads, catch-up of the consumers) settle
        result["started"] = snapshot(procs)
        print("started", result["started"], flush=True)
        result["loop_driven"] = drive_loop(data_dir, args.reports, args.timeout)
        time.sleep(3)
        result["loop"] = snapshot(procs)
        print("loop", result["loop_driven"], result["loop"], flush=True)
        result["rare_calls"] = call_rare()
        result["rare"] = snapshot(procs)
        print("rare", result["rare_calls"], result["rare"], flush=True)
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
    saved = json.loads(args.out.read_text()) if args.out.exists() else {"runs": {}}
    saved["runs"][args.label] = result
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(saved, indent=2, ensure_ascii=False) + "\n")
    print(f"saved {args.out} [{args.label}]")


if __name__ == "__main__":
    main()
