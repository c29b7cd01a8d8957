"""Use cases of the knowledge base: write articles, search them as the operator types, count 直接答复."""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import delete, func
from sqlmodel import select

from gridgov_common.db import Database
from gridgov_common.errors import Conflict, ErrorDetail
from gridgov_common.ids import new_id
from gridgov_event_intake.knowledge import indicator, rules, service
from gridgov_event_intake.knowledge.models import KnowledgeArticle
from gridgov_event_intake.knowledge.schemas import ArticleReplace, ArticleWrite
from gridgov_event_intake.knowledge.search import Hit, KnowledgeIndex, build
from gridgov_event_intake.reports.models import Report


def _content(body: ArticleWrite, day: date) -> dict:
    """The stored columns of a body, its dates checked (valid_from defaults to today)."""
    valid_from = body.valid_from or day
    rules.check_dates(valid_from, body.valid_to)
    return {"question": body.question.strip(), "answer": body.answer.strip(), "department": body.department,
            "keywords": list(dict.fromkeys(body.keywords)), "valid_from": valid_from, "valid_to": body.valid_to,
            "source": body.source.strip()}


def create_article(db: Database, body: ArticleWrite, author: str, day: date) -> KnowledgeArticle:
    """Store a new article (version 1)."""
    content = _content(body, day)
    now = datetime.now(UTC)
    article = KnowledgeArticle(id=new_id(), **content, created_by=author, created_at=now,
                               updated_by=author, updated_at=now)
    with db.session() as session:
        session.add(article)
        session.commit()
        session.refresh(article)
    return article


def replace_article(db: Database, article_id: str, body: ArticleReplace, if_match: str | None, author: str,
                    day: date) -> KnowledgeArticle:
    """Replace an article's content if it is still at the version the change was based on; 409 if not."""
    expected = rules.expected_version(if_match, body.version)
    content = _content(body, day)
    with db.session() as session:
        current = service.get_or_raise(session, article_id)
        if not service.replace(session, article_id, expected,
                               {**content, "updated_by": author, "updated_at": datetime.now(UTC)}):
            session.rollback()
            raise _stale(article_id, expected, current.version)
        session.commit()
        session.expire_all()
        return service.get_or_raise(session, article_id)


def delete_article(db: Database, article_id: str, if_match: str | None) -> None:
    """Delete an article (if still at the version If-Match names, when it names one)."""
    expected = rules.expected_version(if_match, None) if if_match is not None else None
    with db.session() as session:
        current = service.get_or_raise(session, article_id)
        where = [KnowledgeArticle.id == article_id]
        if expected is not None:
            where.append(KnowledgeArticle.version == expected)
        if session.execute(delete(KnowledgeArticle).where(*where)).rowcount != 1:
            session.rollback()
            raise _stale(article_id, expected, current.version)
        session.commit()


def _stale(article_id: str, expected: int | None, current: int) -> Conflict:
    error = Conflict(f"article {article_id} changed since version {expected}; reload it and try again",
                     [ErrorDetail("version", f"the article is at version {current} now, not {expected}",
                                  f"该条目已被他人修改，当前版本 {current}，请刷新后重试")], code="stale_version")
    error.message_zh = "知识条目已被修改，请刷新后重试"
    return error


@dataclass
class _Cached:
    signature: tuple
    index: KnowledgeIndex


class SearchIndexes:
    """One search index per database in this process, rebuilt when the articles changed.

    Each query first reads the articles' signature (count and last change: one aggregate query); only when it
    differs from the index's is the index rebuilt, under a lock, so concurrent queries build it once.
    """

    def __init__(self) -> None:
        self._by_db: weakref.WeakKeyDictionary[Database, _Cached] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()
        self.builds = 0  # how many times an index was built (tests and logs)

    def current(self, db: Database) -> KnowledgeIndex:
        """The index of the articles as they are now."""
        with db.session() as session:
            now = service.signature(session)
            cached = self._by_db.get(db)
            if cached is not None and cached.signature == now:
                return cached.index
            with self._lock:
                cached = self._by_db.get(db)
                if cached is None or cached.signature != now:
                    now = service.signature(session)
                    cached = _Cached(now, build(service.docs(session)))
                    self._by_db[db] = cached
                    self.builds += 1
                return cached.index


indexes = SearchIndexes()


def search(db: Database, text: str, day: date, limit: int) -> list[tuple[KnowledgeArticle, Hit]]:
    """The articles valid on ``day`` best matching the text, best first, each with its hit."""
    hits = indexes.current(db).search(text, day, limit)
    if not hits:
        return []
    with db.session() as session:
        rows = {a.id: a for a in session.exec(select(KnowledgeArticle).where(
            KnowledgeArticle.id.in_([h.id for h in hits]))).all()}
    # An article deleted between the index read and this one is left out, not answered as an error.
    return [(rows[h.id], h) for h in hits if h.id in rows and service.holds_on(rows[h.id], day)]


def direct_answer_counts(db: Database, period: indicator.Period) -> indicator.DirectAnswerCounts:
    """The 12345 calls submitted in the period: orders (repeat calls apart), answered directly, from the KB."""
    in_period = [Report.channel == "hotline", Report.submitted_at >= period.start, Report.submitted_at < period.end]
    with db.session() as session:
        # A repeat call (重复来电) is recorded on an open case: a call, not an order of its own.
        orders, answered, from_kb = session.execute(select(
            func.count(Report.id), func.count(Report.answer), func.count(Report.knowledge_article_id))
            .where(*in_period, Report.repeat_of.is_(None))).one()
        repeats = session.execute(select(func.count(Report.id))
                                  .where(*in_period, Report.repeat_of.is_not(None))).scalar_one()
    return indicator.DirectAnswerCounts(int(orders), int(answered), int(from_kb), int(repeats))
