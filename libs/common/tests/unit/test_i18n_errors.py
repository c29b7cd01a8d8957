"""Chinese error answers (issue #13, item 6): Accept-Language picks the language of message and reasons; field and
code never change; a body that is not JSON names ``body``; every pydantic error type has Chinese or a fallback."""

import typing

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict, Field
from pydantic_core.core_schema import ErrorType
from starlette.responses import JSONResponse

from gridgov_common import i18n
from gridgov_common.errors import (
    DomainError,
    ErrorDetail,
    Forbidden,
    IllegalTransition,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    Unauthenticated,
    Unavailable,
)
from gridgov_common.web import install_error_handlers

ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}


class Claim(BaseModel):
    """A body with the constraints the services use."""

    model_config = ConfigDict(extra="forbid")
    note: str = Field(min_length=1, max_length=10)
    category_code: str = Field(pattern=r"^\d{5}$")
    amount: int = Field(ge=1)
    kind: typing.Literal["hours", "days"] = "hours"


def _raiser(exc: Exception):
    def view():
        raise exc
    return view


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(i18n.RequestLanguage)

    @app.post("/v1/claims")
    def claim(body: Claim) -> dict:
        return body.model_dump()

    @app.get("/v1/items/{item_id}")
    def item(item_id: int, page: int = 1) -> dict:
        return {"id": item_id, "page": page}

    @app.get("/v1/guarded")
    def guarded() -> JSONResponse:
        # What a middleware does (the request guard): render exc.body() itself, outside the handlers.
        exc = PayloadTooLarge("body", 1024)
        return JSONResponse(exc.body(), status_code=413)

    errors = {
        "not-found": NotFound("ticket", "t-1"),
        "illegal": IllegalTransition("handled", "claim", ["verify", "rework", "supervise"]),
        "forbidden-role": Forbidden("role citizen may not claim; allowed: dept_dispatcher"),
        "forbidden-department": Forbidden("ticket is not with your department housing", "department"),
        "expired": Unauthenticated("token expired"),
        "unknown-text": DomainError("something nobody translated", [ErrorDetail("thing", "odd reason")],
                                    code="odd"),
        "own-chinese": DomainError("quota exceeded", [ErrorDetail("quota", "over", reason_zh="超出配额")],
                                   code="quota", message_zh="配额已用完"),
        "rate": RateLimited("device_id", "at most 5 reports per 60s", 30),
        "unavailable": Unavailable("dispatch cannot be reached (ConnectError: refused)"),
    }
    for name, exc in errors.items():
        app.add_api_route(f"/v1/errors/{name}", _raiser(exc))
    return app


@pytest.fixture(scope="module")
def client():
    return TestClient(_app())


BAD_CLAIM = {"note": "", "category_code": "1", "amount": 0, "kind": "weeks", "extra": 1}


@pytest.mark.parametrize("header, chinese", [
    ("zh-CN", True), ("zh", True), ("zh-Hans", True), ("zh-CN,zh;q=0.9,en;q=0.8", True),
    ("en;q=0.5, zh;q=0.6", True), ("en-US,en;q=0.9,zh-CN;q=0.8", False), ("zh;q=0, en", False),
    ("en, zh", False), ("*", False), ("", False), (None, False), ("zh;q=nonsense, en;q=0.1", False),
])
def test_prefers_chinese_honours_q_values(header, chinese):
    assert i18n.prefers_chinese(header) is chinese


def test_validation_error_is_chinese_with_zh_accept_language_and_fields_unchanged(client):
    english = client.post("/v1/claims", json=BAD_CLAIM).json()["error"]
    chinese = client.post("/v1/claims", json=BAD_CLAIM, headers=ZH).json()["error"]
    assert chinese["code"] == english["code"] == "validation_failed"
    assert [d["field"] for d in chinese["details"]] == [d["field"] for d in english["details"]]
    assert {d["field"] for d in chinese["details"]} == {"note", "category_code", "amount", "kind", "extra"}
    reasons = {d["field"]: d["reason"] for d in chinese["details"]}
    assert chinese["message"] == "请求无效"
    assert reasons["note"] == "至少需要 1 个字符"
    assert reasons["category_code"] == "应为 5 位数字"  # not the regex a desk user cannot read
    assert reasons["amount"] == "必须大于或等于 1"
    assert reasons["kind"] == "取值必须是 'hours' 或 'days' 之一"
    assert reasons["extra"] == "不允许的字段"


def test_validation_error_stays_english_without_accept_language(client):
    error = client.post("/v1/claims", json=BAD_CLAIM).json()["error"]
    reasons = {d["field"]: d["reason"] for d in error["details"]}
    assert error["message"] == "the request is invalid"
    assert reasons["note"] == "String should have at least 1 character"
    resp = client.post("/v1/claims", json=BAD_CLAIM, headers={"Accept-Language": "en-US,en;q=0.9,zh;q=0.5"})
    assert resp.json()["error"]["message"] == "the request is invalid"
    assert "Accept-Language" in resp.headers["vary"]


def test_missing_and_parse_errors_of_query_and_path_are_chinese(client):
    error = client.get("/v1/items/abc", params={"page": "x"}, headers=ZH).json()["error"]
    assert {d["field"]: d["reason"] for d in error["details"]} == {
        "item_id": "应为整数，无法解析为整数", "page": "应为整数，无法解析为整数"}
    missing = client.post("/v1/claims", json={}, headers=ZH).json()["error"]["details"]
    assert {d["reason"] for d in missing} == {"必填项，不能缺少"}


@pytest.mark.parametrize("headers, expected", [
    ({}, "malformed JSON at line 2 column 14: Expecting ',' delimiter"),
    (ZH, "请求体不是合法的 JSON（第 2 行第 14 列：缺少逗号分隔符）"),
])
def test_malformed_json_names_body_with_line_and_column(client, headers, expected):
    resp = client.post("/v1/claims", content=b'{"note": "x",\n "amount": 1 "category_code": "01002"}',
                       headers={"Content-Type": "application/json", **headers})
    assert resp.status_code == 422
    assert resp.json()["error"]["details"] == [{"field": "body", "reason": expected}]


@pytest.mark.parametrize("name, message, reasons", [
    ("not-found", "工单 t-1 不存在", ["不存在"]),
    ("illegal", "工单当前状态为“已处置”，不能签收；可执行的操作：核查通过、返工、督办",
     ["“已处置”状态下不允许此操作；可执行的操作：核查通过、返工、督办"]),
    ("forbidden-role", "无权执行此操作", ["角色“市民”无权签收；允许的角色：部门调度员"]),
    ("forbidden-department", "无权执行此操作", ["该工单不属于您的部门 housing"]),
    ("expired", "需要登录认证", ["访问令牌已过期，请重新登录"]),
    ("own-chinese", "配额已用完", ["超出配额"]),
    ("rate", "请求过于频繁，请稍后再试", ["每 60 秒最多上报 5 条，请稍后再试"]),
    ("unavailable", "无法连接 dispatch 服务，请稍后重试", []),
])
def test_domain_error_is_chinese_with_code_and_fields_unchanged(client, name, message, reasons):
    english = client.get(f"/v1/errors/{name}")
    chinese = client.get(f"/v1/errors/{name}", headers=ZH)
    assert chinese.status_code == english.status_code
    assert chinese.json()["error"]["code"] == english.json()["error"]["code"]
    assert [d["field"] for d in chinese.json()["error"]["details"]] == [
        d["field"] for d in english.json()["error"]["details"]]
    assert chinese.json()["error"]["message"] == message
    assert [d["reason"] for d in chinese.json()["error"]["details"]] == reasons
    assert english.json()["error"]["message"] != message  # English unless asked


def test_unknown_domain_text_falls_back_to_english(client):
    error = client.get("/v1/errors/unknown-text", headers=ZH).json()["error"]
    assert error == {"code": "odd", "message": "something nobody translated",
                     "details": [{"field": "thing", "reason": "odd reason"}]}


def test_error_rendered_by_a_middleware_is_chinese_when_asked(client):
    assert client.get("/v1/guarded", headers=ZH).json()["error"]["details"] == [
        {"field": "body", "reason": "超过 1024 字节的上限"}]
    assert client.get("/v1/guarded").json()["error"]["details"] == [
        {"field": "body", "reason": "larger than 1024 bytes"}]


def test_unrouted_path_answers_chinese_status_phrase(client):
    resp = client.get("/v1/nowhere", headers=ZH)
    assert resp.status_code == 404
    assert resp.json()["error"] == {"code": "http_404", "message": "请求的资源不存在", "details": []}


# Types an HTTP request cannot produce (attribute access, python-only objects): the generic fallback answers.
PYTHON_ONLY_TYPES = {"no_such_attribute", "needs_python_object", "get_attribute_error", "default_factory_not_called",
                     "missing_sentinel_error", "ellipsis_error"}


def test_every_pydantic_error_type_has_chinese_or_is_known_python_only():
    types = set(typing.get_args(ErrorType))
    assert types - set(i18n.VALIDATION_ZH) == PYTHON_ONLY_TYPES


def test_unknown_validation_type_falls_back_to_generic_with_english():
    assert i18n.validation_reason_zh({"type": "no_such_attribute", "msg": "Object has no attribute 'x'"}) == \
        "取值无效（Object has no attribute 'x'）"
    # A ctx the table did not expect keeps the answer a 422, never a 500.
    assert i18n.validation_reason_zh({"type": "string_too_short", "ctx": None, "msg": "m"}).startswith("至少需要")


def test_value_error_of_a_validator_is_translated_where_known():
    reason = i18n.validation_reason_zh({"type": "value_error", "ctx": {"error": ValueError("unknown category 99999")},
                                        "msg": "Value error, unknown category 99999"})
    assert reason == "取值无效：未知的事项类别 99999"


@pytest.mark.parametrize("english, chinese", [
    ("token signature does not verify", "访问令牌签名无效，请重新登录"),
    ("missing bearer token", "缺少访问令牌（Bearer token），请先登录"),
    ("invalid token: Not enough segments", "访问令牌无效（Not enough segments），请重新登录"),
    ("role grid_worker may not do this; allowed: admin, command_centre",
     "角色“网格员”无权执行此操作；允许的角色：管理员、指挥中心"),
    ("a dispatcher of water sees only its own department's breaches", "部门 water 的调度员只能查看本部门的超期工单"),
    ("housing-x is not an active department", "housing-x 不是有效的在用部门"),
    ("unknown category 99999", "未知的事项类别 99999"),
    ("ticket t-9 changed concurrently; reload it and try again", "工单 t-9 已被他人同时修改，请刷新后重试"),
    ("at most 30 requests per 60s", "每 60 秒最多请求 30 次，请稍后再试"),
    ("must be text/csv, got nothing", "必须是 text/csv，实际为 无"),
    ("control character U+0000 not allowed", "不允许包含控制字符 U+0000"),
    ("JSON nested deeper than 32 levels", "JSON 嵌套超过 32 层"),
    ("the database is unavailable; retry later", "数据库暂时不可用，请稍后重试"),
    ("return needs a reason", "退单需要填写原因"),
    # sensing's durations (alarm types' windows, snoozes)
    ("a duration is a whole number and a unit s, m, h or d, e.g. 30m",
     "时长应为整数加单位 s（秒）、m（分钟）、h（小时）或 d（天），如 30m"),
    ("a duration is at most 30d", "时长最多 30 天"),
    ("a duration is at least 1s", "时长至少 1 秒"),
    # sensing's suppression rules
    ("an inhibit rule names the superior alarm types", "抑制规则须指定上级告警类型"),
    ("a confidence rule needs a floor in (0, 1]", "置信度下限规则须给出大于 0、不超过 1 的下限"),
    ("unknown alarm type(s): fog, rain", "未知的告警类型：fog, rain"),
    # the rules editor (dispatch's rule-set checks)
    ("category 01002 is unroutable: no rule matches it; add a rule with only a category prefix that sends it to a "
     "department", "事项类别 01002 无处派遣：没有规则匹配它；请添加一条只按类别前缀派往某部门的规则"),
    ("rule 'gas-x': department type gas is unknown (no active city bureau)",
     "规则 gas-x：部门类型 gas 不存在（没有在用的市级部门）"),
    ("rule 'night': '25:00-06:00' is not HH:MM-HH:MM (24-hour local time, e.g. 22:00-06:00)",
     "规则 night：'25:00-06:00' 不是 HH:MM-HH:MM 格式（24 小时制本地时间，例如 22:00-06:00）"),
    ("rule 'a': 'fax' is not one of citizen, hotline", "规则 a：'fax' 不是以下取值之一：citizen, hotline"),
    ("rule 'b': must have exactly one of department, department_type or triage: true (has none)",
     "规则 b：department、department_type、triage: true 三者必须恰好有一个（现有：无）"),
    ("content is not one of image/jpeg, image/png", "内容不是以下类型之一：image/jpeg, image/png"),
])
def test_texts_desk_users_meet_have_chinese(english, chinese):
    assert i18n.text_zh(english) == chinese


@pytest.mark.parametrize("pattern, chinese", [
    (r"^\d{5}$", "应为 5 位数字"), (r"^[0-9]{6,20}$", "应为 6 到 20 位数字"),
    ("^(webhook|email|sms)$", "取值必须是 webhook、email、sms 之一"),
    (r"^[a-z0-9-]{1,40}$", r"格式不正确，应符合模式 ^[a-z0-9-]{1,40}$"),
])
def test_pattern_mismatch_reads_as_words_where_the_pattern_is_simple(pattern, chinese):
    assert i18n.validation_reason_zh({"type": "string_pattern_mismatch", "ctx": {"pattern": pattern}}) == chinese


def test_a_length_checked_as_a_sequences_counts_characters_when_the_value_is_text():
    # ``SafeText | None`` with ``max_length`` in a query: pydantic reports the generic too_long
    text = {"type": "too_long", "input": "长" * 101, "ctx": {"max_length": 100, "actual_length": 101}}
    assert i18n.validation_reason_zh(text) == "最多 100 个字符"
    items = {"type": "too_long", "input": ["a"] * 21, "ctx": {"max_length": 20, "actual_length": 21}}
    assert i18n.validation_reason_zh(items) == "最多 20 项，实际 21 项"
    short = {"type": "too_short", "input": "", "ctx": {"min_length": 1, "actual_length": 0}}
    assert i18n.validation_reason_zh(short) == "至少需要 1 个字符"
