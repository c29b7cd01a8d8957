"""Benchmark: report accepted → ticket dispatched, on the embedded stack and on Kafka + PostGIS, in one run.

For each stack: (1) latency at a fixed rate of 100 reports/s (p50/p99 of dispatch time − intake's
submitted_at, both read from the services' databases); (2) sustained throughput: wrk posts reports as fast as
it can for a while, then we wait until every accepted report is a dispatched ticket, and divide;
(3) peak RSS (VmHWM) of the four service processes.

Run:  uv run python bench/loop_throughput.py [--stacks embedded,distributed] [--rate 100] [--seconds 20]
(the distributed stack needs `deploy/local/up.sh` and GRIDGOV_TEST_KAFKA_BOOTSTRAP_SERVERS /
GRIDGOV_TEST_PG_ADMIN_URL, as `make test` sets them). Results: bench/results/loop_throughput.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gridgov_cli.demo import DEMO_POINT  # noqa: E402
from tests.support.stack import Stack  # noqa: E402

BODY = {"category_code": "01002", "description": "bench", "lon": DEMO_POINT[0], "lat": DEMO_POINT[1]}


def _ts(value) -> float:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def db_url(stack: Stack, service: str, prefix: str) -> str:
    """The SQLAlchemy URL of a service's database on this stack."""
    if stack.kind == "distributed":
        return stack.env[f"{prefix}DATABASE_URL"]
    return f"sqlite:///{stack.data_dir / (service + '.db')}"


class Timings:
    """Reads submission and dispatch times straight from the intake and dispatch databases."""

    def __init__(self, stack: Stack):
        self.intake = create_engine(db_url(stack, "event-intake", "GRIDGOV_INTAKE_"))
        self.dispatch = create_engine(db_url(stack, "dispatch", "GRIDGOV_DISPATCH_"))

    def submitted(self, since: float) -> dict[str, float]:
        """report id → submitted_at (epoch seconds) of reports submitted after ``since``."""
        with self.intake.connect() as c:
            rows = c.execute(text("SELECT id, submitted_at FROM report")).all()
        out = {r[0]: _ts(r[1]) for r in rows}
        return {k: v for k, v in out.items() if v >= since}

    def dispatched(self) -> dict[str, float]:
        """report id → time of the dispatch transition."""
        with self.dispatch.connect() as c:
            rows = c.execute(text(
                "SELECT t.report_id, tt.at FROM ticket t JOIN ticket_transition tt ON tt.ticket_id = t.id "
                "WHERE tt.action = 'dispatch'")).all()
        return {r[0]: _ts(r[1]) for r in rows}

    def wait_all_dispatched(self, since: float, timeout: float = 600) -> tuple[dict, dict]:
        """Wait until every report submitted after ``since`` has been dispatched."""
        deadline = time.monotonic() + timeout
        while True:
            sub = self.submitted(since)
            disp = self.dispatched()
            if sub and all(r in disp for r in sub):
                return sub, disp
            if time.monotonic() > deadline:
                missing = sum(1 for r in sub if r not in disp)
                raise TimeoutError(f"{missing} of {len(sub)} reports not dispatched after {timeout}s")
            time.sleep(0.5)


def fixed_rate(stack: Stack, rate: float, seconds: float) -> int:
    """Post reports on a fixed schedule (rate per second) from a few threads; returns how many were accepted."""
    total = int(rate * seconds)
    headers = stack.auth(sub="bench", role="grid_worker")
    t0 = time.monotonic() + 0.5
    accepted = [0]
    lock = threading.Lock()
    n_threads = 8

    def worker(k: int) -> None:
        with httpx.Client(timeout=10) as client:
            for i in range(k, total, n_threads):
                delay = t0 + i / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                r = client.post(f"{stack.urls.intake}/v1/reports/patrol", json=BODY, headers=headers)
                if r.status_code == 202:
                    with lock:
                        accepted[0] += 1

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return accepted[0]


WRK_LUA = """
wrk.method = "POST"
wrk.body = '{body}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
"""


def wrk_burst(stack: Stack, seconds: int, connections: int) -> dict:
    """wrk posts reports as fast as the intake takes them; returns wrk's own figures."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(WRK_LUA.format(body=json.dumps(BODY), token=stack.mint(sub="bench", role="grid_worker")))
        script = fh.name
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script,
                          f"{stack.urls.intake}/v1/reports/patrol"], capture_output=True, text=True, check=True)
    os.unlink(script)
    rps = next(float(line.split()[1]) for line in out.stdout.splitlines() if line.startswith("Requests/sec"))
    non2xx = next((int(line.split()[-1]) for line in out.stdout.splitlines() if "Non-2xx" in line), 0)
    return {"http_requests_per_s": rps, "non_2xx": non2xx, "wrk_output": out.stdout}


def peak_rss_mb(stack: Stack) -> dict[str, float]:
    """VmHWM (peak resident set) of each service process, in MB."""
    out = {}
    for name, proc in stack.procs.items():
        status = Path(f"/proc/{proc.pid}/status").read_text()
        kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
        out[name] = round(kb / 1024, 1)
    return out


def cpu_seconds(stack: Stack) -> dict[str, float]:
    """CPU time (user + system) each service process has used so far."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for name, proc in stack.procs.items():
        fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        out[name] = (int(fields[11]) + int(fields[12])) / tick
    return out


def infra_cpu_seconds() -> float:
    """CPU time used so far by the PostgreSQL and Kafka (java) processes on this machine."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            comm = (proc / "comm").read_text().strip()
            if comm in ("postgres", "java"):
                fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / tick
        except OSError:
            continue
    return total


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def run_stack(kind: str, rate: float, seconds: float, burst_seconds: int, connections: int) -> dict:
    """All measurements on one stack."""
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(kind, Path(tmp), extra_env={"GRIDGOV_LOG_JSON": "true"})
        stack.start()
        try:
            timings = Timings(stack)
            fixed_rate(stack, 20, 2)  # warm-up
            timings.wait_all_dispatched(0)

            since = time.time()
            accepted = fixed_rate(stack, rate, seconds)
            sub, disp = timings.wait_all_dispatched(since)
            lat_ms = [(disp[r] - sub[r]) * 1000 for r in sub]
            latency = {"rate_per_s": rate, "reports": accepted, "p50_ms": round(statistics.median(lat_ms), 1),
                       "p99_ms": round(percentile(lat_ms, 0.99), 1), "max_ms": round(max(lat_ms), 1)}
            print(f"[{kind}] fixed {rate}/s: {latency}", flush=True)

            since = time.time()
            cpu_before = cpu_seconds(stack)
            infra_before = infra_cpu_seconds()
            wrk = wrk_burst(stack, burst_seconds, connections)
            sub, disp = timings.wait_all_dispatched(since)
            cpu_after = cpu_seconds(stack)
            cpu_ms = {n: round((cpu_after[n] - cpu_before[n]) * 1000 / len(sub), 2) for n in cpu_after}
            if kind == "distributed":
                cpu_ms["postgres+kafka"] = round((infra_cpu_seconds() - infra_before) * 1000 / len(sub), 2)
            first, last = min(sub.values()), max(disp[r] for r in sub)
            throughput = {"reports": len(sub), "seconds": round(last - first, 2),
                          "reports_per_s": round(len(sub) / (last - first), 1),
                          "http_accept_per_s": wrk["http_requests_per_s"], "non_2xx": wrk["non_2xx"],
                          "connections": connections, "cpu_ms_per_report": cpu_ms}
            print(f"[{kind}] sustained: {throughput}", flush=True)
            rss = peak_rss_mb(stack)
            print(f"[{kind}] peak RSS MB: {rss} (sum {sum(rss.values()):.0f})", flush=True)
            return {"latency": latency, "throughput": throughput, "peak_rss_mb": rss,
                    "peak_rss_mb_sum": round(sum(rss.values()), 1)}
        finally:
            stack.close()


def main() -> None:
    """Run the benchmark on the chosen stacks and save the results."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--stacks", default="embedded,distributed")
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--burst-seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    results = {"when": datetime.now(UTC).isoformat(timespec="seconds"),
               "machine": f"{platform.machine()}, {os.cpu_count()} cores", "stacks": {}}
    for kind in args.stacks.split(","):
        results["stacks"][kind] = run_stack(kind, args.rate, args.seconds, args.burst_seconds, args.connections)
    out = ROOT / "bench" / "results" / "loop_throughput.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"saved {out}")


if __name__ == "__main__":
    main()
