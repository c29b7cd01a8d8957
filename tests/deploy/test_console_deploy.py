"""Offline checks of the console's deployment artefacts (it has no database and no consumer, so the per-service
checks of test_manifests.py do not fit it): image, probes, the service URLs it proxies to, the DEV login."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from tests.deploy.test_manifests import _container, _env, _instructions, _of_kind

ROOT = Path(__file__).resolve().parents[2]
SERVICE_PORTS = {"event-intake": 8001, "grid-registry": 8002, "dispatch": 8003, "notification": 8004}
URL_SETTINGS = {"INTAKE": "event-intake", "REGISTRY": "grid-registry", "DISPATCH": "dispatch",
                "NOTIFICATION": "notification"}


def _console_deployment() -> dict:
    (dep,) = [d for d in _of_kind("Deployment") if d["metadata"]["name"] == "console-web"]
    return dep


def test_console_deployment_proxies_to_the_cluster_services():
    c = _container(_console_deployment())
    assert c["image"] == "gridgov/console:0.1.0"
    assert [p["containerPort"] for p in c["ports"]] == [8000]
    env = _env(c)
    services = {s["metadata"]["name"]: s for s in _of_kind("Service")}
    for key, name in URL_SETTINGS.items():
        assert env[f"GRIDGOV_CONSOLE_{key}_URL"]["value"] == f"http://{name}:{SERVICE_PORTS[name]}"
        assert [p["port"] for p in services[name]["spec"]["ports"]] == [SERVICE_PORTS[name]]
    assert env["GRIDGOV_JWT_SECRET"]["valueFrom"]["secretKeyRef"]["name"] == "gridgov-secrets"
    assert "DATABASE_URL" not in " ".join(env)


def test_console_cluster_turns_the_dev_login_off():
    env = _env(_container(_console_deployment()))
    assert env["GRIDGOV_CONSOLE_DEV_LOGIN"]["value"] == "false"


def test_console_compose_keeps_the_dev_login_off_unless_asked():
    env = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["console"]["environment"]
    assert env["GRIDGOV_CONSOLE_DEV_LOGIN"] == "${GRIDGOV_CONSOLE_DEV_LOGIN:-false}"


def test_console_service_routes_to_the_web_pods():
    (service,) = [s for s in _of_kind("Service") if s["metadata"]["name"] == "console"]
    labels = _console_deployment()["spec"]["template"]["metadata"]["labels"]
    assert all(labels.get(k) == v for k, v in service["spec"]["selector"].items())
    assert [(p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == [(8000, "http")]


def test_console_compose_service_waits_for_the_four_services():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    console = compose["services"]["console"]
    assert console["build"] == {"context": ".", "dockerfile": "deploy/docker/console.Dockerfile"}
    assert {k: v["condition"] for k, v in console["depends_on"].items()} == {
        name: "service_healthy" for name in SERVICE_PORTS}
    assert "127.0.0.1:8000:8000" in console["ports"]
    env = console["environment"]
    for key, name in URL_SETTINGS.items():
        assert env[f"GRIDGOV_CONSOLE_{key}_URL"] == f"http://{name}:{SERVICE_PORTS[name]}"
    assert re.fullmatch(r"\$\{GRIDGOV_JWT_SECRET:\?[^}]*\}", env["GRIDGOV_JWT_SECRET"])


def test_console_dockerfile_matches_the_service_dockerfiles():
    def normalised(name: str, module: str, prefix: str, port: int) -> list[tuple[str, str]]:
        ins = [(w, a) for w, a in _instructions(ROOT / "deploy" / "docker" / f"{name}.Dockerfile")
               if not (w == "COPY" and re.fullmatch(r"services/[\w-]+/pyproject\.toml services/[\w-]+/", a))]
        return [(w, a.replace(module, "MODULE").replace(prefix, "PREFIX_").replace(str(port), "PORT")
                 .replace(name, "SERVICE")) for w, a in ins]

    console = normalised("console", "gridgov_console", "GRIDGOV_CONSOLE_", 8000)
    assert console == normalised("notification", "gridgov_notification", "GRIDGOV_NOTIFICATION_", 8004)
    copies = [a for w, a in _instructions(ROOT / "deploy" / "docker" / "console.Dockerfile") if w == "COPY"]
    assert "services/console/pyproject.toml services/console/" in copies
