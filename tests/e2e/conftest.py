import pytest

from conftest import require_infra
from tests.support.stack import Stack


def stack_params():
    return ["embedded", pytest.param("distributed", marks=pytest.mark.distributed)]


def _running_stack(kind: str, tmp_path):
    if kind == "distributed":
        require_infra("GRIDGOV_TEST_KAFKA_BOOTSTRAP_SERVERS", "Apache Kafka")
        require_infra("GRIDGOV_TEST_PG_ADMIN_URL", "PostgreSQL/PostGIS")
    s = Stack(kind, tmp_path)
    s.start()
    return s


@pytest.fixture(params=stack_params())
def stack(request, tmp_path):
    """The four services running as processes, on each stack in turn."""
    s = _running_stack(request.param, tmp_path)
    yield s
    s.close()


@pytest.fixture
def real_stack(tmp_path):
    """The four services on Kafka + PostgreSQL/PostGIS only (for faults of those servers)."""
    s = _running_stack("distributed", tmp_path)
    yield s
    s.close()
