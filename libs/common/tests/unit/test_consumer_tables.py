"""Consumers as tables (``gridgov_common.consumers``) and the catalog's shared pieces (seed book, payload)."""

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError
from sqlalchemy import Column, MetaData, String, Table, event, insert, select

from gridgov_common.bus.envelope import Envelope
from gridgov_common.bus.runner import MAX_BATCH
from gridgov_common.categories import SEED_VERSION, seed_book, seed_csv
from gridgov_common.consumers import MessageTable, consumer_spec
from gridgov_common.db import Database
from gridgov_common.events.catalog import CatalogPublished, catalog_key, catalog_message_id


def envelope(type_: str, key: str = "k") -> Envelope:
    return Envelope(type=type_, producer="test", key=key, correlation_id=key, payload={"n": 1})


EFFECT_METADATA = MetaData()
EFFECT = Table("effect", EFFECT_METADATA, Column("line", String(100), primary_key=True))


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 't.db'}", EFFECT_METADATA, "test")
    database.create_all()
    yield database
    database.engine.dispose()


def effects(db: Database) -> list[str]:
    with db.engine.connect() as conn:
        return sorted(conn.execute(select(EFFECT.c.line)).scalars())


def recorder(name: str):
    def handler(deps: str, session, env: Envelope) -> None:
        session.execute(insert(EFFECT).values(line=f"{name}:{deps}:{env.key}"))
    handler.__name__ = name
    return handler


def spec_of(db: Database, calls: list[str], after: list[int]):
    first, second = recorder("first"), recorder("second")
    table = MessageTable[str]("g", ("t",), {"a.happened": (first, second), "b.happened": (second,)})

    def deps() -> str:
        calls.append("deps")
        return f"d{len(calls)}"

    return consumer_spec(db, table, deps, after_batch=lambda: after.append(len(effects(db))))


def test_consumer_spec_applies_each_type_handlers_in_order_with_deps_built_once_per_batch(db):
    calls: list[str] = []
    after: list[int] = []
    spec = spec_of(db, calls, after)
    spec.handler([envelope("a.happened", "1"), envelope("c.unknown", "2"), envelope("b.happened", "3")])
    assert calls == ["deps"]  # one snapshot for the whole batch
    assert effects(db) == ["first:d1:1", "second:d1:1", "second:d1:3"]  # the unlisted type changed nothing
    assert after == [3]  # after the batch committed
    assert (spec.group, spec.topics) == ("g", ["t"])


def handled_ids(db: Database) -> list[str]:
    with db.engine.connect() as conn:
        return sorted(conn.execute(select(db.tables.handled.c.message_id)).scalars().all())


def test_consumer_spec_redelivered_batch_changes_nothing_and_records_only_what_it_applied(db):
    spec = spec_of(db, [], [])
    batch = [envelope("a.happened", "1"), envelope("c.unknown", "2")]
    spec.handler(batch)
    spec.handler(batch)  # at-least-once: the same messages again
    assert effects(db) == ["first:d1:1", "second:d1:1"]
    assert handled_ids(db) == [str(batch[0].id)]  # the unlisted type changed nothing and is not recorded


def test_messages_the_table_does_not_want_are_neither_applied_nor_recorded_nor_a_transaction(db):
    calls: list[str] = []
    after: list[int] = []
    table = MessageTable[str]("g", ("t",), {"a.happened": (recorder("first"),)},
                              wants=lambda env: env.key.startswith("mine"))
    spec = consumer_spec(db, table, lambda: calls.append("deps") or "d", after_batch=lambda: after.append(1))
    commits: list[int] = []
    event.listen(db.engine, "commit", lambda _conn: commits.append(1))
    spec.handler([envelope("a.happened", "other-1"), envelope("c.unknown", "mine-2")])
    assert (calls, after, commits, effects(db), handled_ids(db)) == ([], [], [], [], [])  # nothing at all
    wanted = envelope("a.happened", "mine-3")
    spec.handler([envelope("a.happened", "other-4"), wanted])
    assert effects(db) == ["first:d:mine-3"]
    assert handled_ids(db) == [str(wanted.id)]
    assert (calls, after, len(commits)) == (["deps"], [1], 1)


def test_consumer_spec_failing_handler_rolls_back_the_batch_and_skips_after(db):
    def boom(deps: str, session, env: Envelope) -> None:
        raise ValueError("poison")

    after: list[int] = []
    table = MessageTable[str]("g", ("t",), {"a.happened": (recorder("first"), boom)})
    spec = consumer_spec(db, table, lambda: "d", after_batch=lambda: after.append(1))
    with pytest.raises(ValueError, match="poison"):
        spec.handler([envelope("a.happened", "1")])
    assert effects(db) == [] and after == []  # nothing of the batch committed; the runner retries it alone
    with db.engine.connect() as conn:
        assert conn.execute(select(db.tables.handled.c.message_id)).scalars().all() == []


def test_a_tables_max_batch_reaches_its_consumer_spec(db):
    default = consumer_spec(db, MessageTable[None]("g", ("t",), {"a.happened": ()}), lambda: None)
    larger = consumer_spec(db, MessageTable[None]("h", ("t",), {"a.happened": ()}, max_batch=1_000), lambda: None)
    assert default.max_batch == MAX_BATCH
    assert larger.max_batch == 1_000


def test_message_table_describe_names_handlers_by_type():
    table = MessageTable[str]("g", ("t",), {"b.x": (recorder("two"),), "a.x": (recorder("one"), recorder("two"))})
    assert table.describe() == {"a.x": ["one", "two"], "b.x": ["two"]}
    assert table.handlers_of("nothing") == ()


def test_seed_book_lists_the_middle_classes_of_the_packaged_catalog():
    book = seed_book()
    assert book.version == SEED_VERSION and book.published_at is None
    assert book.get("04002").name_en == "Burst water main" and book.get("04002").name_zh == "自来水管破裂"
    assert all(len(c.code) == 5 and c.code.isdigit() for c in book)
    middle_rows = [line for line in seed_csv().splitlines()[1:] if line.split(",")[1] == "middle"]
    assert len(book) == len(middle_rows) == len({c.code for c in book})
    assert not book.is_known("01") and not book.is_known("0100101")  # major and minor classes are not reported


def test_catalog_published_refuses_malformed_codes_and_naive_times():
    good = {"version": 2, "published_at": datetime.now(UTC).isoformat(),
            "categories": [{"code": "30001", "name_zh": "共享单车", "name_en": "Shared bikes"}]}
    assert CatalogPublished.model_validate(good).book().is_known("30001")
    with pytest.raises(ValidationError):
        CatalogPublished.model_validate({**good, "categories": [{"code": "3000", "name_zh": "x", "name_en": "x"}]})
    with pytest.raises(ValidationError):
        CatalogPublished.model_validate({**good, "published_at": "2026-12-01T10:00:00"})
    with pytest.raises(ValidationError):
        CatalogPublished.model_validate({**good, "version": 0})


def test_catalog_message_id_is_the_same_for_a_version_and_differs_between_versions():
    assert catalog_message_id(2) == catalog_message_id(2) != catalog_message_id(3)
    assert catalog_key(2) == "catalog-v2"
