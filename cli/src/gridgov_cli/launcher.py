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

``--serve-forks`` keeps the imported libraries and forks a service whenever asked, with the environment the
request gives, and never restarts one (``ForkServer``): what the test stacks and benchmarks start their services
from (through ``gridgov_cli.stack.ForkClient``), so that each of the test suite's many stack starts does not import
the same libraries in seven fresh interpreters again.

Run by ``gridgov up`` (``gridgov_cli.stack.Supervisor``), not by hand:
``python -m gridgov_cli.launcher --log-dir DIR [--one-process] SERVICE...`` with the stack's environment, or
``python -m gridgov_cli.launcher --serve-forks`` by ``ForkClient``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import json
import os
import runpy
import select
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


def _run_child(svc: ServiceDef, log_path: Path, launcher_pid: int, forked_safely: bool,
               env: dict[str, str] | None = None) -> None:
    """In the child: detach from the launcher's signal handling, take ``env`` as its environment if given, log to
    ``log_path``, serve; never returns."""
    code = 1
    try:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)
        _die_with_parent()
        if os.getppid() != launcher_pid:  # the launcher died before prctl took effect
            os._exit(1)
        if env is not None:
            os.environ.clear()
            os.environ.update(env)
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        # Not the launcher's stdin (a fork server's request pipe): a service reads nothing from it.
        fd = os.open(os.devnull, os.O_RDONLY)
        os.dup2(fd, 0)
        os.close(fd)
        if not forked_safely:
            # A thread of the parent may have held a lock at the fork: start clean, as spawn did.
            os.execv(sys.executable, [sys.executable, "-m", svc.module])  # with os.environ, as set above
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


def fork_service(svc: ServiceDef, log_path: Path, env: dict[str, str] | None = None) -> int:
    """Fork one service as a child of this process (``_run_child``: logging to ``log_path``, with ``env`` as its
    environment if given); its pid."""
    safe = thread_count() == 1
    if not safe:
        print(f"launcher: {thread_count()} threads running; {svc.name} starts as a fresh interpreter instead of "
              "a fork", file=sys.stderr, flush=True)
    gc.freeze()  # objects that exist now are never scanned again: a child's collections leave their pages shared
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        _run_child(svc, log_path, parent, safe, env)
    return pid


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
        pid = fork_service(self.services[name], self.log_dir / f"{name}.log")
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
        stop_children(set(self.children))
        self.children.clear()
        self.write_pids()


def stop_children(pids: set[int]) -> None:
    """SIGTERM these children of this process, SIGKILL those still running after the grace period, reap them all
    (``pids`` is emptied)."""
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    while pids and time.monotonic() < deadline:
        for pid in list(pids):
            try:
                if os.waitpid(pid, os.WNOHANG)[0]:
                    pids.discard(pid)
            except ChildProcessError:
                pids.discard(pid)
        time.sleep(0.1)
    for pid in pids:
        _signal(pid, signal.SIGKILL)
    for pid in list(pids):
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        pids.discard(pid)


class ForkServer:
    """Forks a service whenever asked on stdin, one JSON request a line, and answers on stdout, one a line:

    - ``{"op": "fork", "service": NAME, "env": {...}, "log": PATH}`` → ``{"pid": PID}``: the service as a child of
      this process, with that environment, its output appended to PATH;
    - ``{"op": "poll", "pid": PID}`` → ``{"code": CODE}``: its exit code (``-N`` for signal N, as
      ``subprocess.Popen.returncode``), or null while it runs.

    A child that exits is reaped and its code kept until asked, never restarted. End of input (the client closed
    the pipe or died) stops every child still running, as ``Launcher.stop_all`` does, and ends the server."""

    def __init__(self) -> None:
        self.running: set[int] = set()
        self.codes: dict[int, int] = {}

    def reap(self) -> None:
        """Collect the exit codes of the children that have exited."""
        while self.running:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.running.discard(pid)
            self.codes[pid] = os.waitstatus_to_exitcode(status)

    def answer(self, request: dict) -> dict:
        """The answer to one request."""
        if request.get("op") == "fork":
            if request.get("service") not in SERVICES:
                return {"error": f"unknown service {request.get('service')!r}"}
            pid = fork_service(SERVICES[request["service"]], Path(request["log"]), dict(request["env"]))
            self.running.add(pid)
            return {"pid": pid}
        if request.get("op") == "poll":
            self.reap()
            pid = int(request["pid"])
            if pid in self.running:
                return {"code": None}
            if pid in self.codes:
                return {"code": self.codes[pid]}
            return {"error": f"{pid} is not a child of this server"}
        return {"error": f"unknown request {request!r}"}

    def run(self) -> int:
        """Answer requests until the end of input, then stop the children; the exit code."""
        signal.signal(signal.SIGTERM, lambda *_: os.close(0))  # stop as at the end of input
        pending = b""
        while True:
            try:
                ready, _, _ = select.select([0], [], [], 0.5)
                chunk = os.read(0, 65536) if ready else None
            except OSError:  # stdin closed by the SIGTERM handler
                chunk = b""
            self.reap()
            if chunk == b"":
                break
            pending += chunk or b""
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                try:
                    reply = self.answer(json.loads(line))
                except Exception as exc:  # noqa: BLE001 - a bad request is answered, the server goes on
                    reply = {"error": f"{type(exc).__name__}: {exc}"}
                os.write(1, json.dumps(reply).encode() + b"\n")
        stop_children(self.running)
        return 0


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
    """Entry point: ``python -m gridgov_cli.launcher --log-dir DIR [--one-process] SERVICE...`` or
    ``python -m gridgov_cli.launcher --serve-forks``."""
    parser = argparse.ArgumentParser(prog="python -m gridgov_cli.launcher", description=__doc__.splitlines()[0])
    parser.add_argument("--log-dir", type=Path, help="where each service's log goes (not with --serve-forks)")
    parser.add_argument("--one-process", action="store_true", help="every service in this one interpreter")
    parser.add_argument("--serve-forks", action="store_true",
                        help="fork services when asked on stdin (see ForkServer) instead of starting SERVICE...")
    # No ``choices``: argparse checks an empty ``*`` list against them (and refuses it); checked below instead.
    parser.add_argument("services", nargs="*", metavar="SERVICE", help=f"of {', '.join(sorted(SERVICES))}")
    args = parser.parse_args(argv)
    unknown = [name for name in args.services if name not in SERVICES]
    if unknown:
        parser.error(f"unknown services: {', '.join(unknown)} (choose from {', '.join(sorted(SERVICES))})")
    if args.serve_forks:
        if args.services or args.log_dir or args.one_process:
            parser.error("--serve-forks takes no services, --log-dir nor --one-process: each request names them")
    elif not args.services or not args.log_dir:
        parser.error("name the services to start and --log-dir")
    else:
        args.log_dir.mkdir(parents=True, exist_ok=True)
    services = [SERVICES[name] for name in args.services]
    if args.one_process:
        return run_one_process(services)
    # Collections during the imports would leave freed holes between the objects kept: none until the fork.
    gc.disable()
    failed = preload()
    if failed:
        print(f"launcher: not preloaded (each service imports them itself): {', '.join(failed)}",
              file=sys.stderr, flush=True)
    if args.serve_forks:
        return ForkServer().run()
    return Launcher(services, args.log_dir).run()


if __name__ == "__main__":
    sys.exit(main())
