"""Memory of the processes `gridgov up` starts, with the demo data (issue #18, item 5): peak RSS, PSS and USS.

Summed RSS counts every page once per process that maps it: the libraries all seven services import (~79 MB
each) are counted seven times even when the processes share them. So each snapshot records, per process,
from /proc: VmHWM (peak RSS), VmRSS, and from ``/proc/<pid>/smaps_rollup`` Pss (each shared page divided among
the processes that map it: the sum over processes is what the stack costs the machine) and USS
(Private_Clean + Private_Dirty: what ending that process alone would free). A sampler also reads the summed
PSS and USS every second throughout, so the peak of the sums is on record, not only the three points.

Variants (``--variant LABEL=MODE[@SRC_ROOT]``, repeatable) say how the services are started, as
``gridgov_cli.stack`` does: ``spawn`` (each a fresh interpreter, as `gridgov up` did up to c49b535), ``fork``
(one launcher imports the libraries once and forks one child per service; the launcher is counted as a process
of the stack) or ``one-process`` (all services in one interpreter); or ``up`` / ``up-one-process``: `gridgov up`
itself (``run_up``, as `gridgov up` calls it, with ``--timeout`` as its readiness bound), measuring its whole
process tree, the supervising CLI included (``cli``; ``demo-data`` while its child checks the demo data). The
``*_five_mb`` sums count console, event-intake,
grid-registry, dispatch, notification and the launcher, not the CLI. ``@SRC_ROOT`` runs the services, the
launcher and `gridgov up` from another copy of the sources (``git worktree add DIR <commit>``), first on
PYTHONPATH: the same venv and data, other code. The variants run interleaved, ``--rounds`` times (A, B, C, A, B,
C, ...), each on a fresh copy (``cp -a``) of ``--proto``: a data directory that holds the demo data (``--prepare
--data-dir DIR`` loads it: the classifier unless GRIDGOV_ASSIST_TRAIN=0, 20,000 devices and 90 days of history, as
`gridgov up` does).

Services listen on ports 9150–9156 of 127.0.0.1. Per run, bounded in count and time:

1. ``started``: every service answers /readyz, plus 5 s (import cost, preloads, caches filled at start);
2. ``loop``: after ``--reports`` patrol reports went round the loop one by one (accepted → dispatched);
3. ``rare``: after one call of each rarely used endpoint that loads heavy modules (assist classify, repeat callers,
   knowledge search);
4. ``burst`` (``--burst-seconds`` > 0): wrk posts reports as fast as the intake takes them for that long (8
   connections), then the wait until every one is dispatched: reports/s (accepted ÷ time until the last is
   dispatched) and the stack's CPU ms per report, to weigh memory against throughput.

Run:  uv run --frozen python bench/memory_peak.py --proto /tmp/gg/D/proto --work /tmp/gg/D/runs \\
        --variant before=up@/tmp/gg/D/base --variant after=up --variant one-process=up-one-process \\
        --rounds 3 --burst-seconds 15
Results go to bench/results/memory.json (or --out); the file's earlier content is kept under "previous".
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
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
# The five processes issue #18 item 5 names (sensing and analytics came later).
FIVE = ("console", "event-intake", "grid-registry", "dispatch", "notification")
SECRET = "memory-bench-secret-not-for-production"
BODY = {"category_code": "01002", "description": "memory bench", "lon": DEMO_POINT[0], "lat": DEMO_POINT[1]}
METRICS = ("vm_hwm", "vm_rss", "pss", "uss")


def memory(pid: int) -> dict[str, float]:
    """VmHWM, VmRSS, PSS and USS of a process, in MB."""
    kb: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmHWM:", "VmRSS:")):
            kb[line.split(":")[0]] = int(line.split()[1])
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, _, rest = line.partition(":")
        kb[key] = int(rest.split()[0])
    mb = {"vm_hwm": kb["VmHWM"], "vm_rss": kb["VmRSS"], "pss": kb["Pss"],
          "uss": kb["Private_Clean"] + kb["Private_Dirty"]}
    return {k: round(v / 1024, 1) for k, v in mb.items()}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (its reaped children's not included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def loadavg() -> str:
    """The machine's load averages now."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


@dataclass
class Started:
    """One start of the stack in one launch mode: the process(es) this bench started and how to find them all."""

    mode: str
    procs: list[subprocess.Popen]
    log_dir: Path
    pids_seen: dict[str, int] = field(default_factory=dict)

    def pids(self) -> dict[str, int]:
        """Every process of the stack now, by name (the fork launcher's children from its pids file)."""
        if self.mode.startswith("up"):
            return tree(self.procs[0].pid)
        if self.mode == "spawn":
            return {name: proc.pid for name, proc in zip(SERVICES, self.procs, strict=True)}
        if self.mode == "one-process":
            return {"one-process": self.procs[0].pid}
        recorded = json.loads((self.log_dir / "launcher-pids.json").read_text())
        return {"launcher": recorded["launcher"], **recorded["services"]}

    def stop(self) -> None:
        """SIGTERM (SIGINT to `gridgov up`: Ctrl-C), then SIGKILL after 25 s (a launcher stops its children)."""
        for proc in self.procs:
            proc.send_signal(signal.SIGINT if self.mode.startswith("up") else signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(25)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def tree(root: int) -> dict[str, int]:
    """A process and all its descendants, by name: ``cli`` (the root), ``launcher``, ``one-process``, the services
    (by their module, or the name a forked one gives itself), ``demo-data`` (`gridgov up`'s loading child)."""
    modules = {svc.module: name for name, svc in SERVICES.items()}
    names = set(SERVICES)
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out: dict[str, int] = {}
    pending = [root]
    while pending:
        pid = pending.pop()
        kids = children.get(pid, [])
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
            comm = Path(f"/proc/{pid}/comm").read_text().strip()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if pid == root:
            name = "cli"
        elif comm in names:
            name = comm
        elif "-m" in argv and argv[argv.index("-m") + 1] in modules:
            name = modules[argv[argv.index("-m") + 1]]
        elif "gridgov_cli.launcher" in argv:
            name = "one-process" if "--one-process" in argv else "launcher"
        else:
            name = "demo-data" if "demo-data" not in out else f"demo-data-{pid}"
        out[name] = pid
        pending.extend(kids)
    return out


def start(mode: str, env: dict[str, str], data_dir: Path, timeout: float) -> Started:
    """Start the seven services as `gridgov up --launch MODE` does (``up``: run `gridgov up` itself)."""
    log_dir = data_dir / "logs-memory"
    if mode.startswith("up"):
        # `gridgov up` is run_up(data_dir): called so, with the bench's readiness bound instead of its 90 s (a machine
        # loaded by other work can take longer to start seven fresh interpreters: c49b535's `gridgov up` then fails).
        mode_arg = ", mode='one-process'" if mode == "up-one-process" else ""
        code = ("import sys; from pathlib import Path; from gridgov_cli.stack import run_up; "
                f"sys.exit(run_up(Path(sys.argv[1]), ready_timeout=float(sys.argv[2]){mode_arg}))")
        cmd = [sys.executable, "-c", code, str(data_dir), str(timeout)]
        log_dir.mkdir(parents=True, exist_ok=True)
        with (log_dir / "gridgov-up.log").open("ab") as log:
            return Started(mode, [subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)],
                           data_dir / "logs")
    if mode == "spawn":
        return Started(mode, [spawn(SERVICES[name], env, log_dir) for name in SERVICES], log_dir)
    from gridgov_cli.stack import launch

    return Started(mode, [launch(list(SERVICES), env, log_dir, one_process=mode == "one-process")], log_dir)


def snapshot(pids: dict[str, int]) -> dict:
    """Memory of each process, the sums over all of them and over the five, their CPU seconds, the load."""
    per = {}
    for name, pid in pids.items():
        try:
            per[name] = memory(pid)
        except (FileNotFoundError, ProcessLookupError):  # ended since it was listed (a loading child)
            continue
    pids = {name: pid for name, pid in pids.items() if name in per}
    out: dict = {"per_process_mb": per}
    for metric in METRICS:
        out[f"{metric}_sum_mb"] = round(sum(m[metric] for m in per.values()), 1)
        if "one-process" not in per:
            # The five services, plus the launcher they were forked from (it holds their shared pages too).
            five = [m[metric] for name, m in per.items() if name in FIVE or name == "launcher"]
            out[f"{metric}_five_mb"] = round(sum(five), 1)
    out["cpu_s"] = round(sum(cpu_seconds(pid) for pid in pids.values()), 2)
    out["loadavg"] = loadavg()
    return out


class PeakSampler(threading.Thread):
    """Reads the stack's summed PSS and USS every second; keeps the highest of each."""

    def __init__(self, started: Started):
        super().__init__(daemon=True)
        self.started = started
        self.halt = threading.Event()
        self.peak = {"pss_sum_mb": 0.0, "uss_sum_mb": 0.0, "samples": 0}

    def run(self) -> None:
        """Sample until stopped."""
        while not self.halt.wait(1.0):
            try:
                per = [memory(pid) for pid in self.started.pids().values()]
            except (OSError, KeyError, ValueError):  # a process restarting, the pids file being replaced
                continue
            self.peak["samples"] += 1
            for metric in ("pss", "uss"):
                key = f"{metric}_sum_mb"
                self.peak[key] = max(self.peak[key], round(sum(m[metric] for m in per), 1))


def prepare(data_dir: Path, env: dict[str, str]) -> None:
    """Load the demo data as `gridgov up` does (the services must be up): classifier, devices, history."""
    from gridgov_cli import stack as cli_stack

    os.environ.update({k: v for k, v in env.items() if k.startswith("GRIDGOV_")})
    cli_stack._assist(data_dir)
    cli_stack._devices(data_dir, f"http://127.0.0.1:{PORTS['grid-registry']}")
    cli_stack._history(data_dir)


def _tickets_for(engine, ids: list[str]) -> int:
    from sqlalchemy import text

    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM ticket WHERE report_id IN (SELECT value FROM json_each(:ids))"),
                            {"ids": json.dumps(ids)}).scalar_one()


def wait_dispatched(data_dir: Path, ids: list[str], timeout: float) -> tuple[int, float]:
    """Wait (bounded) until dispatch has a ticket for each report; how many it has and when the wait ended."""
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{data_dir / 'dispatch.db'}")
    deadline = time.monotonic() + timeout
    done = 0
    while time.monotonic() < deadline:
        done = _tickets_for(engine, ids)
        if done >= len(ids):
            break
        time.sleep(0.2)
    engine.dispose()
    return done, time.monotonic()


def drive_loop(data_dir: Path, reports: int, timeout: float) -> dict:
    """Post ``reports`` patrol reports one by one and wait (bounded) until dispatch has a ticket for each."""
    token = mint_token(SECRET, sub="bench", role="grid_worker")
    ids = []
    with httpx.Client(timeout=30, headers={"Authorization": f"Bearer {token}"}) as client:
        for _ in range(reports):
            r = client.post(f"http://127.0.0.1:{PORTS['event-intake']}/v1/reports/patrol", json=BODY)
            if r.status_code == 202:
                ids.append(r.json().get("id") or r.json().get("report_id"))
    done, _ = wait_dispatched(data_dir, ids, timeout)
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


WRK_LUA = """
wrk.method = "POST"
wrk.body = '{body}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
"""


def burst(data_dir: Path, started: Started, seconds: int, timeout: float) -> dict:
    """wrk posts reports for ``seconds`` (8 connections); then wait until each accepted one is dispatched."""
    import sqlite3

    intake_db = data_dir / "event-intake.db"

    def report_ids_after(rowid: int) -> list[str]:
        with sqlite3.connect(intake_db, timeout=30) as conn:
            return [r[0] for r in conn.execute("SELECT id FROM report WHERE rowid > ?", (rowid,))]

    with sqlite3.connect(intake_db, timeout=30) as conn:
        before_rowid = conn.execute("SELECT coalesce(max(rowid), 0) FROM report").fetchone()[0]
    token = mint_token(SECRET, sub="bench", role="grid_worker")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(WRK_LUA.format(body=json.dumps(BODY), token=token))
        script = fh.name
    pids = started.pids()
    cpu0 = sum(cpu_seconds(pid) for pid in pids.values())
    t0 = time.monotonic()
    out = subprocess.run(["wrk", "-t2", "-c8", f"-d{seconds}s", "--timeout", "10s", "-s", script,
                          f"http://127.0.0.1:{PORTS['event-intake']}/v1/reports/patrol"],
                         capture_output=True, text=True, check=True, timeout=seconds + 60)
    os.unlink(script)
    posted_s = time.monotonic() - t0
    ids = report_ids_after(before_rowid)
    done, t_end = wait_dispatched(data_dir, ids, timeout)
    cpu = sum(cpu_seconds(pid) for pid in started.pids().values()) - cpu0
    non2xx = next((int(line.split()[-1]) for line in out.stdout.splitlines() if "Non-2xx" in line), 0)
    return {"seconds": seconds, "accepted": len(ids), "dispatched": done, "non_2xx": non2xx,
            "post_s": round(posted_s, 1), "until_dispatched_s": round(t_end - t0, 1),
            "reports_per_s": round(len(ids) / (t_end - t0), 1) if ids else 0.0,
            "cpu_ms_per_report": round(1000 * cpu / len(ids), 2) if ids else None}


def run_once(mode: str, src_root: Path | None, data_dir: Path, args: argparse.Namespace) -> dict:
    """Start the stack in one mode on one data directory, measure at each point, stop it."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("GRIDGOV_") or k == "GRIDGOV_ASSIST_TRAIN"}
    env = service_env(base, data_dir, PORTS)
    env.update({"GRIDGOV_JWT_SECRET": SECRET, "PYTHONUNBUFFERED": "1"})
    if src_root:
        paths = [src_root / "libs" / "common" / "src", src_root / "cli" / "src",
                 *sorted(p / "src" for p in (src_root / "services").iterdir() if (p / "src").is_dir())]
        env["PYTHONPATH"] = os.pathsep.join(str(p) for p in paths)
    result: dict = {"mode": mode, "src_root": str(src_root) if src_root else "working tree",
                    "data_dir": str(data_dir), "loadavg_start": loadavg()}
    t0 = time.monotonic()
    started = start(mode, env, data_dir, args.timeout)
    sampler = PeakSampler(started)
    try:
        wait_ready({n: f"http://127.0.0.1:{p}" for n, p in PORTS.items()}, args.timeout)
        result["ready_s"] = round(time.monotonic() - t0, 1)
        sampler.start()
        if args.prepare:
            prepare(data_dir, env)
        if mode.startswith("up"):
            # `gridgov up` checks the demo data in a child (or, before, in itself): measure once that is done.
            deadline = time.monotonic() + args.timeout
            while time.monotonic() < deadline and any(n.startswith("demo-data") for n in started.pids()):
                time.sleep(0.5)
            # Before, the CLI checks it in itself: wait until the CLI is idle (under 50 ms of CPU in a second).
            cli = started.procs[0].pid
            while time.monotonic() < deadline:
                used = cpu_seconds(cli)
                time.sleep(1.0)
                if cpu_seconds(cli) - used < 0.05:
                    break
            result["demo_data_checked_s"] = round(time.monotonic() - t0, 1)
        time.sleep(5)  # let start-up work (preloads, catch-up of the consumers) settle
        result["started"] = snapshot(started.pids())
        result["loop_driven"] = drive_loop(data_dir, args.reports, args.timeout)
        time.sleep(3)
        result["loop"] = snapshot(started.pids())
        result["rare_calls"] = call_rare()
        result["rare"] = snapshot(started.pids())
        if args.burst_seconds > 0:
            result["burst_driven"] = burst(data_dir, started, args.burst_seconds, args.timeout)
            result["burst"] = snapshot(started.pids())
    finally:
        sampler.halt.set()
        started.stop()
    result["peak_of_sums_mb"] = sampler.peak
    result["loadavg_end"] = loadavg()
    return result


def medians(rounds: list[dict]) -> dict:
    """Per point: the median over the rounds of each sum, of each process's metrics, and of the burst's figures."""
    out: dict = {}
    for point in ("started", "loop", "rare", "burst"):
        snaps = [r[point] for r in rounds if point in r]
        if not snaps:
            continue
        keys = [k for k in snaps[0] if k.endswith("_sum_mb") or k.endswith("_five_mb") or k == "cpu_s"]
        med = {k: round(statistics.median(s[k] for s in snaps), 1) for k in keys}
        med["per_process_mb"] = {
            name: {m: round(statistics.median(s["per_process_mb"][name][m] for s in snaps), 1) for m in METRICS}
            for name in snaps[0]["per_process_mb"] if all(name in s["per_process_mb"] for s in snaps)}
        out[point] = med
    bursts = [r["burst_driven"] for r in rounds if "burst_driven" in r]
    if bursts:
        out["burst_driven"] = {k: statistics.median(b[k] for b in bursts)
                               for k in ("reports_per_s", "cpu_ms_per_report", "until_dispatched_s")
                               if all(b[k] is not None for b in bursts)}
    out["peak_of_sums_mb"] = {k: statistics.median(r["peak_of_sums_mb"][k] for r in rounds)
                              for k in ("pss_sum_mb", "uss_sum_mb")}
    out["ready_s"] = statistics.median(r["ready_s"] for r in rounds)
    return out


def main() -> None:
    """Run the variants interleaved, save the rounds and their medians."""
    parser = argparse.ArgumentParser(description="VmHWM, PSS and USS of each `gridgov up` process with the demo data")
    parser.add_argument("--proto", type=Path, help="prepared data directory; each run gets a fresh copy of it")
    parser.add_argument("--work", type=Path, help="where the copies go (each removed after its run)")
    parser.add_argument("--data-dir", type=Path, help="run once in place on this data directory (with --prepare)")
    parser.add_argument("--prepare", action="store_true", help="load the demo data first, as `gridgov up` does")
    parser.add_argument("--variant", action="append", default=[],
                        help="LABEL=MODE[@SRC_ROOT], MODE one of spawn, fork, one-process (repeatable)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of all variants, interleaved (default 3)")
    parser.add_argument("--reports", type=int, default=300, help="patrol reports driven round the loop (default 300)")
    parser.add_argument("--burst-seconds", type=int, default=0, help="wrk burst length, seconds (0: none)")
    parser.add_argument("--timeout", type=float, default=300, help="bound of each wait, seconds (default 300)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "memory.json")
    args = parser.parse_args()

    variants = []
    for spec in args.variant or ["after=fork"]:
        label, _, rest = spec.partition("=")
        mode, _, src = rest.partition("@")
        variants.append((label, mode, Path(src).resolve() if src else None))
    runs: dict[str, list[dict]] = {label: [] for label, _, _ in variants}
    record: dict = {"when": datetime.now(UTC).isoformat(timespec="seconds"),
                    "machine": f"{platform.machine()}, {os.cpu_count()} cores", "loadavg_start": loadavg(),
                    "assist_train": os.environ.get("GRIDGOV_ASSIST_TRAIN", "1"), "reports": args.reports,
                    "burst_seconds": args.burst_seconds,
                    "variants": {label: {"mode": mode, "src_root": str(src) if src else "working tree"}
                                 for label, mode, src in variants}}
    for round_no in range(1 if args.data_dir else args.rounds):
        for label, mode, src in variants:
            if args.data_dir:
                data_dir = args.data_dir.resolve()
            else:
                data_dir = (args.work / f"{label}-{round_no}").resolve()
                shutil.rmtree(data_dir, ignore_errors=True)
                subprocess.run(["cp", "-a", str(args.proto), str(data_dir)], check=True)
            try:
                result = run_once(mode, src, data_dir, args)
            finally:
                if not args.data_dir:
                    shutil.rmtree(data_dir, ignore_errors=True)
            runs[label].append(result)
            s = result["rare"]
            print(f"round {round_no} {label}: ready {result['ready_s']} s; rare sums: HWM {s['vm_hwm_sum_mb']}, "
                  f"PSS {s['pss_sum_mb']}, USS {s['uss_sum_mb']} MB; peak PSS {result['peak_of_sums_mb']}; "
                  f"burst {result.get('burst_driven')}", flush=True)
    record["loadavg_end"] = loadavg()
    record["median"] = {label: medians(rounds) for label, rounds in runs.items()}
    record["rounds"] = runs
    saved = json.loads(args.out.read_text()) if args.out.exists() else {}
    previous = saved.pop("previous", [])
    new = {"notes": [], "latest": record, "previous": ([saved] if saved else []) + previous}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(new, indent=2, ensure_ascii=False) + "\n")
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
