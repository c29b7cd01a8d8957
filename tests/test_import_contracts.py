"""The import contracts (``.importlinter``) hold for the code, and each of them breaks when its rule is broken.

The contracts: services never import each other; only the bus adapter imports kafka; inside a domain folder views
sit above handlers above service above models; in a service the entry points sit above the app and the app above
its consumers; the pure domain modules import no I/O; the folders of dispatch and grid-registry import each other
in no cycle. The second half builds a stand-in tree with the same package and module names, breaks one rule at a
time, and runs the real configuration on it, so a contract that could never fail would show here.
"""

from __future__ import annotations

import configparser
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / ".importlinter"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
SUMMARY = re.compile(r"Contracts: (\d+) kept, (\d+) broken")


def lint_imports(*args: str, cwd: Path = ROOT, pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if pythonpath is not None:  # stand-in packages first on the path: they shadow the workspace's own
        env["PYTHONPATH"] = os.pathsep.join([str(pythonpath), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def contracts() -> dict[str, configparser.SectionProxy]:
    parser = configparser.ConfigParser()
    parser.read(CONFIG, encoding="utf-8")
    return {name.split(":", 2)[2]: parser[name] for name in parser.sections()
            if name.startswith("importlinter:contract:")}


def test_import_contracts_hold_for_the_workspace():
    result = lint_imports(str(CONFIG))
    summary = SUMMARY.search(result.stdout)
    assert result.returncode == 0 and summary is not None, result.stdout + result.stderr
    kept, broken = map(int, summary.groups())
    assert (kept, broken) == (len(contracts()), 0), result.stdout


# --- each contract can fail ----------------------------------------------------------------------------------------

def _lines(value: str) -> list[str]:
    return [line.split("#")[0].strip() for line in value.splitlines() if line.split("#")[0].strip()]


def _module_names(config: dict[str, configparser.SectionProxy]) -> set[str]:
    """Every concrete module a contract names (wildcards and external packages left out)."""
    parser = configparser.ConfigParser()
    parser.read(CONFIG, encoding="utf-8")
    roots = _lines(parser["importlinter"]["root_packages"])
    names: set[str] = set(roots)
    for section in config.values():
        for key in ("modules", "source_modules", "forbidden_modules", "ancestors"):
            names.update(_lines(section.get(key, "")))
        containers = _lines(section.get("containers", ""))
        layers = [tail.strip(" ()") for layer in _lines(section.get("layers", "")) for tail in re.split(r"[|:]", layer)]
        names.update(f"{c}.{layer}" for c in containers for layer in layers)
        names.update(containers)
    return {n for n in names if "*" not in n and n.split(".")[0] in roots}


def _write(root: Path, module: str, body: str = "", package: bool = False) -> None:
    """Append ``body`` to a module of the tree (a package's ``__init__``), making its parents packages."""
    parts = module.split(".")
    for i in range(1, len(parts)):
        init = root.joinpath(*parts[:i], "__init__.py")
        init.parent.mkdir(parents=True, exist_ok=True)
        init.touch()
    path = root.joinpath(*parts)
    target = path / "__init__.py" if package or path.is_dir() else path.with_suffix(".py")
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("a", encoding="utf-8") as f:
        f.write(body)


def _stand_in_tree(root: Path) -> None:
    """A tree with every module the contracts name, importing nothing forbidden, plus the one allowed kafka import."""
    names = _module_names(contracts())
    parents = {n.rsplit(".", 1)[0] for n in names if "." in n}
    for name in sorted(names):
        _write(root, name, package=name in parents or "." not in name)
    for external in ("kafka", "sqlmodel"):
        _write(root, external)
    _write(root, "gridgov_common.bus.kafka", "import kafka\n")
    # A clean service: folders building on one another in one direction only.
    _write(root, "gridgov_grid_registry.roster.service", "import gridgov_grid_registry.grids.models\n")
    _write(root, "gridgov_dispatch.tickets.views", "import gridgov_dispatch.tickets.handlers\n")


# contract id → (module, the import that breaks it)
BREAKS = {
    "services-independent": ("gridgov_event_intake.app", "import gridgov_dispatch.app\n"),
    "kafka-bus-adapter": ("gridgov_notification.app", "import kafka\n"),
    "domain-layers": ("gridgov_dispatch.tickets.models", "import gridgov_dispatch.tickets.views\n"),
    "service-top": ("gridgov_dispatch.consumers", "import gridgov_dispatch.app\n"),
    "pure-domain": ("gridgov_dispatch.rules.engine", "import sqlmodel\n"),
    "acyclic-folders": ("gridgov_grid_registry.grids.views", "import gridgov_grid_registry.roster.service\n"),
}


def test_every_contract_has_a_breaking_case():
    assert set(BREAKS) == set(contracts())


def test_import_contracts_hold_for_the_clean_stand_in_tree(tmp_path):
    _stand_in_tree(tmp_path)
    result = lint_imports(str(CONFIG), cwd=tmp_path, pythonpath=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert SUMMARY.search(result.stdout).groups() == (str(len(contracts())), "0")


@pytest.mark.parametrize("contract", sorted(BREAKS))
def test_import_contract_breaks_when_its_rule_is_broken(tmp_path, contract):
    _stand_in_tree(tmp_path)
    module, line = BREAKS[contract]
    _write(tmp_path, module, line)
    result = lint_imports(str(CONFIG), cwd=tmp_path, pythonpath=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    name = contracts()[contract]["name"]
    # Only the contract whose rule was broken is reported broken, under its own name.
    assert SUMMARY.search(result.stdout).groups() == (str(len(contracts()) - 1), "1"), result.stdout
    broken = result.stdout.split("Broken contracts", 1)[1]
    assert " ".join(name.split()) in " ".join(broken.split()), result.stdout
