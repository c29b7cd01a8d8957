"""Queries on knowledge-base articles, and loading the seed articles into an empty table."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime
from importlib import resources
from zoneinfo import ZoneInfo

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from gridgov_common.db import Database
from gridgov_common.db import contains as db_contains
from gridgov_common.errors import NotFound
from gridgov_event_intake.knowledge.models import KnowledgeArticle
from gridgov_event_intake.knowledge.search import ArticleDoc

log = logging.getLogger(__name__)

CITY_ZONE = ZoneInfo("Asia/Shanghai")  # intake's default time zone; views pass the settings' own
SEED_AUTHOR = "seed"


def today(zone: ZoneInfo = CITY_ZONE) -> date:
    """Today's date in the city."""
    return datetime.now(zone).date()


def get_or_raise(session: Session, article_id: str) -> KnowledgeArticle:
    """The article, or NotFound."""
    article = session.get(KnowledgeArticle, article_id)
    if article is None:
        raise NotFound("article", article_id)
    return article


def get_valid(db: Database | Session, article_id: str, day: date | None = None) -> KnowledgeArticle | None:
    """The article if it exists and holds on ``day`` (default today, China time), else None.

    For the hotline channel: an answer said to come from the knowledge base must name an article in force.
    """
    day = day or today()
    if isinstance(db, Database):
        with db.session() as session:
            return get_valid(session, article_id, day)
    article = db.get(KnowledgeArticle, article_id)
    return article if article is not None and holds_on(article, day) else None


def holds_on(article: KnowledgeArticle, day: date) -> bool:
    """Whether the article is in force on ``day`` (both ends of its validity included)."""
    return article.valid_from <= day and (article.valid_to is None or day <= article.valid_to)


def page(session: Session, limit: int, offset: int, department: str | None = None,
         contains: str | None = None) -> tuple[list[KnowledgeArticle], int]:
    """A page of articles (newest change first) and the total count, of one department when given, and with
    ``contains`` in the question, the answer or the source when given (whatever the article's dates: the list is
    for keeping the base, not for answering)."""
    where = [] if department is None else [KnowledgeArticle.department == department]
    if contains:
        where.append(db_contains((KnowledgeArticle.question, KnowledgeArticle.answer, KnowledgeArticle.source),
                                 contains))
    rows = session.exec(select(KnowledgeArticle).where(*where)
                        .order_by(KnowledgeArticle.updated_at.desc(), KnowledgeArticle.id)
                        .offset(offset).limit(limit)).all()
    total = session.exec(select(func.count()).select_from(KnowledgeArticle).where(*where)).one()
    return list(rows), int(total)


def replace(session: Session, article_id: str, expected: int | None, values: dict) -> bool:
    """Write the new content if the article is still at ``expected`` (None: any version); False if not.

    One ``UPDATE … WHERE version = :expected``: of two concurrent changes based on the same version, one wins.
    """
    where = [KnowledgeArticle.id == article_id]
    if expected is not None:
        where.append(KnowledgeArticle.version == expected)
    result = session.execute(update(KnowledgeArticle).where(*where)
                             .values(**values, version=KnowledgeArticle.version + 1))
    return result.rowcount == 1


def signature(session: Session) -> tuple[int, datetime | None]:
    """What changes whenever an article is added, changed or deleted: the count and the last change."""
    count, last = session.execute(select(func.count(KnowledgeArticle.id),
                                         func.max(KnowledgeArticle.updated_at))).one()
    return int(count), last


def docs(session: Session) -> list[ArticleDoc]:
    """Every article as the search index reads it."""
    rows = session.exec(select(KnowledgeArticle).order_by(KnowledgeArticle.id)).all()
    return [ArticleDoc(r.id, r.question, r.answer, tuple(r.keywords or ()), r.valid_from, r.valid_to)
            for r in rows]


def seed_articles() -> list[dict]:
    """The seed knowledge base written for the project (``data/seed_articles.json``)."""
    text = resources.files("gridgov_event_intake.knowledge").joinpath("data/seed_articles.json").read_text("utf-8")
    return json.loads(text)["articles"]


def seed(db: Database) -> bool:
    """Fill an empty knowledge base with the seed articles; True if this call did.

    Fixed ids make it idempotent: two processes starting together both see an empty table, one commits first
    and the other's insert fails on the primary key and rolls back, leaving one copy.
    """
    with db.session() as session:
        if session.exec(select(KnowledgeArticle.id).limit(1)).first() is not None:
            return False
        now = datetime.now(UTC)
        for item in seed_articles():
            session.add(KnowledgeArticle(
                id=item["id"], question=item["question"], answer=item["answer"], department=item.get("department"),
                keywords=list(item.get("keywords", [])), valid_from=date.fromisoformat(item["valid_from"]),
                valid_to=date.fromisoformat(item["valid_to"]) if item.get("valid_to") else None,
                source=item["source"], created_by=SEED_AUTHOR, created_at=now, updated_by=SEED_AUTHOR,
                updated_at=now))
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            log.info("knowledge base seeded by another process at the same time")
            return False
    log.info("knowledge base seeded with %d articles", len(seed_articles()))
    return True
