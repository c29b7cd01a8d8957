"""Benchmark: intake's POST /v1/reports/patrol under wrk vs a bare FastAPI echo endpoint, in one run.

Both are served the same way (uvicorn, one process, no access log), one after the other on this machine, and
hit by wrk with the same body and connections. The goal (issue #5) is intake ≥ 0.5× the echo's throughput.
Intake's figure includes everything it does per report: JWT check, validation, the SQLite transaction that
stores it with its outbox row before the answer (group-committed with the reports of concurrent requests), and
the relay publishing to the embedded bus in the same process. Both servers run uvicorn's defaults, which pick
uvloop and httptools (both in the lock).

Run:  uv run python bench/intake_load.py [--seconds 10] [--connections 32]
Results: bench/results/intake_load.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gridgov_common.auth import mint_token  # noqa: E402

SECRET = "bench-only-secret"
BODY = {"category_code": "01002", "description": "bench", "lon": 113.75, "lat": 23.02}
WRK_LUA = """
wrk.method = "POST"
wrk.body = '{body}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
"""


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(url: str, timeout: float = 60.0) -> None:
    """Wait until ``url`` answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise TimeoutError(url)


def wrk(url: str, token: str, seconds: int, connections: int) -> dict:
    """wrk's requests/s and non-2xx count against ``url``."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(WRK_LUA.format(body=json.dumps(BODY), token=token))
        script = fh.name
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script, url],
                         capture_output=True, text=True, check=True)
    os.unlink(script)
    rps = next(float(line.split()[1]) for line in out.stdout.splitlines() if line.startswith("Requests/sec"))
    non2xx = next((int(line.split()[-1]) for line in out.stdout.splitlines() if "Non-2xx" in line), 0)
    return {"requests_per_s": rps, "non_2xx": non2xx, "wrk_output": out.stdout}


def run(cmd: list[str], env: dict[str, str], probe: str, url: str, token: str, seconds: int,
        connections: int) -> dict:
    """Start a server, warm it up, measure it with wrk, stop it."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_up(probe)
        wrk(url, token, 2, connections)  # warm-up
        return wrk(url, token, seconds, connections)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> int:
    """Measure both, print and save the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    token = mint_token(SECRET, sub="bench", role="grid_worker", grid="441900001001001")
    port = free_port()
    echo = run([sys.executable, "-m", "uvicorn", "echo_app:app", "--port", str(port), "--no-access-log",
                "--log-level", "warning", "--app-dir", str(ROOT / "bench")], dict(os.environ),
               f"http://127.0.0.1:{port}/docs", f"http://127.0.0.1:{port}/echo", token, args.seconds,
               args.connections)
    with tempfile.TemporaryDirectory() as data_dir:
        port = free_port()
        env = {**os.environ, "GRIDGOV_DATA_DIR": data_dir, "GRIDGOV_JWT_SECRET": SECRET,
               "GRIDGOV_INTAKE_PORT": str(port), "GRIDGOV_LOG_LEVEL": "WARNING"}
        intake = run([sys.executable, "-m", "gridgov_event_intake"], env, f"http://127.0.0.1:{port}/healthz",
                     f"http://127.0.0.1:{port}/v1/reports/patrol", token, args.seconds, args.connections)
    ratio = intake["requests_per_s"] / echo["requests_per_s"]
    result = {"at": datetime.now(UTC).isoformat(timespec="seconds"), "machine": platform.platform(),
              "cpus": os.cpu_count(), "seconds": args.seconds, "connections": args.connections,
              "echo_requests_per_s": echo["requests_per_s"], "echo_non_2xx": echo["non_2xx"],
              "intake_requests_per_s": intake["requests_per_s"], "intake_non_2xx": intake["non_2xx"],
              "ratio": round(ratio, 3), "goal": 0.5}
    print(json.dumps(result, indent=2))
    out = ROOT / "bench" / "results" / "intake_load.json"
    out.write_text(json.dumps({**result, "wrk": {"echo": echo["wrk_output"], "intake": intake["wrk_output"]}},
                              indent=2))
    return 0 if intake["non_2xx"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
