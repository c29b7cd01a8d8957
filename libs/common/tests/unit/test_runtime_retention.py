"""A service's runtime applies the bus's retention (``GRIDGOV_BUS_RETENTION_HOURS``): it sets it on the topics it
creates and, every ``retention_check_s``, prunes the embedded log and its own handled-message records; with 0
it keeps everything and runs no pruning. The handled-message records' cut on both stacks, and the Kafka topics'
``retention.ms`` the runtime asks for."""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import MetaData, insert, select

from conftest import require_infra
from gridgov_common.bus.envelope import Envelope
from gridgov_common.bus.interface import OutgoingMessage
from gridgov_common.bus.topics import REPORTS_RECEIVED
from gridgov_common.db import Database
from gridgov_common.runtime import HANDLED_GRACE, ConsumerSpec, ServiceRuntime
from gridgov_common.settings import CommonSettings, ServiceSettings
from tests.support.kafka_admin import delete_namespace, topic_configs


def _runtime(tmp_path, hours: float, handled: list[int]) -> ServiceRuntime:
    common = CommonSettings(data_dir=tmp_path, bus_retention_hours=hours, retention_check_s=0.05)
    settings = ServiceSettings(service_name="retention-test", common=common)
    db = Database(settings.resolved_database_url(), MetaData(), settings.service_name)
    spec = ConsumerSpec("retention-test.reports", [REPORTS_RECEIVED],
                        db.idempotent_batch("retention-test.reports",
                                            lambda _s, e: handled.append(e.payload["i"])))
    return ServiceRuntime(settings, db, consumers=[spec])


def _publish(runtime: ServiceRuntime, n: int) -> None:
    runtime.open_bus().publish([OutgoingMessage(REPORTS_RECEIVED, f"k{i}", Envelope(
        type="t.x", key=f"k{i}", producer="test", correlation_id=f"c{i}", payload={"i": i}).to_bytes())
        for i in range(n)])


def _log_rows(tmp_path) -> int:
    conn = sqlite3.connect(tmp_path / "bus.db")
    try:
        return conn.execute("SELECT count(*) FROM log WHERE topic=?", (REPORTS_RECEIVED,)).fetchone()[0]
    finally:
        conn.close()


def _wait(condition, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_the_runtime_prunes_what_its_consumers_handled_once_it_expired(tmp_path):
    handled: list[int] = []
    runtime = _runtime(tmp_path, hours=0.001, handled=handled)  # 3.6 s: time to handle them before they go
    runtime.start(ensure_topics_timeout=10)
    try:
        _publish(runtime, 6)
        assert _wait(lambda: len(handled) == 6)
        assert _wait(lambda: _log_rows(tmp_path) == 0)  # expired, and the group has committed past them
        assert runtime.retention is not None
        # what /metrics shows as gridgov_retention_deleted_total: counted once the pass that deleted them returns,
        # a moment after its commit (read at once, it was 0 in one CI dry run, 2026-12-07)
        assert _wait(lambda: runtime.retention.steps == 6 and runtime.retention.passes > 1)
        # Its handled-message records stay a day longer than the messages: none is old enough yet.
        with runtime.db.engine.connect() as conn:
            assert len(conn.execute(select(runtime.db.tables.handled)).all()) == 6
        assert HANDLED_GRACE == timedelta(days=1)
    finally:
        runtime.stop()


def test_with_no_retention_nothing_is_pruned_and_no_thread_runs(tmp_path):
    handled: list[int] = []
    runtime = _runtime(tmp_path, hours=0, handled=handled)
    runtime.start(ensure_topics_timeout=10)
    try:
        _publish(runtime, 3)
        assert _wait(lambda: len(handled) == 3)
        time.sleep(0.3)
        assert runtime.retention is None
        assert runtime.prune_expired() == 0
        assert _log_rows(tmp_path) == 3
    finally:
        runtime.stop()


@pytest.fixture(params=["embedded", pytest.param("distributed", marks=pytest.mark.distributed)])
def stack_settings(request, tmp_path) -> Iterator[ServiceSettings]:
    """A service's settings on each stack, with a retention of one hour; no consumers (the test makes the
    records it prunes)."""
    hours = 1.0
    if request.param == "embedded":
        common = CommonSettings(data_dir=tmp_path, bus_retention_hours=hours, retention_check_s=3600)
        yield ServiceSettings(service_name="retention-test", run_consumers=False, common=common)
        return
    servers = require_infra("GRIDGOV_TEST_KAFKA_BOOTSTRAP_SERVERS", "Apache Kafka")
    common = CommonSettings(data_dir=tmp_path, kafka_bootstrap_servers=servers, bus_retention_hours=hours,
                            retention_check_s=3600, topic_namespace=f"rt{uuid.uuid4().hex[:8]}.")
    settings = ServiceSettings(service_name="retention-test", run_consumers=False, common=common,
                               database_url=request.getfixturevalue("pg_url"))
    yield settings
    delete_namespace(servers, common.topic_namespace)


def test_the_handled_records_go_a_day_after_the_retention_on_both_stacks(stack_settings):
    db = Database(stack_settings.resolved_database_url(), MetaData(), stack_settings.service_name)
    runtime = ServiceRuntime(stack_settings, db)
    runtime.start(ensure_topics_timeout=60)
    try:
        assert runtime.retention is not None
        assert _wait(lambda: runtime.retention.passes >= 1)  # its first pass, at start, is over: the next in an hour
        expiry = datetime.now(UTC) - timedelta(hours=1) - HANDLED_GRACE
        handled = db.tables.handled
        with db.engine.begin() as conn:
            conn.execute(insert(handled), [
                {"consumer": "c", "message_id": "gone", "handled_at": expiry - timedelta(minutes=1)},
                {"consumer": "c", "message_id": "kept", "handled_at": expiry + timedelta(minutes=1)}])
        assert runtime.prune_expired() == 1
        with db.engine.connect() as conn:
            assert [r.message_id for r in conn.execute(select(handled.c.message_id))] == ["kept"]
        if stack_settings.common.kafka_bootstrap_servers:  # the topics the runtime made expire after the hour
            topic = stack_settings.common.topic_namespace + REPORTS_RECEIVED
            assert topic_configs(stack_settings.common.kafka_bootstrap_servers, [topic], "retention.ms", None) \
                == {topic: "3600000"}
    finally:
        runtime.stop()
