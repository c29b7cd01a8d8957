"""The environment `gridgov up` gives its processes: one data dir, each service on its port."""

from pathlib import Path

from gridgov_cli.stack import SERVICES, service_env


def test_default_ports_when_nothing_is_set(tmp_path: Path):
    env = service_env({}, tmp_path)
    assert {name: env[f"{svc.env_prefix}PORT"] for name, svc in SERVICES.items()} == \
        {name: str(svc.port) for name, svc in SERVICES.items()}
    assert env["GRIDGOV_DATA_DIR"] == str(tmp_path.resolve())


def test_a_port_from_the_environment_is_kept(tmp_path: Path):
    env = service_env({"GRIDGOV_CONSOLE_PORT": "9000"}, tmp_path)
    assert env["GRIDGOV_CONSOLE_PORT"] == "9000"
    assert env["GRIDGOV_DISPATCH_PORT"] == str(SERVICES["dispatch"].port)


def test_explicit_ports_win_over_the_environment(tmp_path: Path):
    env = service_env({"GRIDGOV_CONSOLE_PORT": "9000"}, tmp_path, {"console": 9100})
    assert env["GRIDGOV_CONSOLE_PORT"] == "9100"
