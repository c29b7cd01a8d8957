"""HTTP routes of the knowledge base and of 直接答复率 (thin: parse, authorise, call, shape).

Who: command_centre, admin — for reading, searching and writing alike (the 12345 seats work as the command
centre); anyone else 403, nobody 401.
"""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status

from gridgov_common.deps import CityWide
from gridgov_common.errors import ErrorDetail, ValidationFailed
from gridgov_common.schemas import SafeText
from gridgov_event_intake.deps import Runtime
from gridgov_event_intake.knowledge import handlers, indicator, service
from gridgov_event_intake.knowledge.models import KnowledgeArticle
from gridgov_event_intake.knowledge.schemas import (
    QUERY_MAX,
    ArticlePage,
    ArticleRead,
    ArticleReplace,
    ArticleWrite,
    DirectAnswerRead,
    RateRead,
    SearchHit,
    SearchResult,
)

router = APIRouter(prefix="/v1/knowledge", tags=["knowledge"])
indicator_router = APIRouter(prefix="/v1/indicators", tags=["indicators"])

IfMatch = Annotated[str | None, Header(alias="If-Match", max_length=40,
                                       description='the ETag of the article read, e.g. "3"')]
CONFLICT = {409: {"description": "the article changed since the version named (reload it)"}}


def _read(article: KnowledgeArticle, today) -> ArticleRead:  # noqa: ANN001 - a date
    return ArticleRead.model_validate({**article.model_dump(), "keywords": list(article.keywords or ()),
                                       "valid_today": service.holds_on(article, today)})


def _etag(response: Response, article: KnowledgeArticle) -> None:
    response.headers["ETag"] = f'"{article.version}"'


@router.get("/search", response_model=SearchResult)
def search_articles(runtime: Runtime, _principal: CityWide,
                    q: Annotated[SafeText, Query(min_length=1, max_length=QUERY_MAX,
                                                 description="what the caller asks, as the operator types it")],
                    limit: Annotated[int, Query(ge=1, le=20)] = 5) -> SearchResult:
    """The articles valid today (China time) that best answer the text, best first, with their BM25 scores;
    an empty list when nothing matches. Who: command_centre, admin."""
    if not q.strip():
        error = ValidationFailed("the search text is blank", [ErrorDetail("q", "must contain some text",
                                                                          "不能只有空白")])
        error.message_zh = "请输入要查询的内容"
        raise error
    found = handlers.search(runtime.db, q, service.today(runtime.settings.zone), limit)
    return SearchResult(items=[SearchHit(id=a.id, question=a.question, answer=a.answer, department=a.department,
                                         valid_from=a.valid_from, valid_to=a.valid_to, source=a.source,
                                         score=hit.score) for a, hit in found])


@router.get("/articles", response_model=ArticlePage)
def list_articles(runtime: Runtime, _principal: CityWide,
                  department: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9-]{1,49}$")] = None,
                  q: Annotated[SafeText | None, Query(max_length=QUERY_MAX, description=(
                      "only articles with this text in the question, the answer or the source"))] = None,
                  limit: Annotated[int, Query(ge=1, le=200)] = 50,
                  offset: Annotated[int, Query(ge=0, le=100_000)] = 0) -> ArticlePage:
    """The articles, newest change first (of one department, and with some text, when given), valid or not. Who:
    command_centre, admin."""
    today = service.today(runtime.settings.zone)
    with runtime.db.session() as session:
        rows, total = service.page(session, limit, offset, department, (q or "").strip() or None)
    return ArticlePage(items=[_read(a, today) for a in rows], total=total)


@router.post("/articles", status_code=status.HTTP_201_CREATED, response_model=ArticleRead)
def post_article(body: ArticleWrite, runtime: Runtime, principal: CityWide, response: Response) -> ArticleRead:
    """Add an article; valid_from defaults to today, valid_to to "until changed". Who: command_centre, admin."""
    today = service.today(runtime.settings.zone)
    article = handlers.create_article(runtime.db, body, principal.sub, today)
    _etag(response, article)
    response.headers["Location"] = f"{router.prefix}/articles/{article.id}"
    return _read(article, today)


@router.get("/articles/{article_id}", response_model=ArticleRead)
def get_article(article_id: str, runtime: Runtime, _principal: CityWide, response: Response) -> ArticleRead:
    """An article, with its version as the ETag. Who: command_centre, admin."""
    with runtime.db.session() as session:
        article = service.get_or_raise(session, article_id)
    _etag(response, article)
    return _read(article, service.today(runtime.settings.zone))


@router.put("/articles/{article_id}", response_model=ArticleRead, responses=CONFLICT)
def put_article(article_id: str, body: ArticleReplace, runtime: Runtime, principal: CityWide, response: Response,
                if_match: IfMatch = None) -> ArticleRead:
    """Replace an article's content; the change names the version it was based on (If-Match or ``version``)
    and is refused with 409 when someone changed the article since. Who: command_centre, admin."""
    today = service.today(runtime.settings.zone)
    article = handlers.replace_article(runtime.db, article_id, body, if_match, principal.sub, today)
    _etag(response, article)
    return _read(article, today)


@router.delete("/articles/{article_id}", status_code=status.HTTP_204_NO_CONTENT, responses=CONFLICT)
def delete_article(article_id: str, runtime: Runtime, _principal: CityWide, if_match: IfMatch = None) -> Response:
    """Delete an article (only at the version If-Match names, when given). Who: command_centre, admin."""
    handlers.delete_article(runtime.db, article_id, if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@indicator_router.get("/direct-answer", response_model=DirectAnswerRead, description=indicator.__doc__)
def get_direct_answer_rate(runtime: Runtime, _principal: CityWide,
                           period: Annotated[str, Query(max_length=40, description="2026-11 | 2026-W47 | "
                                                        "2026-11-25 | 2026-11-01..2026-11-15 (China time)")]
                           ) -> DirectAnswerRead:
    """直接答复率 of a period: 12345 orders answered on the call ÷ 12345 orders. Who: command_centre, admin."""
    parsed = indicator.parse_period(period)
    counts = handlers.direct_answer_counts(runtime.db, parsed)
    rate = counts.rate
    return DirectAnswerRead(period=parsed.label, start=parsed.start, end=parsed.end, generated_at=datetime.now(UTC),
                            hotline_orders=counts.hotline_orders, answered_directly=counts.answered_directly,
                            answered_from_knowledge_base=counts.from_knowledge_base, repeat_calls=counts.repeat_calls,
                            direct_answer_rate=RateRead(value=rate.value, numerator=rate.numerator,
                                                        denominator=rate.denominator))
