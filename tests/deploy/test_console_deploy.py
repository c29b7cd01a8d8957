"""Offline checks of the console's deployment artefacts (it has no database and no consumer, so the per-service
checks of test_manifests.py do not fit it): image, probes, the service URLs it proxies to, the DEV login."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from tests.deploy.test_manifests import _container, _entrypoint, _env, _of_kind, needs_kustomize

ROOT = Path(__file__).resolve().parents[2]
SERVICE_PORTS = {"event-intake": 8001, "grid-registry": 8002, "dispatch": 8003, "notification": 8004,
                 "sensing": 8005, "analytics": 8006}
URL_SETTINGS = {"INTAKE": "event-intake", "REGISTRY": "grid-registry", "DISPATCH": "dispatch",
                "NOTIFICATION": "notification", "ANALYTICS": "analytics", "SENSING": "sensing"}


def _console_deployment() -> dict:
    (dep,) = [d for d in _of_kind("Deployment") if d["metadata"]["name"] == "console-web"]
    return dep


@needs_kustomize
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


@needs_kustomize
def test_console_cluster_turns_the_dev_login_off():
    env = _env(_container(_console_deployment()))
    assert env["GRIDGOV_CONSOLE_DEV_LOGIN"]["value"] == "false"


def test_console_compose_keeps_the_dev_login_off_unless_asked():
    env = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["console"]["environment"]
    assert env["GRIDGOV_CONSOLE_DEV_LOGIN"] == "${GRIDGOV_CONSOLE_DEV_LOGIN:-false}"


@needs_kustomize
def test_console_service_routes_to_the_web_pods():
    (service,) = [s for s in _of_kind("Service") if s["metadata"]["name"] == "console"]
    labels = _console_deployment()["spec"]["template"]["metadata"]["labels"]
    assert all(labels.get(k) == v for k, v in service["spec"]["selector"].items())
    assert [(p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == [(8000, "http")]


def test_console_compose_service_waits_for_the_five_services():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    console = compose["services"]["console"]
    build = {"context": ".", "dockerfile": "deploy/docker/Dockerfile", "args": {"SERVICE": "console"}}
    assert console["build"] == build
    assert {k: v["condition"] for k, v in console["depends_on"].items()} == {
        name: "service_healthy" for name in SERVICE_PORTS}
    assert "127.0.0.1:8000:8000" in console["ports"]
    env = console["environment"]
    for key, name in URL_SETTINGS.items():
        assert env[f"GRIDGOV_CONSOLE_{key}_URL"] == f"http://{name}:{SERVICE_PORTS[name]}"
    assert re.fullmatch(r"\$\{GRIDGOV_JWT_SECRET:\?[^}]*\}", env["GRIDGOV_JWT_SECRET"])


@needs_kustomize
def test_console_image_comes_from_the_one_dockerfile():
    """The console is built like the services (deploy/docker/Dockerfile, SERVICE=console), and its CMD serves the
    console's settings: GRIDGOV_CONSOLE_*, port 8000, which the cluster's Deployment and compose use."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["console"]
    target = _entrypoint().target_of(compose["build"]["args"]["SERVICE"])
    assert (target.module, target.env_prefix, target.default_port) == ("gridgov_console", "GRIDGOV_CONSOLE_", 8000)
    c = _container(_console_deployment())
    assert c["image"] == compose["image"] == "gridgov/console:0.1.0"
    assert _env(c)["GRIDGOV_CONSOLE_PORT"]["value"] == str(compose["environment"]["GRIDGOV_CONSOLE_PORT"]) == "8000"
