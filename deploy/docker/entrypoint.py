"""The image's entry point: run, or health-check, the gridgov service the image was built for.

deploy/docker/Dockerfile is one file for the five services; its build argument ``SERVICE`` (a workspace member under
services/, e.g. ``dispatch``) is kept in the image as ``GRIDGOV_SERVICE``. This script turns that name into what the
service reads: the module ``gridgov_<service>`` (run as ``python -m`` would) and the env prefix and default port of
the service's settings class, so the image learns them from the code instead of a second copy of the table.

    python /app/entrypoint.py               # serve (the image's CMD)
    python /app/entrypoint.py healthcheck   # GET /healthz on the service's port (the image's HEALTHCHECK)
    python /app/entrypoint.py record        # at build time: note module, prefix and port in /app/service.json

The record spares the health check, run every 15 s, the second it takes to import the settings (pydantic), and
fails the build of an image whose service cannot even be imported.
"""

from __future__ import annotations

import importlib
import json
import os
import runpy
import sys
import urllib.request
from collections.abc import Mapping, MutableMapping
from dataclasses import asdict, dataclass
from pathlib import Path

# The image listens on every interface of its container unless told otherwise (the settings default to loopback,
# right for the embedded stack, useless behind a container's port mapping).
CONTAINER_HOST = "0.0.0.0"
# Written at build time beside this script (in the image: /app/service.json); absent in a checkout.
RECORD = Path(__file__).with_name("service.json")


@dataclass(frozen=True)
class Target:
    """What the image runs: the service's module, its settings' env prefix and its default port."""

    service: str
    module: str
    env_prefix: str
    default_port: int

    def port(self, environ: Mapping[str, str]) -> int:
        """The port the service listens on: its ``<prefix>PORT`` setting, else the settings' default."""
        return int(environ.get(f"{self.env_prefix}PORT") or self.default_port)


def module_of(service: str) -> str:
    """The Python package of a workspace member: ``event-intake`` -> ``gridgov_event_intake``."""
    return "gridgov_" + service.replace("-", "_")


def target_of(service: str) -> Target:
    """Read the service's settings class (the one ServiceSettings subclass in ``gridgov_<service>.settings``)."""
    from gridgov_common.settings import ServiceSettings

    module = module_of(service)
    settings = importlib.import_module(f"{module}.settings")
    classes = [
        c
        for c in vars(settings).values()
        if isinstance(c, type) and issubclass(c, ServiceSettings) and c.__module__ == settings.__name__
    ]
    if len(classes) != 1:
        raise LookupError(f"{settings.__name__}: expected one ServiceSettings subclass, found {len(classes)}")
    (cls,) = classes
    return Target(service, module, cls.model_config["env_prefix"], cls.model_fields["port"].default)


def load_target(service: str, record: Path) -> Target:
    """The target noted at build time if it is this service's, else read from the service's settings."""
    if record.is_file():
        noted = Target(**json.loads(record.read_text()))
        if noted.service == service:
            return noted
    return target_of(service)


def main(argv: list[str], environ: MutableMapping[str, str], record: Path = RECORD) -> int:
    """Serve the service named by GRIDGOV_SERVICE, check its /healthz (``healthcheck``) or note it (``record``)."""
    service = environ.get("GRIDGOV_SERVICE", "")
    if not service:
        print("entrypoint: GRIDGOV_SERVICE is unset (build the image with --build-arg SERVICE=<service>)",
              file=sys.stderr)
        return 2
    if argv[1:] == ["record"]:
        record.write_text(json.dumps(asdict(target_of(service))))
        return 0
    target = load_target(service, record)
    if argv[1:] == ["healthcheck"]:
        url = f"http://127.0.0.1:{target.port(environ)}/healthz"
        with urllib.request.urlopen(url, timeout=4) as answer:  # noqa: S310 - a fixed loopback http URL
            return 0 if answer.status == 200 else 1
    if argv[1:]:
        print(f"entrypoint: unknown arguments {argv[1:]} (none, healthcheck or record)", file=sys.stderr)
        return 2
    environ.setdefault(f"{target.env_prefix}HOST", CONTAINER_HOST)
    # As `python -m gridgov_<service>` would: PID 1 stays this Python process, so signals reach the server.
    runpy.run_module(target.module, run_name="__main__", alter_sys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv, os.environ))
