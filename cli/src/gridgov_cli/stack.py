"""Start the four services of the embedded stack as one process tree and watch over them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass(frozen=True)
class ServiceDef:
    """One service: its name, module, env prefix and default port."""

    name: str
    module: str
    env_prefix: str
    port: int

    def url(self, host: str = "127.0.0.1", port: int | None = None) -> str:
        """The service's base URL."""
        return f"http://{host}:{port or self.port}"


SERVICES: dict[str, ServiceDef] = {
    s.name: s
    for s in (
        ServiceDef("event-intake", "gridgov_event_intake", "GRIDGOV_INTAKE_", 8001),
        ServiceDef("grid-registry", "gridgov_grid_registry", "GRIDGOV_REGISTRY_", 8002),
        ServiceDef("dispatch", "gridgov_dispatch", "GRIDGOV_DISPATCH_", 8003),
        ServiceDef("notification", "gridgov_notification", "GRIDGOV_NOTIFICATION_", 8004),
        ServiceDef("sensing", "gridgov_sensing", "GRIDGOV_SENSING_", 8005),
        ServiceDef("analytics", "gridgov_analytics", "GRIDGOV_ANALYTICS_", 8006),
        ServiceDef("console", "gridgov_console", "GRIDGOV_CONSOLE_", 8000),
    )
}


def service_env(base: dict[str, str], data_dir: Path, ports: dict[str, int] | None = None) -> dict[str, str]:
    """The environment of the stack's processes: one data directory, each service on its port."""
    env = dict(base)
    env["GRIDGOV_DATA_DIR"] = str(data_dir.resolve())
    # glibc gives each thread its own malloc arena; two are plenty for a service and save ~10 MB of RSS each.
    env.setdefault("MALLOC_ARENA_MAX", "2")
    for svc in SERVICES.values():
        key = f"{svc.env_prefix}PORT"
        # An explicit port wins, then one the caller's environment sets (GRIDGOV_CONSOLE_PORT=9000 gridgov up),
        # then the service's default.
        env[key] = str((ports or {}).get(svc.name) or env.get(key) or svc.port)
    return env


def spawn(svc: ServiceDef, env: dict[str, str], log_dir: Path) -> subprocess.Popen:
    """Start one service process, its output appended to ``<log_dir>/<service>.log``."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log = open(log_dir / f"{svc.name}.log", "ab")  # noqa: SIM115 - owned by the child for its lifetime
    return subprocess.Popen([sys.executable, "-m", svc.module], env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_ready(urls: dict[str, str], timeout: float = 60.0) -> None:
    """Wait until every service answers /readyz with 200; raises TimeoutError naming the laggards."""
    deadline = time.monotonic() + timeout
    pending = dict(urls)
    while pending and time.monotonic() < deadline:
        for name, url in list(pending.items()):
            try:
                if httpx.get(f"{url}/readyz", timeout=2.0).status_code == 200:
                    del pending[name]
            except httpx.HTTPError:
                pass
        if pending:
            time.sleep(0.2)
    if pending:
        raise TimeoutError(f"not ready after {timeout:.0f}s: {', '.join(sorted(pending))}")


class Supervisor:
    """Keeps the stack's processes running: restarts one that dies, stops all on SIGINT/SIGTERM."""

    def __init__(self, env: dict[str, str], data_dir: Path):
        self.env = env
        self.log_dir = data_dir / "logs"
        self.procs: dict[str, subprocess.Popen] = {}
        self.stopping = False

    def start_all(self) -> None:
        """Start every service."""
        for svc in SERVICES.values():
            self.procs[svc.name] = spawn(svc, self.env, self.log_dir)

    def stop_all(self, *_args: object) -> None:
        """Stop every service gracefully (SIGTERM, then SIGKILL after 15 s)."""
        self.stopping = True
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in self.procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()

    def watch(self) -> int:
        """Restart any service that exits until asked to stop; returns the exit code for the CLI."""
        signal.signal(signal.SIGTERM, self.stop_all)
        signal.signal(signal.SIGINT, self.stop_all)
        while not self.stopping:
            for name, proc in list(self.procs.items()):
                code = proc.poll()
                if code is not None and not self.stopping:
                    print(f"{name} exited with {code}; restarting (log: {self.log_dir / (name + '.log')})",
                          file=sys.stderr, flush=True)
                    self.procs[name] = spawn(SERVICES[name], self.env, self.log_dir)
            time.sleep(0.5)
        return 0


def _history(data_dir: Path) -> bool:
    """The demo city's past, generated once per data directory after the services have migrated and seeded
    (``history.json`` marks it done; GRIDGOV_HISTORY=0 skips it); False if it failed (the stack keeps running).

    Ctrl-C while it loads is passed on (the caller stops the stack); the next ``gridgov up`` completes it, as a
    re-run of the same plan does."""
    from gridgov_cli.history.run import ensure

    try:
        result = ensure(data_dir)
    except Exception as exc:  # noqa: BLE001 - told; the services stay up, the next `gridgov up` completes it
        print(f"history: generating the demo city's past failed ({type(exc).__name__}: {exc}); the stack keeps "
              "running with what was loaded, and the next `gridgov up` (or `gridgov history generate`) completes "
              "it", file=sys.stderr, flush=True)
        return False
    if result is not None:
        print(f"history: {result['cases']} reports over {result['days']} days loaded in "
              f"{result['seconds']['total']:.0f} s", flush=True)
    return True


def _devices(data_dir: Path, registry_url: str) -> None:
    """The demo city's cameras and sensors, placed once along its grids (``GRIDGOV_DEMO_DEVICES``, 20,000 by
    default; 0 skips; ``gridgov sensing devices generate --count 450000`` for Dongguan's scale)."""
    count = int(os.environ.get("GRIDGOV_DEMO_DEVICES", "20000"))
    if count <= 0:
        return
    try:
        from gridgov_cli.sensing import ensure_demo_devices

        result = ensure_demo_devices(data_dir, registry_url, count)
    except Exception as exc:  # noqa: BLE001 - told; the services stay up without demo devices
        print(f"sensing: placing the demo devices failed ({type(exc).__name__}: {exc}); "
              "`gridgov sensing devices generate` places them", file=sys.stderr, flush=True)
        return
    if result is not None:
        print(f"sensing: {result['devices']} demo devices placed in {result['grids']} grids in "
              f"{result['total_s']} s", flush=True)


def _assist(data_dir: Path) -> None:
    """The seat assistant's first classifier, trained once when intake has none active (GRIDGOV_ASSIST_TRAIN=0
    skips it; ``gridgov assist train`` trains one)."""
    if os.environ.get("GRIDGOV_ASSIST_TRAIN", "1") == "0":
        return
    try:
        from gridgov_cli.assist import ensure_demo_model

        result = ensure_demo_model(data_dir)
    except Exception as exc:  # noqa: BLE001 - told; the services stay up, answering "no_model"
        print(f"assist: training the first classifier failed ({type(exc).__name__}: {exc}); "
              "`gridgov assist train` trains one", file=sys.stderr, flush=True)
        return
    if result is not None:
        print(f"assist: classifier {result['version']} trained in {result['seconds']} s (top-3 "
              f"{result['top3']}, department {result['department_top1']} on {result['eval_source']})", flush=True)


def run_up(data_dir: Path, ready_timeout: float = 90.0) -> int:
    """``gridgov up``: start the embedded stack with demo data and print where everything is.

    The URLs come first, as soon as the services answer: they are usable while the history loads (the console
    fills as its chunks commit), and its progress follows."""
    env = service_env(dict(os.environ), data_dir)
    sup = Supervisor(env, data_dir)
    sup.start_all()
    urls = {name: svc.url(port=int(env[f"{svc.env_prefix}PORT"])) for name, svc in SERVICES.items()}
    try:
        wait_ready(urls, ready_timeout)
    except TimeoutError as exc:
        print(f"gridgov up failed: {exc}; logs in {sup.log_dir}", file=sys.stderr)
        sup.stop_all()
        return 1
    print(f"gridgov is up (embedded stack, data in {data_dir.resolve()})")
    for name, url in urls.items():
        print(f"  {name:<14} {url}   docs: {url}/docs")
    print("Try:  gridgov demo        (drives one report round the loop)")
    print("      gridgov token command_centre   (a bearer token for curl)")
    print("Stop with Ctrl-C.", flush=True)
    try:
        _assist(data_dir)
    except KeyboardInterrupt:
        sup.stop_all()
        return 130
    if os.environ.get("GRIDGOV_HISTORY", "1") != "0":
        try:
            _devices(data_dir, urls["grid-registry"])
            _history(data_dir)
        except KeyboardInterrupt:
            print("gridgov up stopped while generating the history; the next `gridgov up` completes it",
                  file=sys.stderr, flush=True)
            sup.stop_all()
            return 130
    return sup.watch()
