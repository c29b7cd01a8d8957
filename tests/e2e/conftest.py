import pytest

from conftest import require_infra
from tests.support.stack import Stack


def stack_params():
    return ["embedded", pytest.param("distributed", marks=pytest.mark.distributed)]


@pytest.fixture(params=stack_params())
def stack(request, tmp_path):
    """The four services running as processes, on each stack in turn."""
    if request.param == "distributed":
        require_infra("GRIDGOV_TEST_KAFKA_BOOTSTRAP_SERVERS", "Apache Kafka")
        require_infra("GRIDGOV_TEST_PG_ADMIN_URL", "PostgreSQL/PostGIS")
    s = Stack(request.param, tmp_path)
    s.start()
    yield s
    s.close()
