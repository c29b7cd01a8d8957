import pytest

from conftest import require_infra
from tests.support.stack import Stack


def stack_params():
    return ["embedded", pytest.param("distributed", marks=pytest.mark.distributed)]


def stack_of(kind: str, tmp_path, extra_env: dict[str, str] | None = None) -> Stack:
    """A stack of this kind, not started yet (Kafka and PostgreSQL required for the distributed one)."""
    if kind == "distributed":
        require_infra("GRIDGOV_TEST_KAFKA_BOOTSTRAP_SERVERS", "Apache Kafka")
        require_infra("GRIDGOV_TEST_PG_ADMIN_URL", "PostgreSQL/PostGIS")
    return Stack(kind, tmp_path, extra_env=extra_env or {})


def _running_stack(kind: str, tmp_path):
    s = stack_of(kind, tmp_path)
    s.start()
    return s


@pytest.fixture(params=stack_params())
def stack(request, tmp_path):
    """The four services running as processes, on each stack in turn."""
    s = _running_stack(request.param, tmp_path)
    yield s
    s.close()


@pytest.fixture(scope="module", params=stack_params())
def kept_stack(request, tmp_path_factory):
    """One stack of each kind for a module's tests that leave it whole (they kill and restart services, or add a
    second instance and stop it) and check only their own reports: a stack start costs 6-20 s on a busy 2-core
    machine, paid once per kind instead of once per test. A service a failed test left stopped is started again
    by ``whole_stack``."""
    s = _running_stack(request.param, tmp_path_factory.mktemp(f"kept-{request.param}"))
    yield s
    s.close()


@pytest.fixture
def whole_stack(kept_stack):
    """The module's kept stack with every service running and no second instance."""
    kept_stack.stop_extra()
    stopped = [name for name, proc in kept_stack.procs.items() if proc.poll() is not None]
    if stopped:
        kept_stack.start(stopped)
    return kept_stack


@pytest.fixture
def real_stack(tmp_path):
    """The four services on Kafka + PostgreSQL/PostGIS only (for faults of those servers)."""
    s = _running_stack("distributed", tmp_path)
    yield s
    s.close()
