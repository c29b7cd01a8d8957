"""`gridgov up` starts the services forked from one launcher (issue #18, memory): each service is still its own
process with its own log, one that dies is restarted, and stopping the launcher stops them all; ``--one-process``
serves them from one interpreter. Real processes on free ports of 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from gridgov_cli import main as cli_main
from gridgov_cli import stack
from gridgov_cli.launcher import PIDS_FILE
from gridgov_cli.stack import SERVICES, launch, service_env, wait_ready
from tests.support.stack import free_port

# Two services are enough to show the launcher's behaviour and start in seconds.
NAMES = ["console", "dispatch"]


def _env(data_dir: Path) -> tuple[dict[str, str], dict[str, str]]:
    ports = {name: free_port() for name in SERVICES}
    env = service_env({k: v for k, v in os.environ.items() if not k.startswith("GRIDGOV_")}, data_dir, ports)
    env["GRIDGOV_JWT_SECRET"] = "launcher-test-secret-not-for-production"
    return env, {name: f"http://127.0.0.1:{ports[name]}" for name in NAMES}


def _pids(log_dir: Path) -> dict:
    return json.loads((log_dir / PIDS_FILE).read_text())


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _timeout() -> float:
    return float(os.environ.get("GRIDGOV_TEST_STACK_START_S", "90"))


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc (Linux)")
def test_forked_services_restart_alone_and_stop_with_the_launcher(tmp_path):
    env, urls = _env(tmp_path)
    log_dir = tmp_path / "logs"
    proc = launch(NAMES, env, log_dir)
    again: dict[str, int] = {}
    try:
        wait_ready(urls, _timeout())
        first = _pids(log_dir)
        assert first["launcher"] == proc.pid
        assert sorted(first["services"]) == sorted(NAMES)
        for name, pid in first["services"].items():
            # Children of the launcher, each named after its service, each logging to its own file.
            stat = Path(f"/proc/{pid}/stat").read_text()
            assert int(stat.rsplit(")", 1)[1].split()[1]) == proc.pid
            assert Path(f"/proc/{pid}/comm").read_text().strip() == name
            assert (log_dir / f"{name}.log").stat().st_size > 0
        os.kill(first["services"]["dispatch"], signal.SIGKILL)
        deadline = time.monotonic() + _timeout()
        while time.monotonic() < deadline:
            now = _pids(log_dir)["services"]
            if now.get("dispatch") not in (None, first["services"]["dispatch"]):
                break
            time.sleep(0.2)
        wait_ready(urls, _timeout())
        again = _pids(log_dir)["services"]
        assert again["dispatch"] != first["services"]["dispatch"]
        assert again["console"] == first["services"]["console"], "only the dead service is restarted"
        assert httpx.get(f"{urls['dispatch']}/readyz", timeout=5).status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    children = _pids(log_dir)
    assert children["services"] == {}
    assert not any(_alive(pid) for pid in again.values())


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc (Linux)")
def test_services_die_with_a_killed_launcher(tmp_path):
    env, urls = _env(tmp_path)
    proc = launch(NAMES, env, tmp_path / "logs")
    try:
        wait_ready(urls, _timeout())
        children = _pids(tmp_path / "logs")["services"]
    finally:
        proc.kill()  # no chance to stop its children: the kernel's parent-death signal must
        proc.wait(10)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(_alive(pid) for pid in children.values()):
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in children.values())


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc (Linux)")
def test_fork_server_starts_services_with_their_env_and_never_restarts_one(tmp_path):
    # What the test stacks start their services from: each fork takes the environment of its request (two
    # consoles on two ports, two data dirs), a killed one stays dead with its signal as its code, and closing
    # the client stops the one still running.
    forks = stack.ForkClient()
    started = []
    try:
        for n in (1, 2):
            env, urls = _env(tmp_path / f"stack{n}")
            started.append((forks.spawn(SERVICES["console"], env, tmp_path / f"logs{n}"), urls["console"]))
        wait_ready({f"console{n}": url for n, (_, url) in enumerate(started)}, _timeout())
        (first, first_url), (second, second_url) = started
        assert first.poll() is None and second.poll() is None
        server = forks._server.pid
        for proc in (first, second):
            assert int(Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[1]) == server
        assert (tmp_path / "logs1" / "console.log").stat().st_size > 0
        first.kill()
        assert first.wait(20) == -signal.SIGKILL
        time.sleep(1.5)  # a launcher would have forked it again by now
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"{first_url}/readyz", timeout=2)
        assert httpx.get(f"{second_url}/readyz", timeout=5).status_code == 200
        with pytest.raises(RuntimeError, match="not a child"):
            forks.poll(os.getpid())
        with pytest.raises(RuntimeError, match="unknown service 'no-such-service'"):
            forks._ask({"op": "fork", "service": "no-such-service", "env": {}, "log": str(tmp_path / "x.log")})
    finally:
        forks.close()
    assert not any(_alive(proc.pid) for proc, _ in started)


def test_one_process_serves_every_service_and_stops_cleanly(tmp_path):
    env, urls = _env(tmp_path)
    proc = launch(NAMES, env, tmp_path / "logs", one_process=True)
    try:
        wait_ready(urls, _timeout())
        assert not (tmp_path / "logs" / PIDS_FILE).exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(60)
    assert code == 0, (tmp_path / "logs" / "one-process.log").read_text()[-2000:]


def test_the_launcher_imports_its_libraries_without_starting_a_thread():
    # Run in a fresh interpreter: the test process itself has threads (pytest-xdist, httpx...).
    import subprocess
    import sys

    code = ("from gridgov_cli.launcher import preload, thread_count; failed = preload(); "
            "print(failed, thread_count())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.split() == ["[]", "1"]


def test_up_forks_by_default_and_takes_the_other_modes(monkeypatch, tmp_path):
    seen: list[str] = []
    monkeypatch.setattr(cli_main, "run_up", lambda data_dir, mode: seen.append(mode) or 0)
    for argv, mode in ((["up"], "fork"), (["up", "--one-process"], "one-process"),
                       (["up", "--launch", "spawn"], "spawn")):
        assert cli_main.main(["--data-dir", str(tmp_path), *argv]) == 0
        assert seen[-1] == mode
    with pytest.raises(SystemExit):
        cli_main.main(["up", "--launch", "threads"])


def test_supervisor_starts_one_launcher_or_each_service(monkeypatch, tmp_path):
    started: list[tuple] = []
    monkeypatch.setattr(stack, "spawn", lambda svc, env, log_dir: started.append(("spawn", svc.name)) or object())
    monkeypatch.setattr(stack, "launch", lambda names, env, log_dir, one_process=False:
                        started.append(("launch", tuple(names), one_process)) or object())
    stack.Supervisor({}, tmp_path, "fork").start_all()
    assert started == [("launch", tuple(SERVICES), False)]
    started.clear()
    stack.Supervisor({}, tmp_path, "one-process").start_all()
    assert started == [("launch", tuple(SERVICES), True)]
    started.clear()
    stack.Supervisor({}, tmp_path, "spawn").start_all()
    assert started == [("spawn", name) for name in SERVICES]
    with pytest.raises(ValueError, match="launch mode"):
        stack.Supervisor({}, tmp_path, "threads")


class _Exited:
    """A process handle that has already exited with ``code``."""

    def __init__(self, code: int | None):
        self.code = code

    def poll(self):
        return self.code


def test_supervisor_restarts_a_launcher_that_dies_and_says_so(monkeypatch, tmp_path, capsys):
    sup = stack.Supervisor({}, tmp_path, "fork")
    sup.procs = {"launcher": _Exited(-9)}
    restarted: list[str] = []

    def start(name):
        restarted.append(name)
        sup.stopping = True  # one turn of the watch is enough
        return _Exited(None)

    monkeypatch.setattr(sup, "_start", start)
    monkeypatch.setattr(stack.signal, "signal", lambda *_a: None)  # leave pytest's handlers alone
    assert sup.watch() == 0
    assert restarted == ["launcher"]
    assert "launcher exited with -9; restarting" in capsys.readouterr().err
