"""Start the services of the embedded stack as one process tree and watch over them."""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass(frozen=True)
class ServiceDef:
    """One service: its name, module, env prefix, default port and settings class (in ``<module>.settings``)."""

    name: str
    module: str
    env_prefix: str
    port: int
    settings_class: str

    def url(self, host: str = "127.0.0.1", port: int | None = None) -> str:
        """The service's base URL."""
        return f"http://{host}:{port or self.port}"


SERVICES: dict[str, ServiceDef] = {
    s.name: s
    for s in (
        ServiceDef("event-intake", "gridgov_event_intake", "GRIDGOV_INTAKE_", 8001, "IntakeSettings"),
        ServiceDef("grid-registry", "gridgov_grid_registry", "GRIDGOV_REGISTRY_", 8002, "RegistrySettings"),
        ServiceDef("dispatch", "gridgov_dispatch", "GRIDGOV_DISPATCH_", 8003, "DispatchSettings"),
        ServiceDef("notification", "gridgov_notification", "GRIDGOV_NOTIFICATION_", 8004, "NotificationSettings"),
        ServiceDef("sensing", "gridgov_sensing", "GRIDGOV_SENSING_", 8005, "SensingSettings"),
        ServiceDef("analytics", "gridgov_analytics", "GRIDGOV_ANALYTICS_", 8006, "AnalyticsSettings"),
        ServiceDef("console", "gridgov_console", "GRIDGOV_CONSOLE_", 8000, "ConsoleSettings"),
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


class ForkedProcess:
    """A service forked by a fork server (``ForkClient``): the part of ``subprocess.Popen`` that stacks use."""

    def __init__(self, client: ForkClient, pid: int):
        self.client = client
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        """The exit code (``-N`` for signal N), or None while it runs."""
        if self.returncode is None:
            self.returncode = self.client.poll(self.pid)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Wait until it exits; its exit code (``subprocess.TimeoutExpired`` after ``timeout`` seconds)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout or 0)
            time.sleep(0.05)
        return self.returncode

    def send_signal(self, sig: int) -> None:
        """Signal it, unless it has exited (its pid may belong to another process then)."""
        if self.poll() is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def terminate(self) -> None:
        """SIGTERM."""
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL."""
        self.send_signal(signal.SIGKILL)


class ForkClient:
    """Starts services as forks of one fork server (``python -m gridgov_cli.launcher --serve-forks``) that imported
    their libraries once, instead of a fresh interpreter each: a stack starts in about half the time.

    The server starts at the first request and lives as long as this process (it stops its children when this
    process closes the pipe or exits). Safe to share between threads."""

    def __init__(self) -> None:
        self._server: subprocess.Popen | None = None
        self._lock = threading.Lock()

    def _ask(self, request: dict) -> dict:
        with self._lock:
            if self._server is None or self._server.poll() is not None:
                env = {**os.environ, "MALLOC_ARENA_MAX": os.environ.get("MALLOC_ARENA_MAX", "2")}
                self._server = subprocess.Popen([sys.executable, "-m", "gridgov_cli.launcher", "--serve-forks"],
                                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
            assert self._server.stdin is not None and self._server.stdout is not None
            self._server.stdin.write(json.dumps(request).encode() + b"\n")
            self._server.stdin.flush()
            line = self._server.stdout.readline()
        if not line:
            raise RuntimeError("the fork server ended (its error is on this process's stderr)")
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"fork server: {reply['error']}")
        return reply

    def spawn(self, svc: ServiceDef, env: dict[str, str], log_dir: Path) -> ForkedProcess:
        """Start one service with this environment, its output appended to ``<log_dir>/<service>.log``."""
        log_dir.mkdir(parents=True, exist_ok=True)
        reply = self._ask({"op": "fork", "service": svc.name, "env": env,
                           "log": str((log_dir / f"{svc.name}.log").resolve())})
        return ForkedProcess(self, int(reply["pid"]))

    def poll(self, pid: int) -> int | None:
        """The exit code of a service this client started, or None while it runs."""
        return self._ask({"op": "poll", "pid": pid})["code"]

    def close(self) -> None:
        """Stop the server and every service it still runs."""
        with self._lock:
            server, self._server = self._server, None
        if server is not None and server.poll() is None:
            assert server.stdin is not None
            server.stdin.close()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(5)


# How `gridgov up` starts the services: forked from one launcher that imported their libraries once (each service
# its own process; the default), each a fresh interpreter, or all in one interpreter.
LAUNCH_MODES = ("fork", "spawn", "one-process")
ONE_PROCESS = "one-process"


def launch(names: list[str], env: dict[str, str], log_dir: Path, one_process: bool = False) -> subprocess.Popen:
    """Start the launcher (``gridgov_cli.launcher``) of these services: it forks and watches one child per service,
    or, with ``one_process``, serves them all itself (its output then goes to ``<log_dir>/one-process.log``)."""
    log_dir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "gridgov_cli.launcher", "--log-dir", str(log_dir)]
    if one_process:
        log = open(log_dir / f"{ONE_PROCESS}.log", "ab")  # noqa: SIM115 - owned by the child for its lifetime
        return subprocess.Popen([*cmd, "--one-process", *names], env=env, stdout=log, stderr=subprocess.STDOUT)
    # The launcher's own output (a service's restart) goes where `gridgov up` writes; the services' to their logs.
    return subprocess.Popen([*cmd, *names], env=env)


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
    """Keeps the stack's processes running: restarts one that dies, stops all on SIGINT/SIGTERM.

    ``fork`` (default): one launcher process forks the services and restarts any that dies; this supervises the
    launcher. ``spawn``: each service a fresh interpreter, supervised here. ``one-process``: the launcher serves
    them all in one interpreter."""

    def __init__(self, env: dict[str, str], data_dir: Path, mode: str = "fork"):
        if mode not in LAUNCH_MODES:
            raise ValueError(f"launch mode must be one of {', '.join(LAUNCH_MODES)}, not {mode!r}")
        self.env = env
        self.mode = mode
        self.log_dir = data_dir / "logs"
        self.procs: dict[str, subprocess.Popen] = {}
        self.stopping = False

    def _start(self, name: str) -> subprocess.Popen:
        if name in SERVICES:
            return spawn(SERVICES[name], self.env, self.log_dir)
        return launch(list(SERVICES), self.env, self.log_dir, one_process=name == ONE_PROCESS)

    def start_all(self) -> None:
        """Start every service."""
        names = list(SERVICES) if self.mode == "spawn" else ["launcher" if self.mode == "fork" else ONE_PROCESS]
        for name in names:
            self.procs[name] = self._start(name)

    def stop_all(self, *_args: object) -> None:
        """Stop every service gracefully (SIGTERM, then SIGKILL after 15 s; a launcher's own 15 s, then 5 s)."""
        self.stopping = True
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + (15 if self.mode == "spawn" else 20)
        for proc in self.procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()

    def watch(self) -> int:
        """Restart any process that exits until asked to stop; returns the exit code for the CLI."""
        signal.signal(signal.SIGTERM, self.stop_all)
        signal.signal(signal.SIGINT, self.stop_all)
        while not self.stopping:
            for name, proc in list(self.procs.items()):
                code = proc.poll()
                if code is not None and not self.stopping:
                    log = self.log_dir / (name + ".log") if name != "launcher" else "above"
                    print(f"{name} exited with {code}; restarting (log: {log})", file=sys.stderr, flush=True)
                    self.procs[name] = self._start(name)
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


def run_up(data_dir: Path, ready_timeout: float = 90.0, mode: str = "fork") -> int:
    """``gridgov up``: start the embedded stack with demo data and print where everything is (``mode``: how the
    services are started, see ``Supervisor``).

    The URLs come first, as soon as the services answer: they are usable while the history loads (the console
    fills as its chunks commit), and its progress follows."""
    env = service_env(dict(os.environ), data_dir)
    sup = Supervisor(env, data_dir, mode)
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
    print("      gridgov demo --sensing   (a camera's and a sensor's alarms round the loop)")
    print("      gridgov token command_centre   (a bearer token for curl)")
    print("Stop with Ctrl-C.", flush=True)
    if load_demo_data(data_dir, urls["grid-registry"]) == 130:
        sup.stop_all()
        return 130
    _presence(data_dir, urls["sensing"])
    return sup.watch()


def _presence(data_dir: Path, sensing_url: str) -> None:
    """The demo devices' heartbeats and alarms, played in this process's thread (``presence``:
    ``GRIDGOV_DEMO_PRESENCE_S`` seconds between rounds, 60 by default, 0 for none; ``GRIDGOV_DEMO_ALARMS_PER_MIN``,
    1 by default). Started after the demo data, when no fork is left to make."""
    from gridgov_cli.presence import DEFAULT_ALARMS_PER_MIN, DEFAULT_INTERVAL_S, DEMO_LIST, start_presence
    from gridgov_common.auth import load_secret
    from gridgov_common.settings import CommonSettings

    if not (data_dir / DEMO_LIST).exists():  # no demo devices placed (GRIDGOV_DEMO_DEVICES=0, or an older data dir)
        return
    numbers = []
    for name, default in (("GRIDGOV_DEMO_PRESENCE_S", DEFAULT_INTERVAL_S),
                          ("GRIDGOV_DEMO_ALARMS_PER_MIN", DEFAULT_ALARMS_PER_MIN)):
        raw = os.environ.get(name, str(default))
        try:
            value = float(raw)
            if not math.isfinite(value) or value < 0:
                raise ValueError(raw)
        except ValueError:
            print(f"{name} must be a number ≥ 0, not {raw!r}: the demo devices stay silent", file=sys.stderr,
                  flush=True)
            return
        numbers.append(value)
    start_presence(data_dir, sensing_url, load_secret(CommonSettings(data_dir=data_dir)), *numbers)


def _demo_data(data_dir: Path, registry_url: str) -> None:
    """The demo data's steps in order: (unless GRIDGOV_HISTORY=0) the devices and the history, then the first
    classifier; exits with 130 if interrupted (Ctrl-C), after saying so if the history was loading.

    The history comes before the classifier (issue #15): the console, the board and the risk map are empty until
    it loads, while the seat assistant without a model only abstains ("no_model", the operator picks the code).
    Training first held the history back by its 14.5 s on every first start."""
    if os.environ.get("GRIDGOV_HISTORY", "1") != "0":
        try:
            _devices(data_dir, registry_url)
            _history(data_dir)
        except KeyboardInterrupt:
            print("gridgov up stopped while generating the history; the next `gridgov up` completes it",
                  file=sys.stderr, flush=True)
            sys.exit(130)
    try:
        _assist(data_dir)
    except KeyboardInterrupt:
        sys.exit(130)


def load_demo_data(data_dir: Path, registry_url: str) -> int:
    """Load the demo data (``_demo_data``) in a forked child and wait for it; 130 if interrupted, else 0.

    A child, because `gridgov up` then supervises the stack for hours: what the steps import (jieba and numpy to
    check the classifier, the history's planner: ~75 MB) goes with the child instead of staying in this process.
    Forked, because this process has no threads nor connections open here, and the child is the same program."""
    sys.stdout.flush()
    sys.stderr.flush()
    if "fork" not in multiprocessing.get_all_start_methods():  # no fork (Windows): in this process
        try:
            _demo_data(data_dir, registry_url)
        except SystemExit as exc:
            return 130 if exc.code == 130 else 0
        return 0
    child = multiprocessing.get_context("fork").Process(target=_demo_data, args=(data_dir, registry_url),
                                                        name="gridgov-demo-data")
    child.start()
    try:
        child.join()
    except KeyboardInterrupt:
        # Ctrl-C reaches the child too (same process group) and it stops by itself; a SIGINT sent to this process
        # alone does not: then stop it.
        child.join(10)
        if child.is_alive():
            child.terminate()
            child.join()
        return 130
    if child.exitcode not in (0, 130):
        print(f"gridgov up: loading the demo data failed (exit {child.exitcode}, its traceback above); the services "
              "keep running, and the next `gridgov up` tries again", file=sys.stderr, flush=True)
    return 130 if child.exitcode == 130 else 0
