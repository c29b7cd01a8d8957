"""Measure: RSS growth of each service (uvicorn on loopback, embedded stack) under ten 400 MB bodies sent with
Content-Length and ten sent chunked, from a raw-socket client that streams from a generator (never a 400 MB
buffer) and stops when the server has answered or closed.

    uv run --frozen python bench/oversized_bodies.py [--bodies 10] [--size-mb 400] [--out bench/results/x.json]

For each service and route: RSS before (after warm-up), the highest RSS sampled every 20 ms during the run, RSS
after, the statuses seen and how many bytes the client managed to send before the server's answer.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from gridgov_common.auth import mint_token

SECRET = "bench-oversized-bodies-secret-32-bytes-x"
ROOT = Path(__file__).resolve().parent.parent
CHUNK = b"x" * 65536

# service module, env prefix, route, needs a token (then the route's own, larger limit applies), content type
TARGETS = [
    ("gridgov_event_intake", "INTAKE", "/v1/reports/patrol", None, "application/json"),
    ("gridgov_event_intake", "INTAKE", "/v1/media", "citizen", "image/jpeg"),
    ("gridgov_grid_registry", "REGISTRY", "/v1/locate/batch", None, "application/json"),
    ("gridgov_dispatch", "DISPATCH", "/v1/tickets/t-1/handle", None, "application/json"),
    ("gridgov_notification", "NOTIFICATION", "/v1/followups/" + "a" * 32, None, "application/json"),
    ("gridgov_console", "CONSOLE", "/api/dispatch/v1/tickets/t-1/handle", "command_centre", "application/json"),
]


def rss_kib(pid: int) -> int:
    """Resident set size of a process, KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(port: int, path: str, size: int, chunked: bool, content_type: str, token: str | None) -> tuple[int, int]:
    """Offer ``size`` bytes to ``path``; (status, bytes sent) once the server answered or closed."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    head = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Type: {content_type}"]
    head.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}")
    if token:
        head.append(f"Authorization: Bearer {token}")
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
    framed = (f"{len(CHUNK):x}\r\n".encode() + CHUNK + b"\r\n") if chunked else CHUNK
    sent, pending = 0, memoryview(b"")
    sock.setblocking(False)
    try:
        while sent < size or pending:
            readable, writable, _ = select.select([sock], [sock], [], 10)
            if readable:
                break  # the server answered (or closed) before the body was done
            if not writable:
                break  # the server stopped reading and does not answer: would show as no status
            if not pending:
                pending = memoryview(framed)
            n = sock.send(pending)
            pending = pending[n:]
            sent += n
        if chunked and sent >= size and not pending:
            sock.sendall(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    sock.setblocking(True)
    sock.settimeout(10)
    answer = b""
    try:
        while b"\r\n" not in answer:
            data = sock.recv(4096)
            if not data:
                break
            answer += data
    except (ConnectionResetError, TimeoutError, OSError):
        pass
    sock.close()
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0
    return status, sent


def measure(module: str, prefix: str, path: str, role: str | None, content_type: str, bodies: int,
            size: int, warmup: int = 3) -> dict:
    """Start the service, warm it up, send the bodies, and report RSS figures."""
    port = free_port()
    data_dir = tempfile.mkdtemp(prefix="gg-oversized-")
    env = {**os.environ, "GRIDGOV_DATA_DIR": data_dir, "GRIDGOV_JWT_SECRET": SECRET, "GRIDGOV_LOG_JSON": "false",
           "GRIDGOV_LOG_LEVEL": "WARNING", f"GRIDGOV_{prefix}_PORT": str(port),
           f"GRIDGOV_{prefix}_HOST": "127.0.0.1"}
    proc = subprocess.Popen([sys.executable, "-m", module], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    if s.recv(64).startswith(b"HTTP/1.1 200"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"{module} did not start")
            time.sleep(0.3)
        token = mint_token(SECRET, sub="bench", role=role) if role else None
        for _ in range(warmup):  # warm-up: the first refusals import and allocate what every later one reuses
            post(port, path, 4 << 20, False, content_type, token)
            post(port, path, 4 << 20, True, content_type, token)
        if warmup:
            time.sleep(1)
        before = rss_kib(proc.pid)
        peak = [before]
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                peak[0] = max(peak[0], rss_kib(proc.pid))
                time.sleep(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.monotonic()
        runs = {}
        for chunked in (False, True):
            statuses, sent = [], []
            for _ in range(bodies):
                status, n = post(port, path, size, chunked, content_type, token)
                statuses.append(status)
                sent.append(n)
            runs["chunked" if chunked else "content_length"] = {
                "statuses": sorted(set(statuses)), "max_bytes_sent_before_answer": max(sent)}
        elapsed = time.monotonic() - started
        time.sleep(1)
        stop.set()
        sampler.join()
        after = rss_kib(proc.pid)
        return {"service": module, "route": f"POST {path}", "token": bool(token), "bodies_each_way": bodies,
                "body_mb": size >> 20, "warmup_requests": 2 * warmup, "rss_before_mib": round(before / 1024, 1),
                "rss_peak_mib": round(peak[0] / 1024, 1), "rss_after_mib": round(after / 1024, 1),
                "growth_peak_mib": round((peak[0] - before) / 1024, 1),
                "growth_after_mib": round((after - before) / 1024, 1), "seconds": round(elapsed, 1), **runs}
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> None:
    """Run every target and print (and optionally write) the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bodies", type=int, default=10)
    parser.add_argument("--size-mb", type=int, default=400)
    parser.add_argument("--warmup", type=int, default=3, help="refused 4 MB bodies each way before the baseline")
    parser.add_argument("--only", default="", help="substring of module or route to run only some targets")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    results = []
    for target in TARGETS:
        if args.only and args.only not in target[0] + target[2]:
            continue
        result = measure(*target, bodies=args.bodies, size=args.size_mb << 20, warmup=args.warmup)
        print(json.dumps(result, ensure_ascii=False), flush=True)
        results.append(result)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
