"""What sensing's runtime asks of the shared machinery for alarm storms: its own poll size for the grouping
consumer, a larger SQLite page cache and a longer WAL between checkpoints (measured:
bench/results/sensing_grouping_batch.json, bench/results/sensing_cache.json, bench/results/sensing_checkpoint.json);
and the alarm log's retention."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from gridgov_common.bus.runner import MAX_BATCH
from gridgov_common.settings import CommonSettings
from gridgov_sensing.alarms.consumers import ALARMS, GROUPING_BATCH
from gridgov_sensing.app import build_runtime
from gridgov_sensing.runtime import SensingRuntime
from gridgov_sensing.settings import SensingSettings
from gridgov_sensing.tables import SQLITE_CACHE_KIB, SQLITE_CHECKPOINT_PAGES


@pytest.fixture
def runtime(tmp_path) -> Iterator[SensingRuntime]:
    common = CommonSettings(data_dir=tmp_path, jwt_secret="x" * 32, log_json=False)
    # The URL named here: a PostgreSQL one in the environment (CI's real-stack phase) must not replace it.
    settings = SensingSettings(common=common, database_url=f"sqlite:///{tmp_path / 'sensing.db'}", run_relay=False,
                               run_consumers=False)
    built = build_runtime(settings)
    yield built
    built.db.engine.dispose()


def test_the_grouping_consumer_polls_its_own_batch_size_and_the_others_the_default(runtime):
    sizes = {spec.group: spec.max_batch for spec in runtime.consumers}
    assert GROUPING_BATCH > MAX_BATCH
    assert sizes[ALARMS.group] == GROUPING_BATCH
    assert {size for group, size in sizes.items() if group != ALARMS.group} == {MAX_BATCH}


def test_sensing_opens_its_sqlite_database_with_its_page_cache(runtime):
    assert SQLITE_CACHE_KIB > 2_000  # larger than SQLite's default, or there is nothing to set
    with runtime.db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar_one() == -SQLITE_CACHE_KIB


def test_sensing_opens_its_sqlite_database_with_its_checkpoint_interval(runtime):
    assert SQLITE_CHECKPOINT_PAGES > 1_000  # longer than SQLite's default, or there is nothing to set
    with runtime.db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() == SQLITE_CHECKPOINT_PAGES


@pytest.mark.parametrize("days", [1, 7, 30, -1, 3651])
def test_an_alarm_retention_shorter_than_a_replay_is_refused_naming_the_setting(days):
    with pytest.raises(ValidationError) as refused:
        SensingSettings(alarm_retention_days=days)
    assert refused.value.errors()[0]["loc"] == ("alarm_retention_days",)


def test_the_alarm_log_retention_pass_deletes_what_occurred_before_its_days_and_counts_it(tmp_path):
    from gridgov_sensing.alarms.models import Alarm

    common = CommonSettings(data_dir=tmp_path, jwt_secret="x" * 32, log_json=False)
    settings = SensingSettings(common=common, database_url=f"sqlite:///{tmp_path / 'sensing.db'}", run_relay=False,
                               run_consumers=False, alarm_retention_days=31)
    runtime = build_runtime(settings)
    try:
        runtime.db.create_all()
        now = datetime.now(UTC)
        with runtime.db.session() as session:
            for i, age in enumerate((timedelta(days=31, minutes=1), timedelta(days=30, hours=23))):
                session.add(Alarm(id=f"a{i}", fingerprint="f", alarm_type="exposed_garbage", device_id="d",
                                  state="firing", severity="minor", occurred_at=now - age, received_at=now,
                                  source="http", verdict="grouped"))
            session.commit()
        assert runtime.prune_alarm_log() == 1
        with runtime.db.session() as session:
            assert [a.id for a in session.query(Alarm)] == ["a1"]
        assert runtime.retention_deleted() == 0  # no pass thread ran: run_consumers is off
    finally:
        runtime.db.engine.dispose()
