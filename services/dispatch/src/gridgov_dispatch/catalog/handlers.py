"""Use cases of the event catalog: read a version, import a CSV (dry run or publish), export a version, and
announce versions on ``gridgov.catalog.published`` (dispatch owns the catalog; the other services learn it there).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict

from gridgov_common.bus.envelope import Envelope, new_envelope
from gridgov_common.bus.topics import CATALOG_PUBLISHED
from gridgov_common.db import Database
from gridgov_common.errors import ErrorDetail, ValidationFailed
from gridgov_common.events.catalog import (
    CATALOG_PUBLISHED_TYPE,
    CatalogPublished,
    CategoryEntry,
    catalog_key,
    catalog_message_id,
)
from gridgov_dispatch.catalog import service
from gridgov_dispatch.catalog.items import Catalog, CatalogItem, TimeLimit, parse_csv, to_csv
from gridgov_dispatch.catalog.models import CatalogVersion
from gridgov_dispatch.catalog.schemas import (
    CatalogItemRead,
    CatalogRead,
    ImportReport,
    ResolvedRead,
    TimeLimitRead,
)
from gridgov_dispatch.departments import service as departments

MAX_IMPORT_BYTES = 5 * 1024 * 1024  # Dongguan's >1,000 items are a few hundred kB


def _limit(limit: TimeLimit | None) -> TimeLimitRead | None:
    return None if limit is None else TimeLimitRead(amount=limit.amount, unit=limit.unit)


def item_read(catalog: Catalog, item: CatalogItem) -> CatalogItemRead:
    """An item as the API shows it, with what it resolves to when it is a middle class or deeper."""
    resolved = None
    if item.level != "major":
        r = catalog.resolved(item.code)
        resolved = ResolvedRead(department_type=r.department_type, claim=_limit(r.limits.claim),
                                handle=_limit(r.limits.handle), verify=_limit(r.limits.verify))
    fields = asdict(item)
    fields.update(claim=_limit(item.claim), handle=_limit(item.handle), verify=_limit(item.verify))
    return CatalogItemRead(**fields, resolved=resolved)


def read_catalog(db: Database, version: int | None, level: str | None, prefix: str | None) -> CatalogRead:
    """A version (default the current one) with its items, optionally of one level and under one code prefix."""
    with db.session() as session:
        head = service.get_version_or_raise(session, version)
        catalog = service.load_catalog(session, head.version)
    items = [i for i in catalog.items()
             if (level is None or i.level == level) and (prefix is None or i.code.startswith(prefix))]
    return CatalogRead(version=head.version, published_at=head.published_at, published_by=head.published_by,
                       note=head.note, items=[item_read(catalog, i) for i in items])


def export_csv(db: Database, version: int | None) -> tuple[int, str]:
    """A version (default the current one) as CSV text that the import reads back unchanged."""
    with db.session() as session:
        head = service.get_version_or_raise(session, version)
        return head.version, to_csv(service.list_items(session, head.version))


def decode_csv(body: bytes) -> str:
    """The upload as text: UTF-8 (a BOM allowed), else ValidationFailed."""
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed("the catalog must be UTF-8 CSV",
                               [ErrorDetail("body", f"not UTF-8 at byte {exc.start}")]) from None


def import_catalog(db: Database, text: str, *, dry_run: bool, published_by: str, note: str | None) -> ImportReport:
    """Validate a whole catalog CSV; unless a dry run, publish it as the new current version (all or nothing)."""
    with db.session() as session:
        items = parse_csv(text, departments.department_types(session))  # raises CatalogInvalid, nothing stored
        current = service.latest_version_number(session)
        before = {i.code: i for i in service.list_items(session, current)} if current is not None else {}
        after = {i.code: i for i in items}
        report = ImportReport(
            dry_run=dry_run, version=(current or 0) + 1, item_count=len(items),
            added=sorted(after.keys() - before.keys()), removed=sorted(before.keys() - after.keys()),
            changed=sorted(c for c in after.keys() & before.keys() if after[c] != before[c]))
        if dry_run:
            return report
        head = service.store(session, items, published_by=published_by, note=note)
        # In the version's own transaction: a published version is always announced, an unpublished never.
        db.add_outbox(session, CATALOG_PUBLISHED, published_envelope(head, items))
        service.commit_version(session)
    service.forget_cached(db)  # this instance sees its own import at once; others within 30 s
    return report.model_copy(update={"version": head.version})


SERVICE = "dispatch"


def published_envelope(head: CatalogVersion, items: Iterable[CatalogItem]) -> Envelope:
    """The ``catalog.published`` message of a version: its middle classes (the codes a report carries), keyed
    and identified by the version, so announcing it again is handled once."""
    payload = CatalogPublished(
        version=head.version, published_at=head.published_at,
        categories=[CategoryEntry(code=i.code, name_zh=i.name_zh, name_en=i.name_en)
                    for i in items if i.level == "middle"])
    key = catalog_key(head.version)
    envelope = new_envelope(type=CATALOG_PUBLISHED_TYPE, producer=SERVICE, key=key, payload=payload,
                            correlation_id=key)
    return envelope.model_copy(update={"id": catalog_message_id(head.version)})


def announce_in_effect(db: Database) -> int | None:
    """Announce the version in effect again (at each start; idempotent: same key, same message id).

    A service that joined after the version was published, or a catalog published before the topic existed,
    is learned this way. Returns the version announced (None before seeding).
    """
    with db.session() as session:
        head = service.latest_version(session)
        if head is None:
            return None
        db.add_outbox(session, CATALOG_PUBLISHED, published_envelope(head, service.list_items(session, head.version)))
        session.commit()
    return head.version
