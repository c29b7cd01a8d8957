"""The knowledge base for direct answers (issue #17 item 4) over HTTP, on SQLite and PostgreSQL: the seed is
loaded once, articles are written by the command centre with optimistic concurrency and checked validity dates,
search proposes the articles valid today, and 直接答复率 counts the hotline orders answered on the call."""

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import func, select

from gridgov_event_intake.app import create_app
from gridgov_event_intake.knowledge import handlers, service
from gridgov_event_intake.knowledge.indicator import CHINA_TIME
from gridgov_event_intake.knowledge.models import KnowledgeArticle
from gridgov_event_intake.settings import IntakeSettings

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
ARTICLE = {"question": "社区长者饭堂怎么申请用餐？",
           "answer": "持本人身份证到所在社区长者饭堂登记，具体以社区公告为准。",
           "department": "civil-affairs", "keywords": ["老人吃饭", "长者食堂"], "source": "测试"}
SEED_COUNT = len(service.seed_articles())


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request, common_settings):
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    return IntakeSettings(common=common_settings, database_url=url)


@pytest.fixture
def client(settings):
    with TestClient(create_app(settings)) as c:
        yield c


def count(client) -> int:
    with client.app.state.runtime.db.session() as session:
        return session.exec(select(func.count()).select_from(KnowledgeArticle)).one()


def today() -> date:
    return service.today()


def test_seed_is_loaded_once_at_first_start_and_not_again(settings):
    with TestClient(create_app(settings)) as first:
        assert count(first) == SEED_COUNT
    with TestClient(create_app(settings)) as second:
        assert count(second) == SEED_COUNT
        assert service.seed(second.app.state.runtime.db) is False


def test_two_processes_seeding_together_leave_one_copy(client):
    db = client.app.state.runtime.db
    with db.session() as session:
        for article in session.exec(select(KnowledgeArticle)).all():
            session.delete(article)
        session.commit()
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: service.seed(db), range(2)))
    assert results.count(True) >= 1
    assert count(client) == SEED_COUNT


def test_create_read_replace_and_delete_an_article(client, token):
    centre = token("command_centre", sub="seat-7")
    created = client.post("/v1/knowledge/articles", json=ARTICLE, headers=centre)
    assert created.status_code == 201, created.text
    article = created.json()
    assert article["version"] == 1 and article["created_by"] == "seat-7" and article["valid_today"]
    assert article["valid_from"] == today().isoformat() and article["valid_to"] is None
    assert created.headers["ETag"] == '"1"'
    got = client.get(f"/v1/knowledge/articles/{article['id']}", headers=token("admin"))
    assert got.status_code == 200 and got.json()["question"] == ARTICLE["question"]

    changed = {**ARTICLE, "answer": "长者饭堂用餐请先在社区登记。", "version": 1}
    put = client.put(f"/v1/knowledge/articles/{article['id']}", json=changed, headers=token("admin", sub="boss"))
    assert put.status_code == 200, put.text
    assert put.json()["version"] == 2 and put.json()["updated_by"] == "boss" and put.headers["ETag"] == '"2"'

    page = client.get("/v1/knowledge/articles", params={"department": "civil-affairs", "limit": 200}, headers=centre)
    assert article["id"] in [a["id"] for a in page.json()["items"]]
    assert client.delete(f"/v1/knowledge/articles/{article['id']}", headers=centre).status_code == 204
    assert client.get(f"/v1/knowledge/articles/{article['id']}", headers=centre).status_code == 404
    assert count(client) == SEED_COUNT


def test_replace_based_on_an_old_version_conflicts_and_changes_nothing(client, token):
    centre = token("command_centre")
    article = client.post("/v1/knowledge/articles", json=ARTICLE, headers=centre).json()
    url = f"/v1/knowledge/articles/{article['id']}"
    first = client.put(url, json={**ARTICLE, "answer": "第一位坐席的修改内容"}, headers={**centre, "If-Match": '"1"'})
    assert first.status_code == 200
    second = client.put(url, json={**ARTICLE, "answer": "第二位坐席的修改内容", "version": 1}, headers={**centre, **ZH})
    assert second.status_code == 409
    error = second.json()["error"]
    assert error["details"][0]["field"] == "version" and "刷新" in error["message"]
    assert client.get(url, headers=centre).json()["answer"] == "第一位坐席的修改内容"
    missing = client.put(url, json=ARTICLE, headers=centre)  # neither version nor If-Match
    assert missing.status_code == 422 and missing.json()["error"]["details"][0]["field"] == "version"
    stale_delete = client.delete(url, headers={**centre, "If-Match": '"1"'})
    assert stale_delete.status_code == 409
    assert client.put("/v1/knowledge/articles/nope", json={**ARTICLE, "version": 1}, headers=centre).status_code == 404
    bad_tag = client.put(url, json=ARTICLE, headers={**centre, "If-Match": "abc"})
    assert bad_tag.status_code == 422 and bad_tag.json()["error"]["details"][0]["field"] == "If-Match"
    unknown = client.get("/v1/knowledge/articles/nope", headers={**centre, **ZH})
    assert unknown.status_code == 404 and "知识条目" in unknown.json()["error"]["message"]


@pytest.mark.parametrize(("change", "field"), [
    ({"valid_from": "2026-05-01", "valid_to": "2026-04-30"}, "valid_to"),
    ({"valid_from": "0001-01-01"}, "valid_from"),
    ({"valid_to": "9999-12-31"}, "valid_to"),
    ({"valid_from": "2026-02-30"}, "valid_from"),
    ({"valid_from": 10**12}, "valid_from"),
    ({"question": ""}, "question"),
    ({"question": "问\x00题"}, "question"),
    ({"answer": "答" * 2001}, "answer"),
    ({"department": "Water Bureau"}, "department"),
    ({"keywords": ["k"] * 21}, "keywords"),
    ({"keywords": [" "]}, "keywords"),
    ({"source": None}, "source"),
    ({"extra": 1}, "extra"),
])
def test_bad_article_is_refused_naming_the_field_and_nothing_stored(client, token, change, field):
    resp = client.post("/v1/knowledge/articles", json={**ARTICLE, **change}, headers=token("command_centre"))
    assert resp.status_code == 422, resp.text
    assert any(d["field"].split(".")[0] == field or d["field"].startswith(field)
               for d in resp.json()["error"]["details"]), resp.text
    assert count(client) == SEED_COUNT


def test_reversed_dates_are_refused_in_chinese_when_asked(client, token):
    body = {**ARTICLE, "valid_from": "2026-05-01", "valid_to": "2026-04-30"}
    resp = client.post("/v1/knowledge/articles", json=body, headers={**token("admin"), **ZH})
    assert resp.status_code == 422
    error = resp.json()["error"]
    assert error["message"] == "有效期不正确" and "早于" in error["details"][0]["reason"]


def test_search_proposes_the_article_valid_today_with_a_score(client, token):
    centre = token("command_centre")
    hits = client.get("/v1/knowledge/search", params={"q": "狗证在哪办"}, headers=centre)
    assert hits.status_code == 200, hits.text
    items = hits.json()["items"]
    assert 1 <= len(items) <= 5 and items[0]["question"] == "养狗要办证吗？犬只登记怎么办理？"
    assert items[0]["score"] > 0 and items[0]["department"] == "public-security"
    assert [i["score"] for i in items] == sorted((i["score"] for i in items), reverse=True)
    assert set(items[0]) == {"id", "question", "answer", "department", "valid_from", "valid_to", "source", "score"}
    two = client.get("/v1/knowledge/search", params={"q": "社保", "limit": 2}, headers=centre)
    assert len(two.json()["items"]) == 2


def test_search_sees_a_new_article_and_forgets_an_expired_or_deleted_one(client, token):
    centre = token("command_centre")
    search = lambda q: [i["id"] for i in client.get("/v1/knowledge/search", params={"q": q},  # noqa: E731
                                                          headers=centre).json()["items"]]
    article = client.post("/v1/knowledge/articles", json=ARTICLE, headers=centre).json()
    assert search("长者饭堂怎么登记")[0] == article["id"]
    yesterday = (today() - timedelta(days=1)).isoformat()
    expired = {**ARTICLE, "valid_from": "2026-01-01", "valid_to": yesterday, "version": 1}
    assert client.put(f"/v1/knowledge/articles/{article['id']}", json=expired, headers=centre).status_code == 200
    assert article["id"] not in search("长者饭堂怎么登记")
    later = {**ARTICLE, "valid_from": (today() + timedelta(days=1)).isoformat(), "version": 2}
    assert client.put(f"/v1/knowledge/articles/{article['id']}", json=later, headers=centre).status_code == 200
    assert article["id"] not in search("长者饭堂怎么登记")
    assert service.get_valid(client.app.state.runtime.db, article["id"]) is None
    current = {**ARTICLE, "version": 3}
    assert client.put(f"/v1/knowledge/articles/{article['id']}", json=current, headers=centre).status_code == 200
    assert service.get_valid(client.app.state.runtime.db, article["id"]).id == article["id"]
    client.delete(f"/v1/knowledge/articles/{article['id']}", headers=centre)
    assert article["id"] not in search("长者饭堂怎么登记")
    assert service.get_valid(client.app.state.runtime.db, article["id"]) is None
    assert service.get_valid(client.app.state.runtime.db, "no-such-article") is None


def test_search_index_is_rebuilt_only_when_articles_change(client, token):
    centre = token("command_centre")
    client.get("/v1/knowledge/search", params={"q": "护照"}, headers=centre)
    builds = handlers.indexes.builds
    for _ in range(3):
        client.get("/v1/knowledge/search", params={"q": "护照"}, headers=centre)
    assert handlers.indexes.builds == builds
    client.post("/v1/knowledge/articles", json=ARTICLE, headers=centre)
    client.get("/v1/knowledge/search", params={"q": "护照"}, headers=centre)
    assert handlers.indexes.builds == builds + 1


@pytest.mark.parametrize("params", [{}, {"q": ""}, {"q": "   "}, {"q": "社\x00保"}, {"q": "社" * 201},
                                    {"q": "社保", "limit": 0}, {"q": "社保", "limit": 21}, {"q": "社保", "limit": "x"}])
def test_bad_search_is_refused_naming_the_parameter(client, token, params):
    resp = client.get("/v1/knowledge/search", params=params, headers={**token("command_centre"), **ZH})
    assert resp.status_code == 422, resp.text
    fields = [d["field"] for d in resp.json()["error"]["details"]]
    assert ("limit" if "limit" in params and params.get("q") == "社保" else "q") in fields


def test_search_with_nothing_matching_is_an_empty_list(client, token):
    for q in ("？？？", "zzzzqqqq"):
        resp = client.get("/v1/knowledge/search", params={"q": q}, headers=token("admin"))
        assert resp.status_code == 200 and resp.json() == {"items": []}


@pytest.mark.parametrize(("role", "expected"), [("citizen", 403), ("grid_worker", 403), ("dept_dispatcher", 403),
                                                ("device_gateway", 403), (None, 401)])
def test_only_the_command_centre_and_admins_use_the_knowledge_base(client, token, role, expected):
    headers = token(role, department="water" if role == "dept_dispatcher" else None) if role else {}
    calls = [("GET", "/v1/knowledge/search?q=社保", None), ("GET", "/v1/knowledge/articles", None),
             ("POST", "/v1/knowledge/articles", ARTICLE), ("GET", "/v1/knowledge/articles/kb-seed-001", None),
             ("PUT", "/v1/knowledge/articles/kb-seed-001", {**ARTICLE, "version": 1}),
             ("DELETE", "/v1/knowledge/articles/kb-seed-001", None),
             ("GET", "/v1/indicators/direct-answer?period=2026-11", None)]
    for method, url, body in calls:
        assert client.request(method, url, json=body, headers=headers).status_code == expected, (method, url)
    assert count(client) == SEED_COUNT


def test_direct_answer_rate_counts_hotline_orders_answered_on_the_call(client, token):
    centre = token("command_centre")
    order = {"category_code": "01002", "description": "咨询犬只登记", "address": "南城街道"}
    answers = [{"answer": "到犬只登记点办理", "knowledge_article_id": "kb-seed-001"},
               {"answer": "请到出入境窗口办理"}, {"caller_phone": "13800138000"}, {}]
    ids = []
    for n, extra in enumerate(answers):
        resp = client.post("/v1/reports/hotline", json={**order, "order_no": f"KB-{n}", **extra}, headers=centre)
        assert resp.status_code == 202, resp.text
        ids.append(resp.json()["report_id"])
    assert client.post("/v1/reports/hotline", json={**order, "order_no": "KB-0", "answer": "x"},
                       headers=centre).status_code == 200  # a resent order is the same order
    repeat = {**order, "order_no": "KB-9", "caller_phone": "13800138000", "repeat_of": ids[2]}
    assert client.post("/v1/reports/hotline", json=repeat, headers=centre).status_code == 202  # 重复来电
    worker = token("grid_worker")
    client.post("/v1/reports/patrol", json={**order, "lon": 113.75, "lat": 23.02}, headers=worker)  # not hotline
    period = service.today(CHINA_TIME).isoformat()
    resp = client.get("/v1/indicators/direct-answer", params={"period": period}, headers=centre)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["hotline_orders"], body["answered_directly"], body["answered_from_knowledge_base"],
            body["repeat_calls"]) == (4, 2, 1, 1)
    assert body["direct_answer_rate"] == {"value": 0.5, "numerator": 2, "denominator": 4}
    empty = client.get("/v1/indicators/direct-answer", params={"period": "2020-01"}, headers=centre).json()
    assert empty["direct_answer_rate"] == {"value": None, "numerator": 0, "denominator": 0}


@pytest.mark.parametrize("period", ["", "2026-13", "9999-01", "2026-11-15..2026-11-01", "x" * 41, "2026\x00-11"])
def test_bad_period_is_refused_naming_period(client, token, period):
    resp = client.get("/v1/indicators/direct-answer", params={"period": period}, headers={**token("admin"), **ZH})
    assert resp.status_code == 422, resp.text
    assert [d["field"] for d in resp.json()["error"]["details"]] == ["period"]


def test_list_finds_articles_by_a_piece_of_their_text_valid_or_not(client, token):
    cc = token("command_centre")
    old = {**ARTICLE, "question": "长者饭堂 2025 年怎么申请？", "valid_from": "2025-01-01", "valid_to": "2025-12-31",
           "source": "民政局 100%_补贴通知"}
    assert client.post("/v1/knowledge/articles", json=ARTICLE, headers=cc).status_code == 201
    assert client.post("/v1/knowledge/articles", json=old, headers=cc).status_code == 201
    found = client.get("/v1/knowledge/articles", params={"q": " 长者饭堂 "}, headers=cc).json()
    assert found["total"] == 2 and {a["valid_today"] for a in found["items"]} == {True, False}
    by_answer = client.get("/v1/knowledge/articles", params={"q": "社区公告"}, headers=cc).json()
    assert [a["question"] for a in by_answer["items"]] == [old["question"], ARTICLE["question"]]  # newest first
    # % and _ are the user's characters, not wildcards
    assert [a["source"] for a in client.get("/v1/knowledge/articles", params={"q": "100%_"},
                                            headers=cc).json()["items"]] == ["民政局 100%_补贴通知"]
    assert client.get("/v1/knowledge/articles", params={"q": "0%1"}, headers=cc).json()["total"] == 0
    assert client.get("/v1/knowledge/articles", params={"q": "长者", "department": "water"},
                      headers=cc).json()["total"] == 0


@pytest.mark.parametrize(("q", "reason"), [("长者\x00饭堂", "U+0000"), ("长" * 201, "200")])
def test_list_refuses_a_bad_search_text_naming_q(client, token, q, reason):
    resp = client.get("/v1/knowledge/articles", params={"q": q}, headers={**token("command_centre"), **ZH})
    assert resp.status_code == 422, resp.text
    details = resp.json()["error"]["details"]
    assert [d["field"] for d in details] == ["q"] and reason in details[0]["reason"], details
