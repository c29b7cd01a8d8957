"""sensing's alarm grouping polls larger batches than the runner's default: a storm's repeats fold per batch."""

from gridgov_common.bus.runner import MAX_BATCH
from gridgov_common.settings import CommonSettings
from gridgov_sensing.alarms.consumers import ALARMS, GROUPING_BATCH
from gridgov_sensing.app import build_runtime
from gridgov_sensing.settings import SensingSettings


def test_the_grouping_consumer_polls_its_own_batch_size_and_the_others_the_default(tmp_path):
    common = CommonSettings(data_dir=tmp_path, jwt_secret="x" * 32, log_json=False)
    settings = SensingSettings(common=common, database_url=f"sqlite:///{tmp_path / 'sensing.db'}", run_relay=False,
                               run_consumers=False)
    runtime = build_runtime(settings)
    sizes = {spec.group: spec.max_batch for spec in runtime.consumers}
    assert GROUPING_BATCH > MAX_BATCH
    assert sizes[ALARMS.group] == GROUPING_BATCH
    assert {size for group, size in sizes.items() if group != ALARMS.group} == {MAX_BATCH}
    runtime.db.engine.dispose()
