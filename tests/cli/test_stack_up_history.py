"""``gridgov up`` says where the stack is before the history loads, and a failed history leaves it running."""

from __future__ import annotations

import os

import pytest

from gridgov_cli import stack
from gridgov_cli.history import run as history_run


class _FakeSupervisor:
    """Stands in for the process tree: records what run_up asked of it."""

    instances: list[_FakeSupervisor] = []

    def __init__(self, env, data_dir, mode="fork"):
        self.calls: list[str] = []
        self.mode = mode
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


def test_urls_come_before_the_history_and_a_failed_history_keeps_the_stack(tmp_path, monkeypatch, capfd,
                                                                            fake_stack):
    # The history loads in a forked child: what it prints reaches the same stdout/stderr (capfd reads the fds).
    def failing(data_dir, **_kw):
        print("HISTORY BEGINS", flush=True)
        raise RuntimeError("disk full")

    monkeypatch.setattr(history_run, "ensure", failing)
    assert stack.run_up(tmp_path) == 0
    out, err = capfd.readouterr()
    assert "gridgov is up" in out and "http://127.0.0.1:8003" in out
    assert out.index("http://127.0.0.1:8003") < out.index("HISTORY BEGINS")
    assert fake_stack[0].calls == ["start_all", "watch"]
    assert "disk full" in err and "keeps running" in err


def test_the_demo_data_loads_in_a_child_that_takes_its_imports_along(tmp_path, monkeypatch, fake_stack):
    # `gridgov up` supervises for hours: the modules the demo data's steps import must not stay in its process.
    import sys

    marker = tmp_path / "history-pid"

    def record(data_dir, **_kw):
        import colorsys  # noqa: F401 - stands in for jieba, numpy: imported by a step, not by the CLI

        marker.write_text(str(os.getpid()))

    monkeypatch.delitem(sys.modules, "colorsys", raising=False)
    monkeypatch.setattr(history_run, "ensure", record)
    assert stack.run_up(tmp_path) == 0
    assert int(marker.read_text()) != os.getpid()
    assert "colorsys" not in sys.modules


def test_ctrl_c_during_the_history_stops_the_stack(tmp_path, monkeypatch, fake_stack):
    def interrupted(data_dir, **_kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(history_run, "ensure", interrupted)
    assert stack.run_up(tmp_path) == 130
    assert fake_stack[0].calls == ["start_all", "stop_all"]


def test_failed_demo_devices_keep_the_stack_and_the_history_follows(tmp_path, monkeypatch, capfd, fake_stack):
    from gridgov_cli import sensing

    monkeypatch.setenv("GRIDGOV_DEMO_DEVICES", "100")
    asked = tmp_path / "asked"  # the steps run in a forked child: what they saw comes back through a file

    def unreachable(data_dir, registry_url, count, seed=16):
        with asked.open("a") as fh:
            fh.write(f"devices {data_dir} {registry_url} {count}\n")
        raise ConnectionError("grid-registry refused")

    def history(data_dir, **_kw):
        with asked.open("a") as fh:
            fh.write(f"history {data_dir}\n")

    monkeypatch.setattr(sensing, "ensure_demo_devices", unreachable)
    monkeypatch.setattr(history_run, "ensure", history)
    assert stack.run_up(tmp_path) == 0
    assert asked.read_text().splitlines() == [f"devices {tmp_path} http://127.0.0.1:8002 100", f"history {tmp_path}"]
    assert fake_stack[0].calls == ["start_all", "watch"]
    assert "grid-registry refused" in capfd.readouterr().err


def test_the_history_loads_before_the_first_classifier_is_trained(tmp_path, monkeypatch, fake_stack):
    # The console is empty until the history loads; a seat assistant without a model only abstains: the history
    # must not wait for the training (issue #15).
    from gridgov_cli import assist, sensing

    monkeypatch.setenv("GRIDGOV_DEMO_DEVICES", "100")
    monkeypatch.delenv("GRIDGOV_ASSIST_TRAIN", raising=False)
    asked = tmp_path / "asked"  # the steps run in a forked child: what they saw comes back through a file

    def step(name):
        def record(*_args, **_kw):
            with asked.open("a") as fh:
                fh.write(name + "\n")
        return record

    monkeypatch.setattr(sensing, "ensure_demo_devices", step("devices"))
    monkeypatch.setattr(history_run, "ensure", step("history"))
    monkeypatch.setattr(assist, "ensure_demo_model", step("assist"))
    assert stack.run_up(tmp_path) == 0
    assert asked.read_text().splitlines() == ["devices", "history", "assist"]


def test_ctrl_c_during_the_history_trains_no_classifier(tmp_path, monkeypatch, fake_stack):
    from gridgov_cli import assist

    trained = tmp_path / "trained"

    def interrupted(data_dir, **_kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(history_run, "ensure", interrupted)
    monkeypatch.setattr(assist, "ensure_demo_model", lambda *_a, **_k: trained.write_text("yes"))
    assert stack.run_up(tmp_path) == 130
    assert not trained.exists()


def test_history_off_skips_it(tmp_path, monkeypatch, fake_stack):
    monkeypatch.setenv("GRIDGOV_HISTORY", "0")
    asked = tmp_path / "asked"
    monkeypatch.setattr(history_run, "ensure", lambda *a, **k: asked.write_text("the history was asked for"))
    assert stack.run_up(tmp_path) == 0
    assert not asked.exists()
    assert fake_stack[0].calls == ["start_all", "watch"]
