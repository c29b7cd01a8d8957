"""``gridgov up`` says where the stack is before the history loads, and a failed history leaves it running."""

from __future__ import annotations

import pytest

from gridgov_cli import stack
from gridgov_cli.history import run as history_run


class _FakeSupervisor:
    """Stands in for the process tree: records what run_up asked of it."""

    instances: list[_FakeSupervisor] = []

    def __init__(self, env, data_dir):
        self.calls: list[str] = []
        self.log_dir = data_dir / "logs"
        _FakeSupervisor.instances.append(self)

    def start_all(self):
        self.calls.append("start_all")

    def stop_all(self, *_args):
        self.calls.append("stop_all")

    def watch(self):
        self.calls.append("watch")
        return 0


@pytest.fixture
def fake_stack(monkeypatch):
    _FakeSupervisor.instances.clear()
    monkeypatch.setattr(stack, "Supervisor", _FakeSupervisor)
    monkeypatch.setattr(stack, "wait_ready", lambda urls, timeout: None)
    monkeypatch.delenv("GRIDGOV_HISTORY", raising=False)
    monkeypatch.setenv("GRIDGOV_DEMO_DEVICES", "0")  # no grid-registry behind the fake tree to place devices in
    return _FakeSupervisor.instances


def test_urls_come_before_the_history_and_a_failed_history_keeps_the_stack(tmp_path, monkeypatch, capsys,
                                                                            fake_stack):
    seen: list[str] = []

    def failing(data_dir, **_kw):
        seen.append(capsys.readouterr().out)  # what the user had read when the history began
        raise RuntimeError("disk full")

    monkeypatch.setattr(history_run, "ensure", failing)
    assert stack.run_up(tmp_path) == 0
    assert "gridgov is up" in seen[0] and "http://127.0.0.1:8003" in seen[0]
    assert fake_stack[0].calls == ["start_all", "watch"]
    err = capsys.readouterr().err
    assert "disk full" in err and "keeps running" in err


def test_ctrl_c_during_the_history_stops_the_stack(tmp_path, monkeypatch, fake_stack):
    def interrupted(data_dir, **_kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(history_run, "ensure", interrupted)
    assert stack.run_up(tmp_path) == 130
    assert fake_stack[0].calls == ["start_all", "stop_all"]


def test_failed_demo_devices_keep_the_stack_and_the_history_follows(tmp_path, monkeypatch, capsys, fake_stack):
    from gridgov_cli import sensing

    monkeypatch.setenv("GRIDGOV_DEMO_DEVICES", "100")
    asked: list[tuple] = []

    def unreachable(data_dir, registry_url, count, seed=16):
        asked.append((data_dir, registry_url, count))
        raise ConnectionError("grid-registry refused")

    monkeypatch.setattr(sensing, "ensure_demo_devices", unreachable)
    monkeypatch.setattr(history_run, "ensure", lambda data_dir, **_kw: None)
    assert stack.run_up(tmp_path) == 0
    assert asked == [(tmp_path, "http://127.0.0.1:8002", 100)]
    assert fake_stack[0].calls == ["start_all", "watch"]
    assert "grid-registry refused" in capsys.readouterr().err


def test_history_off_skips_it(tmp_path, monkeypatch, fake_stack):
    monkeypatch.setenv("GRIDGOV_HISTORY", "0")
    monkeypatch.setattr(history_run, "ensure", lambda *a, **k: pytest.fail("the history was asked for"))
    assert stack.run_up(tmp_path) == 0
    assert fake_stack[0].calls == ["start_all", "watch"]
