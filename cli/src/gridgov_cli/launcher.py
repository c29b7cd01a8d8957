"""Start the embedded stack's services as children of one parent that imported their libraries once (#18).

Each service used to be a fresh interpreter (``python -m gridgov_<service>``) importing the same ~79 MB of
libraries (pydantic, SQLAlchemy, SQLModel, FastAPI, uvicorn, httpx, cryptography, PyJWT, gridgov_common) and
its own app. The launcher imports them once, freezes the garbage collector's view of them (``gc.freeze``: a
collection in a child then never writes to those objects' headers) and forks one child per service: the
children share those pages copy-on-write until one of them writes to a page. Each service keeps its own
process, as before: its own log (``<log-dir>/<service>.log``), crash and restart; the launcher restarts a child
that exits, forked again from the same clean state, and on SIGTERM/SIGINT stops them all (SIGTERM, then SIGKILL
after 15 s). A child whose launcher dies gets SIGTERM (Linux), so no service outlives it.

Fork safety: the launcher never starts a thread nor opens a database, the bus or a socket; it imports only.
If it is not single-threaded when it is about to fork (a library started a thread at import), the child
execs a fresh interpreter instead, as ``gridgov up`` did before.

``--one-process`` runs every service's app, relay and consumers in this one interpreter instead (least memory,
but one GIL for the whole stack; not the default): one uvicorn server per service on its own port.

Run by ``gridgov up`` (``gridgov_cli.stack.Supervisor``), not by hand:
``python -m gridgov_cli.launcher --log-dir DIR [--one-process] SERVICE...`` with the stack's environment.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import json
import os
import runpy
import signal
import sys
import threading
import time
import traceback
from pathlib import Path

from gridgov_cli.stack import SERVICES, ServiceDef

# What every service imports before it serves (the import floor the children share), then what all of them load
# once serving (uvicorn's loop and protocols, pydantic.v1 via FastAPI, the event schemas), and trio, h11 and certifi,
# which httpx's transport loads in three of them. Not numpy or shapely (three and two services): importing numpy
# starts OpenBLAS's threads, and a process with threads must not fork.
COMMON_MODULES = (
    "pydantic", "pydantic_settings", "pydantic.v1", "sqlalchemy", "sqlalchemy.orm", "sqlmodel", "fastapi",
    "starlette", "uvicorn", "uvicorn.main", "uvicorn.loops.auto", "uvicorn.protocols.http.auto",
    "uvicorn.protocols.websockets.auto", "uvicorn.lifespan.on", "uvloop", "httptools", "websockets",
    "anyio", "anyio.streams.memory", "anyio.streams.stapled", "anyio.streams.tls", "concurrent.futures.thread",
    "httpx", "h11", "certifi", "trio", "jwt", "cryptography.hazmat.primitives.asymmetric.rsa", "orjson",
    "gridgov_common.web", "gridgov_common.serve", "gridgov_common.runtime", "gridgov_common.db",
    "gridgov_common.settings", "gridgov_common.bus.embedded", "gridgov_common.migrations",
    "gridgov_common.consumers", "gridgov_common.schemas", "gridgov_common.events.reports",
    "gridgov_common.events.tickets", "gridgov_common.events.fix",
)
# The file where the launcher records its children (memory benchmarks and operators read it).
PIDS_FILE = "launcher-pids.json"
STOP_GRACE_S = 15.0
# A child that dies sooner than this after its start is restarted no sooner than this after it (no busy loop).
RESTART_MIN_INTERVAL_S = 0.5


def preload() -> list[str]:
    """Import the libraries the services share; the modules that failed to import."""
    failed = []
    for name in COMMON_MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the child imports it again and reports the error in its own log
            failed.append(name)
    return failed


def thread_count() -> int:
    """The threads of this process as the kernel sees them (a library's native threads too)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


def _die_with_parent() -> None:
    """Ask the kernel to send this process SIGTERM when its parent (the launcher) dies (Linux only)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG


def _set_process_name(name: str) -> None:
    """Show the service's name in top/ps (the kernel's comm, 15 bytes), not seven identical 'python'."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(15, ctypes.c_char_p(name.encode()[:15]), 0, 0, 0)  # PR_SET_NAME


def _run_child(svc: ServiceDef, log_dir: Path, launcher_pid: int, forked_safely: bool) -> None:
    """In the child: detach from the launcher's signal handling, log to the service's file, serve; never returns."""
    code = 1
    try:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)
        _die_with_parent()
        if os.getppid() != launcher_pid:  # the launcher died before prctl took effect
            os._exit(1)
        fd = os.open(log_dir / f"{svc.name}.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        if not forked_safely:
            # A thread of the parent may have held a lock at the fork: start clean, as spawn did.
            os.execv(sys.executable, [sys.executable, "-m", svc.module])
        sys.stdout.reconfigure(line_buffering=True)
        _set_process_name(svc.name)
        gc.enable()
        sys.argv = [svc.module]
        runpy.run_module(svc.module, run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - the child must never return into the launcher's loop
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


class Launcher:
    """Forks the services and keeps them running until SIGTERM/SIGINT."""

    def __init__(self, services: list[ServiceDef], log_dir: Path):
        self.services = {svc.name: svc for svc in services}
        self.log_dir = log_dir
        self.children: dict[int, str] = {}
        self.started: dict[str, float] = {}
        self.stopping = False

    def fork(self, name: str) -> int:
        """Start one service as a child of this process; its pid."""
        safe = thread_count() == 1
        if not safe:
            print(f"launcher: {thread_count()} threads running; {name} starts as a fresh interpreter instead of "
                  "a fork", file=sys.stderr, flush=True)
        gc.freeze()  # objects that exist now are never scanned again: a child's collections leave their pages shared
        pid = os.fork()
        if pid == 0:
            _run_child(self.services[name], self.log_dir, os.getppid(), safe)
        self.children[pid] = name
        self.started[name] = time.monotonic()
        self.write_pids()
        return pid

    def write_pids(self) -> None:
        """Record the launcher's and its children's pids (replaced atomically)."""
        path = self.log_dir / PIDS_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"launcher": os.getpid(),
                                   "services": {name: pid for pid, name in self.children.items()}}))
        tmp.replace(path)

    def _stop_signal(self, *_args: object) -> None:
        self.stopping = True

    def run(self) -> int:
        """Fork every service, restart any that exits, stop all when asked; the exit code."""
        signal.signal(signal.SIGTERM, self._stop_signal)
        signal.signal(signal.SIGINT, self._stop_signal)
        for name in self.services:
            self.fork(name)
        while not self.stopping:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                pid, status = 0, 0
            if pid == 0:
                time.sleep(0.25)
                continue
            name = self.children.pop(pid, None)
            if name is None or self.stopping:
                continue
            print(f"{name} exited with {os.waitstatus_to_exitcode(status)}; restarting "
                  f"(log: {self.log_dir / (name + '.log')})", file=sys.stderr, flush=True)
            time.sleep(max(0.0, RESTART_MIN_INTERVAL_S - (time.monotonic() - self.started[name])))
            if not self.stopping:
                self.fork(name)
        self.stop_all()
        return 0

    def stop_all(self) -> None:
        """SIGTERM every child, SIGKILL those still running after the grace period, reap them all."""
        for pid in self.children:
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        while self.children and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.1)
        for pid in self.children:
            _signal(pid, signal.SIGKILL)
        while self.children:
            try:
                pid, _ = os.waitpid(-1, 0)
            except ChildProcessError:
                break
            self.children.pop(pid, None)
        self.write_pids()

    def _reap(self) -> None:
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                self.children.clear()
                return
            if pid == 0:
                return
            self.children.pop(pid, None)


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def run_one_process(services: list[ServiceDef]) -> int:
    """Serve every service's app (with its relay and consumers) from this interpreter, each on its own port."""
    import uvicorn

    servers = []
    for svc in services:
        app_module = importlib.import_module(f"{svc.module}.app")
        settings = getattr(importlib.import_module(f"{svc.module}.settings"), svc.settings_class)()
        app = app_module.create_app(settings)
        config = uvicorn.Config(app, host=settings.host, port=settings.port, log_config=None, access_log=False,
                                timeout_graceful_shutdown=10)
        servers.append(uvicorn.Server(config))

    async def serve_all() -> None:
        # Each server captures SIGTERM/SIGINT while it serves and, when it stops, hands the signal on to the one
        # started before it: one signal stops them all, the last started first.
        await asyncio.gather(*(server.serve() for server in servers))

    stopped: list[int] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        # The first server hands the signal on to this handler: the process then ends normally, not killed by it.
        signal.signal(sig, lambda signum, _frame: stopped.append(signum))
    asyncio.run(serve_all())
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``python -m gridgov_cli.launcher --log-dir DIR [--one-process] SERVICE...``."""
    parser = argparse.ArgumentParser(prog="python -m gridgov_cli.launcher", description=__doc__.splitlines()[0])
    parser.add_argument("--log-dir", type=Path, required=True, help="where each service's log goes")
    parser.add_argument("--one-process", action="store_true", help="every service in this one interpreter")
    parser.add_argument("services", nargs="+", choices=sorted(SERVICES))
    args = parser.parse_args(argv)
    services = [SERVICES[name] for name in args.services]
    args.log_dir.mkdir(parents=True, exist_ok=True)
    if args.one_process:
        return run_one_process(services)
    # Collections during the imports would leave freed holes between the objects kept: none until the fork.
    gc.disable()
    failed = preload()
    if failed:
        print(f"launcher: not preloaded (each service imports them itself): {', '.join(failed)}",
              file=sys.stderr, flush=True)
    return Launcher(services, args.log_dir).run()


if __name__ == "__main__":
    sys.exit(main())
