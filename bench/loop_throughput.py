"""Benchmark: report accepted → ticket dispatched, on the embedded stack and on Kafka + PostGIS, in one run,
for gridgov and for the minimal baseline pipeline (bench/loop_baseline.py) on the same stack.

For each stack and each system (gridgov's services, then the baseline's four processes, one after the other so
they never share the CPUs): (1) latency at a fixed rate (100 reports/s: p50/p99 of dispatch time − submission
time, both read from the databases); (2) sustained throughput: wrk posts reports as fast as it can for a while,
then we wait until every accepted report is dispatched, and divide; CPU ms per report of each process
(user + system time from /proc, so it holds on a busy machine); (3) peak RSS (VmHWM) of each process.
``ratio_to_baseline`` = gridgov's reports/s ÷ the baseline's on the same stack (issue #18 asks ≥ 0.5).

Run:  uv run --frozen python bench/loop_throughput.py [--stacks embedded,distributed] [--seconds 20] [--out F]
(the distributed stack needs `deploy/local/up.sh` and GRIDGOV_TEST_KAFKA_BOOTSTRAP_SERVERS /
GRIDGOV_TEST_PG_ADMIN_URL, as `make test` sets them). Results: bench/results/loop_throughput.json, or --out
(write smoke runs and runs taken on a busy machine to /tmp, not over the saved results).
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

from bench.loop_baseline import Baseline  # noqa: E402
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


GRIDGOV_SUBMITTED = "SELECT id, submitted_at FROM report"
GRIDGOV_DISPATCHED = ("SELECT t.report_id, tt.at FROM ticket t JOIN ticket_transition tt ON tt.ticket_id = t.id "
                      "WHERE tt.action = 'dispatch'")
BASELINE_ROWS = 'SELECT report_id, at FROM "row"'
# The services on the report's path, the baseline's four stages' counterparts (the stack runs sensing,
# analytics and console too: their CPU is in cpu_ms_per_report_sum, not in this share).
LOOP_SERVICES = ("event-intake", "grid-registry", "dispatch", "notification")


class Timings:
    """Reads submission and dispatch times straight from the first and the dispatching stage's databases."""

    def __init__(self, intake_url: str, dispatch_url: str, submitted_sql: str = GRIDGOV_SUBMITTED,
                 dispatched_sql: str = GRIDGOV_DISPATCHED):
        self.intake = create_engine(intake_url)
        self.dispatch = create_engine(dispatch_url)
        self.submitted_sql = submitted_sql
        self.dispatched_sql = dispatched_sql

    @classmethod
    def of_stack(cls, stack: Stack) -> Timings:
        """gridgov's: intake's report.submitted_at, dispatch's dispatch transition."""
        return cls(db_url(stack, "event-intake", "GRIDGOV_INTAKE_"), db_url(stack, "dispatch", "GRIDGOV_DISPATCH_"))

    @classmethod
    def of_baseline(cls, baseline: Baseline) -> Timings:
        """The baseline's: the accept stage's rows, the dispatch stage's rows."""
        return cls(baseline.db_urls["accept"], baseline.db_urls["dispatch"], BASELINE_ROWS, BASELINE_ROWS)

    def submitted(self, since: float) -> dict[str, float]:
        """report id → submitted_at (epoch seconds) of reports submitted after ``since``."""
        with self.intake.connect() as c:
            rows = c.execute(text(self.submitted_sql)).all()
        out = {r[0]: _ts(r[1]) for r in rows}
        return {k: v for k, v in out.items() if v >= since}

    def dispatched(self) -> dict[str, float]:
        """report id → time of the dispatch transition."""
        with self.dispatch.connect() as c:
            rows = c.execute(text(self.dispatched_sql)).all()
        return {r[0]: _ts(r[1]) for r in rows}

    def close(self) -> None:
        """Release the connections (the baseline's databases are dropped after the run)."""
        self.intake.dispose()
        self.dispatch.dispose()

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


def fixed_rate(url: str, token: str, rate: float, seconds: float) -> int:
    """Post reports on a fixed schedule (rate per second) from a few threads; returns how many were accepted."""
    total = int(rate * seconds)
    headers = {"Authorization": f"Bearer {token}"}
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
                r = client.post(f"{url}/v1/reports/patrol", json=BODY, headers=headers)
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


def wrk_burst(url: str, token: str, seconds: int, connections: int) -> dict:
    """wrk posts reports as fast as the intake takes them; returns wrk's own figures."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(WRK_LUA.format(body=json.dumps(BODY), token=token))
        script = fh.name
    # --timeout 10s: on a busy machine an answer can take over wrk's default 2 s; it must count, not vanish.
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency", "-s",
                          script,
                          f"{url}/v1/reports/patrol"], capture_output=True, text=True, check=True,
                         timeout=seconds + 60)
    os.unlink(script)
    rps = next(float(line.split()[1]) for line in out.stdout.splitlines() if line.startswith("Requests/sec"))
    non2xx = next((int(line.split()[-1]) for line in out.stdout.splitlines() if "Non-2xx" in line), 0)
    return {"http_requests_per_s": rps, "non_2xx": non2xx, "wrk_output": out.stdout}


def peak_rss_mb(procs: dict[str, subprocess.Popen]) -> dict[str, float]:
    """VmHWM (peak resident set) of each process, in MB."""
    out = {}
    for name, proc in procs.items():
        status = Path(f"/proc/{proc.pid}/status").read_text()
        kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
        out[name] = round(kb / 1024, 1)
    return out


def cpu_seconds(procs: dict[str, subprocess.Popen]) -> dict[str, float]:
    """CPU time (user + system) each process has used so far."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for name, proc in procs.items():
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


def metric_values(url: str) -> dict[str, float]:
    """A service's unlabelled gridgov_* metrics, read from its /metrics."""
    lines = httpx.get(f"{url}/metrics", timeout=10).text.splitlines()
    return {line.split()[0]: float(line.split()[1]) for line in lines
            if line.startswith("gridgov_") and "{" not in line.split()[0]}


def consumer_totals(metrics_urls: dict[str, str]) -> dict[str, tuple[float, float]]:
    """Per service: (batches, messages) its consumers have worked so far."""
    out = {}
    for name, url in metrics_urls.items():
        value = metric_values(url)
        out[name] = (value.get("gridgov_consumer_batches_total", 0.0),
                     value.get("gridgov_consumer_messages_total", 0.0))
    return out


def settle(metrics_urls: dict[str, str], timeout: float = 300) -> float:
    """Wait until every service's consumers have nothing left and its outbox is empty (twice in a row, 1 s
    apart); the seconds it took. A fresh stack digests its first-start messages first (grid-registry announces
    every grid once): measured before that, the loop's figures would be the start-up's."""
    t0 = time.monotonic()
    quiet = 0
    while quiet < 2:
        if time.monotonic() - t0 > timeout:
            raise TimeoutError(f"the stack did not settle in {timeout} s")
        busy = sum(value.get("gridgov_consumer_lag", 0.0) + value.get("gridgov_outbox_backlog", 0.0)
                   for value in map(metric_values, metrics_urls.values()))
        quiet = quiet + 1 if busy == 0 else 0
        time.sleep(1.0)
    return round(time.monotonic() - t0, 1)


def caught_up(metrics_urls: dict[str, str], timeout: float = 300) -> float:
    """The moment (epoch seconds) no consumer of the stack has a message left nor an outbox row to relay, polled
    every 0.1 s."""
    t0 = time.monotonic()
    while True:
        busy = sum(value.get("gridgov_consumer_lag", 0.0) + value.get("gridgov_outbox_backlog", 0.0)
                   for value in map(metric_values, metrics_urls.values()))
        if busy == 0:
            return time.time()
        if time.monotonic() - t0 > timeout:
            raise TimeoutError(f"the stack did not catch up in {timeout} s")
        time.sleep(0.1)


def messages_per_report(before: dict[str, tuple[float, float]], after: dict[str, tuple[float, float]],
                        reports: int) -> dict:
    """Per consuming service: messages its consumers took per report between two readings of consumer_totals
    (every consumer group of the service counted: one message read by two of its groups counts twice)."""
    return {name: round((messages - before[name][1]) / reports, 2) for name, (_, messages) in after.items()
            if reports and messages > before[name][1]}


def mean_batches(before: dict[str, tuple[float, float]], after: dict[str, tuple[float, float]]) -> dict:
    """Per consuming service: messages per polled batch between two readings of consumer_totals."""
    out = {}
    for name, (batches, messages) in after.items():
        d_batches, d_messages = batches - before[name][0], messages - before[name][1]
        if d_batches:
            out[name] = round(d_messages / d_batches, 1)
    return out


def start_profiles(procs: dict[str, subprocess.Popen], seconds: int, into: Path) -> list[subprocess.Popen]:
    """py-spy samples each process for ``seconds`` (100 Hz, collapsed stacks, one file per process in ``into``)."""
    into.mkdir(parents=True, exist_ok=True)
    return [subprocess.Popen(["py-spy", "record", "-r", "100", "-d", str(seconds), "-f", "raw", "--nonblocking",
                              "-o", str(into / f"{name}.txt"), "--pid", str(proc.pid)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for name, proc in procs.items()]


def measure(label: str, kind: str, url: str, token: str, procs: dict[str, subprocess.Popen], timings: Timings,
            rate: float, seconds: float, burst_seconds: int, connections: int,
            metrics_urls: dict[str, str] | None = None, profile: Path | None = None) -> dict:
    """Latency at a fixed rate, then sustained throughput with CPU per report, then peak RSS, of one system.

    With ``metrics_urls`` (service → base URL), the mean batch each service's consumers worked in each phase too;
    with ``profile`` (a directory), a py-spy profile of each process during the burst (py-spy's own CPU is then
    on the machine's two cores too: take the throughput of such a run as a profile's, not as a figure).
    """
    metrics_urls = metrics_urls or {}
    settled_s = settle(metrics_urls) if metrics_urls else None
    if settled_s is not None:
        print(f"[{kind} {label}] settled {settled_s} s after start", flush=True)
    if not fixed_rate(url, token, 20, 2):  # warm-up
        raise RuntimeError(f"{label}: no report accepted at {url}")
    timings.wait_all_dispatched(0)

    since = time.time()
    totals = consumer_totals(metrics_urls)
    accepted = fixed_rate(url, token, rate, seconds)
    sub, disp = timings.wait_all_dispatched(since)
    fixed_batches = mean_batches(totals, consumer_totals(metrics_urls))
    lat_ms = [(disp[r] - sub[r]) * 1000 for r in sub]
    latency = {"rate_per_s": rate, "reports": accepted, "p50_ms": round(statistics.median(lat_ms), 1),
               "p99_ms": round(percentile(lat_ms, 0.99), 1), "max_ms": round(max(lat_ms), 1),
               "loadavg_after": loadavg()}
    if fixed_batches:
        latency["messages_per_batch"] = fixed_batches
    print(f"[{kind} {label}] fixed {rate}/s: {latency}", flush=True)

    since = time.time()
    cpu_before = cpu_seconds(procs)
    infra_before = infra_cpu_seconds()
    load_before = loadavg()
    totals = consumer_totals(metrics_urls)
    profilers = start_profiles(procs, burst_seconds, profile / kind) if profile else []
    wrk = wrk_burst(url, token, burst_seconds, connections)
    for profiler in profilers:
        profiler.wait(timeout=60)
    sub, disp = timings.wait_all_dispatched(since)
    totals_after = consumer_totals(metrics_urls)
    burst_batches = mean_batches(totals, totals_after)
    cpu_after = cpu_seconds(procs)
    cpu_ms = {n: round((cpu_after[n] - cpu_before[n]) * 1000 / len(sub), 2) for n in cpu_after}
    if kind == "distributed":
        cpu_ms["postgres+kafka"] = round((infra_cpu_seconds() - infra_before) * 1000 / len(sub), 2)
    first, last = min(sub.values()), max(disp[r] for r in sub)
    throughput = {"reports": len(sub), "seconds": round(last - first, 2),
                  "reports_per_s": round(len(sub) / (last - first), 1),
                  "http_accept_per_s": wrk["http_requests_per_s"], "non_2xx": wrk["non_2xx"],
                  "connections": connections, "cpu_ms_per_report": cpu_ms,
                  "cpu_ms_per_report_sum": round(sum(cpu_ms.values()), 2),
                  "loadavg_before": load_before, "loadavg_after": loadavg()}
    if burst_batches:
        throughput["messages_per_batch"] = burst_batches
        throughput["messages_per_report"] = messages_per_report(totals, totals_after, len(sub))
        # every consumer of the stack (analytics' read model, sensing, notification…), not only dispatch: how long
        # after the last dispatch the last of them had caught up (the read models keep up with the loop's pace)
        throughput["all_caught_up_s_after_last_dispatch"] = round(max(0.0, caught_up(metrics_urls) - last), 2)
    print(f"[{kind} {label}] sustained: {throughput}", flush=True)
    rss = peak_rss_mb(procs)
    print(f"[{kind} {label}] peak RSS MB: {rss} (sum {sum(rss.values()):.0f})", flush=True)
    out = {"latency": latency, "throughput": throughput, "peak_rss_mb": rss,
           "peak_rss_mb_sum": round(sum(rss.values()), 1)}
    if settled_s is not None:
        out["settled_s_after_start"] = settled_s
    return out


def loadavg() -> str:
    """The machine's load averages (1, 5, 15 min) now: wall-clock figures mean little without them."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def run_gridgov(kind: str, rate: float, seconds: float, burst_seconds: int, connections: int,
                env: dict[str, str] | None = None, profile: Path | None = None) -> dict:
    """All measurements of gridgov's services on one stack (``env``: settings to give every service)."""
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(kind, Path(tmp), extra_env={"GRIDGOV_LOG_JSON": "true", **(env or {})})
        timings = None
        try:
            stack.start()  # inside the try: a stack that fails to start still has its databases and topics dropped
            timings = Timings.of_stack(stack)
            return measure("gridgov", kind, stack.urls.intake, stack.mint(sub="bench", role="grid_worker"),
                           stack.procs, timings, rate, seconds, burst_seconds, connections,
                           metrics_urls={name: stack.url(name) for name in stack.procs if name != "console"},
                           profile=profile)
        finally:
            if timings is not None:
                timings.close()
            stack.close()


def run_baseline(kind: str, rate: float, seconds: float, burst_seconds: int, connections: int) -> dict:
    """The same measurements of the minimal pipeline (bench/loop_baseline.py) on the same stack."""
    with tempfile.TemporaryDirectory() as tmp:
        baseline = Baseline(kind, Path(tmp))
        timings = None
        try:
            baseline.start()
            timings = Timings.of_baseline(baseline)
            # The same request as gridgov's (with a token the baseline does not check).
            return measure("baseline", kind, baseline.url, "not-checked", baseline.procs, timings, rate, seconds,
                           burst_seconds, connections)
        finally:
            if timings is not None:
                timings.close()
            baseline.close()


def ratios(gridgov: dict, baseline: dict) -> dict:
    """gridgov ÷ baseline: throughput (≥ 0.5 is issue #18's goal), and CPU per report the other way round."""
    g, b = gridgov["throughput"], baseline["throughput"]
    loop_cpu = sum(v for k, v in g["cpu_ms_per_report"].items() if k in LOOP_SERVICES)
    return {"reports_per_s": round(g["reports_per_s"] / b["reports_per_s"], 3),
            "cpu_ms_per_report": round(g["cpu_ms_per_report_sum"] / b["cpu_ms_per_report_sum"], 2),
            "cpu_ms_per_report_four_loop_services": round(loop_cpu / b["cpu_ms_per_report_sum"], 2),
            "p99_ms_at_fixed_rate": round(gridgov["latency"]["p99_ms"] / baseline["latency"]["p99_ms"], 2),
            "peak_rss_mb_sum": round(gridgov["peak_rss_mb_sum"] / baseline["peak_rss_mb_sum"], 2)}


def main() -> None:
    """Run the benchmark on the chosen stacks and save the results."""
    parser = argparse.ArgumentParser(
        description="Report accepted → dispatched: latency at a fixed rate, sustained throughput, CPU ms per report "
                    "and peak RSS per process, for gridgov and the minimal baseline pipeline on the same stack; "
                    "writes gridgov ÷ baseline (ratio_to_baseline).",
        epilog="The distributed stack needs GRIDGOV_TEST_KAFKA_BOOTSTRAP_SERVERS and GRIDGOV_TEST_PG_ADMIN_URL. "
               "Wall-clock figures depend on the machine's load (recorded as loadavg); take the saved results on "
               "a quiet machine and write other runs to /tmp with --out.")
    parser.add_argument("--stacks", default="embedded,distributed",
                        help="comma-separated: embedded (SQLite + embedded log), distributed (Kafka + PostgreSQL)")
    parser.add_argument("--systems", default="gridgov,baseline",
                        help="comma-separated: gridgov (the services), baseline (bench/loop_baseline.py)")
    parser.add_argument("--rate", type=float, default=100, help="reports/s of the latency phase (default 100)")
    parser.add_argument("--seconds", type=float, default=20,
                        help="length of the latency phase in seconds; the wrk burst lasts at most this long too")
    parser.add_argument("--burst-seconds", type=int, default=15, help="length of the wrk burst (default 15)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting for gridgov's services, e.g. GRIDGOV_TOPIC_PARTITIONS=8 (repeatable)")
    parser.add_argument("--profile", type=Path, default=None, metavar="DIR",
                        help="py-spy profiles (collapsed stacks) of gridgov's processes during the burst, into DIR")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "loop_throughput.json",
                        help="where to write the results (default bench/results/loop_throughput.json)")
    args = parser.parse_args()
    burst = max(1, min(args.burst_seconds, int(args.seconds)))
    systems = args.systems.split(",")
    env = dict(item.split("=", 1) for item in args.env)
    results = {"when": datetime.now(UTC).isoformat(timespec="seconds"),
               "machine": f"{platform.machine()}, {os.cpu_count()} cores", "loadavg_at_start": loadavg(),
               "baseline": "bench/loop_baseline.py: HTTP accept (FastAPI/uvicorn, 1 row + outbox per request, no "
                           "token check, no group commit) → locate → dispatch → notify, each consumer 1 row + 1 "
                           "message per report, gridgov_common bus/Database/runner/relay; 'dispatched' = the "
                           "dispatch stage's row",
               "gridgov_env": env, "stacks": {}}
    for kind in args.stacks.split(","):
        entry: dict = {}
        if "gridgov" in systems:
            entry.update(run_gridgov(kind, args.rate, args.seconds, burst, args.connections, env,
                                     args.profile))
        if "baseline" in systems:
            entry["baseline"] = run_baseline(kind, args.rate, args.seconds, burst, args.connections)
        if "gridgov" in systems and "baseline" in systems:
            entry["ratio_to_baseline"] = ratios(entry, entry["baseline"])
            print(f"[{kind}] gridgov ÷ baseline: {entry['ratio_to_baseline']}", flush=True)
        results["stacks"][kind] = entry
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
