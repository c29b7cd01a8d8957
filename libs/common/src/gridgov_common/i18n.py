"""Chinese error texts (错误信息中文化) for clients that ask for them with ``Accept-Language``.

Errors stay English by default: API clients, logs and Open311 read English. When ``Accept-Language`` prefers
Chinese (``zh``, ``zh-CN``, ``zh-Hans`` …, q-values honoured), the error's ``message`` and every detail's ``reason``
are Chinese; ``code`` and ``field`` never change, so a client's logic keeps working whatever the language. It is done
where the bodies are made: the exception handlers of ``gridgov_common.web`` read the request's header, and
``DomainError.body()`` reads ``REQUEST_WANTS_ZH``, which the ``RequestLanguage`` middleware sets for the request — so
errors that a middleware renders itself (the request guard's 413/422, outage answers) follow too. The Open311 error
array stays English: its clients are English by specification.

Where the Chinese comes from, first match wins:
1. the text the raising code gave (``DomainError.message_zh``, ``ErrorDetail.reason_zh``), for new errors whose
   wording no table here knows;
2. the structured facts the standard errors carry (``NotFound.what``, ``IllegalTransition.state`` …), so the ticket
   states and actions read as the glossary names them;
3. the pattern table ``_PATTERNS`` over the English text (messages and reasons raised across the services);
4. pydantic's error ``type`` with its ``ctx`` for request validation (``validation_reason_zh``).
Nothing found: the English text stays. Translating never raises — a failure here keeps the English body.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import Any

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------------------------
# Accept-Language


def _quality(params: list[str]) -> float:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                q = float(value.strip())
            except ValueError:
                return 0.0  # a malformed q-value makes the range unusable rather than preferred
            return q if 0.0 <= q <= 1.0 else 0.0
    return 1.0


def prefers_chinese(accept_language: str | None) -> bool:
    """True when the ``Accept-Language`` header ranks a Chinese range (zh, zh-CN, zh-Hans …) highest.

    Ties go to the range listed first (RFC 9110 leaves the order of equal weights to the server); ``*`` and every
    other language count as English, the default.
    """
    if not accept_language:
        return False
    best_q, best_zh = 0.0, False
    for item in accept_language.split(",")[:32]:  # bounded: the header is client input
        tag, *params = item.strip().split(";")
        tag = tag.strip().lower()
        if not tag:
            continue
        q = _quality(params)
        if q > best_q:
            best_q, best_zh = q, tag == "zh" or tag.startswith("zh-")
    return best_zh


def request_wants_zh(request: Any) -> bool:
    """Whether this request (a Starlette Request) asked for Chinese errors."""
    return prefers_chinese(request.headers.get("accept-language"))


def vary(headers: Mapping[str, str] | None) -> dict[str, str]:
    """An error answer's headers plus ``Vary: Accept-Language``: the same URL answers in two languages."""
    return {**(headers or {}), "Vary": "Accept-Language"}


# Set by ``RequestLanguage`` for the duration of a request that asked for Chinese: ``DomainError.body()`` reads it,
# so errors rendered outside the exception handlers (the request guard's 413/422, outage answers) follow too.
REQUEST_WANTS_ZH: ContextVar[bool] = ContextVar("gridgov_request_wants_zh", default=False)


class RequestLanguage:
    """Pure-ASGI middleware: notes whether the client prefers Chinese, for every error rendered inside it.

    Add it outermost (last), so that middlewares which refuse a request themselves see the preference too.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        """Run the request with ``REQUEST_WANTS_ZH`` set from its Accept-Language header."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = next((v for k, v in scope.get("headers", ()) if k == b"accept-language"), None)
        if header is None or not prefers_chinese(header.decode("latin-1")):
            await self.app(scope, receive, send)
            return
        token = REQUEST_WANTS_ZH.set(True)
        try:
            await self.app(scope, receive, send)
        finally:
            REQUEST_WANTS_ZH.reset(token)


# ---------------------------------------------------------------------------------------------------------------
# The domain's words (names from shared/domain/GLOSSARY.md)

# The console's own words for the same codes (services/console/.../static/app.js), so page and errors agree.
STATES_ZH: dict[str, str] = {
    "new": "新建",
    "registered": "已立案",
    "dispatched": "已派遣",
    "claimed": "已签收",
    "handled": "已处置",
    "verified": "已核查",
    "closed": "已结案",
    "returned": "已退单",  # awaiting the command centre's ruling
    "extension_requested": "延期申请中",
    "suspended": "已挂起",
}

ACTIONS_ZH: dict[str, str] = {
    "register": "立案",
    "dispatch": "派遣",
    "claim": "签收",
    "handle": "处置反馈",
    "verify": "核查通过",
    "rework": "返工",
    "close": "结案",
    "return": "退单",
    "rule_return": "退单裁定",
    "request_extension": "延期申请",
    "approve_extension": "延期批准",
    "refuse_extension": "延期驳回",
    "suspend": "挂起",
    "resume": "恢复",
    "supervise": "督办",
    "reopen": "重新打开",
    "warn": "预警",
    "escalate": "升级",
    "split": "拆分",
    "sensor_evidence": "感知证据",  # a device's repeat or "resolved" on the case (issue #16), as the console names it
    "do this": "执行此操作",
}

ROLES_ZH: dict[str, str] = {
    "grid_worker": "网格员",
    "dept_dispatcher": "部门调度员",  # as the console names the role
    "command_centre": "指挥中心",
    "admin": "管理员",
    "citizen": "市民",
    "system": "系统",
}

# What ``NotFound(what, ident)`` names across the services.
THINGS_ZH: dict[str, str] = {
    "ticket": "工单",
    "report": "上报事件",
    "merged report": "并案上报",
    "media": "图片",
    "department": "部门",
    "department type": "部门类型",
    "catalog version": "事项目录版本",
    "catalog item": "事项",
    "rule set": "派遣规则集",
    "grid": "网格",
    "grid set": "网格版本",
    "worker": "网格员",
    "contact_point": "联系方式",
    "inbox_message": "站内消息",
    "followup": "回访",
    "service": "服务",
    "service_code": "服务代码",
    "format": "格式",
    "path": "路径",
    "category": "事项类别",
    "town": "镇街",
    "village": "村（社区）",
    "article": "知识条目",
}


def _term(table: dict[str, str], word: str) -> str:
    """A word's Chinese name, or the word itself (an unknown code stays readable as it is)."""
    return table.get(word.strip(), word.strip())


def _list(table: dict[str, str], words: str) -> str:
    """A comma list of codes in Chinese, joined with the Chinese enumeration comma."""
    parts = [w for w in (p.strip() for p in words.split(",")) if w]
    if not parts or parts == ["none"] or parts == ["nobody"]:
        return "无"
    return "、".join(_term(table, p) for p in parts)


def _none(value: str) -> str:
    return "无" if value in ("none", "nothing", "") else value


# ---------------------------------------------------------------------------------------------------------------
# English texts of the services' errors → Chinese. Each pattern must match the whole text.

_Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]


def _rule(pattern: str, render: Callable[[re.Match[str]], str]) -> _Rule:
    return re.compile(pattern, re.DOTALL), render


# A value a checker quotes with repr(): 'text', a number, None/True/False (so that "content is not one of …"
# and the like keep their own patterns below).
_VALUE = r"(?P<v>'[^']*'|-?[\d.]+|None|True|False)"

_PATTERNS: list[_Rule] = [
    # messages of the standard errors
    _rule(r"authentication required", lambda m: "需要登录认证"),
    _rule(r"forbidden", lambda m: "无权执行此操作"),
    _rule(r"the request is invalid", lambda m: "请求无效"),
    _rule(r"payload too large", lambda m: "请求内容过大"),
    _rule(r"unsupported media type", lambda m: "不支持的内容类型"),
    _rule(r"rate limited", lambda m: "请求过于频繁，请稍后再试"),
    _rule(r"not found", lambda m: "不存在"),
    # authentication (401)
    _rule(r"missing bearer token", lambda m: "缺少访问令牌（Bearer token），请先登录"),
    _rule(r"missing bearer token \(Authorization header or access_token query parameter\)",
          lambda m: "缺少访问令牌（Authorization 请求头或 access_token 查询参数），请先登录"),
    _rule(r"token expired", lambda m: "访问令牌已过期，请重新登录"),
    _rule(r"invalid token: (?P<why>.*)", lambda m: f"访问令牌无效（{m['why']}），请重新登录"),
    _rule(r"token has no valid role", lambda m: "访问令牌中没有有效的角色"),
    _rule(r"token signature does not verify", lambda m: "访问令牌签名无效，请重新登录"),
    _rule(r"token not yet valid: .*", lambda m: "访问令牌尚未生效，请检查本机时间后重试"),
    _rule(r"token audience is not .*", lambda m: "访问令牌的受众（aud）不符，请重新登录"),
    _rule(r"token issuer is not .*", lambda m: "访问令牌的签发方不符，请重新登录"),
    _rule(r"token issuer .* is not trusted here; expected .*",
          lambda m: "不信任该访问令牌的签发方，请通过市统一身份认证登录"),
    _rule(r"tokens issued by gridgov are not accepted here; sign in with .*",
          lambda m: "此处不接受本系统签发的令牌，请通过市统一身份认证登录"),
    _rule(r"token algorithm .* is not allowed; allowed: .*", lambda m: "访问令牌的签名算法不被允许"),
    _rule(r"token algorithm .* does not match its key .*", lambda m: "访问令牌的签名算法与密钥不符"),
    _rule(r"token header kid must be a string", lambda m: "访问令牌头部的 kid 必须是字符串"),
    _rule(r"unknown signing key id \(kid\) .*", lambda m: "未知的签名密钥（kid），请重新登录"),
    _rule(r"token claim (?P<name>.+?) is missing.*", lambda m: f"访问令牌缺少声明 {m['name']}"),
    _rule(r"token claim (?P<name>.+?) must be one printable string of at most (?P<n>\d+) characters",
          lambda m: f"访问令牌声明 {m['name']} 必须是不超过 {m['n']} 个字符的可打印字符串"),
    _rule(r"token claim (?P<name>.+?) maps to no gridgov role .*",
          lambda m: f"访问令牌声明 {m['name']} 未对应任何本系统角色，请联系管理员"),
    _rule(r"the identity provider cannot be reached to verify this token; try again later",
          lambda m: "无法连接统一身份认证服务验证令牌，请稍后重试"),
    _rule(r"signing key not cached and the identity provider is unreachable",
          lambda m: "签名密钥未缓存且统一身份认证服务无法连接"),
    _rule(r"a hotline follow-up is recorded by a 12345 operator: log in as command_centre",
          lambda m: "热线回访须由 12345 话务员记录：请以指挥中心身份登录"),
    # forbidden (403): role and department
    _rule(r"role (?P<role>\S+) may not (?P<action>[\w ]+); allowed: (?P<allowed>.*)",
          lambda m: f"角色“{_term(ROLES_ZH, m['role'])}”无权{_term(ACTIONS_ZH, m['action'])}；"
                    f"允许的角色：{_list(ROLES_ZH, m['allowed'])}"),
    _rule(r"role (?P<role>\S+) may not see tickets",
          lambda m: f"角色“{_term(ROLES_ZH, m['role'])}”无权查看工单"),
    _rule(r"role (?P<role>\S+) may not record a hotline call-back; allowed: (?P<allowed>.*)",
          lambda m: f"角色“{_term(ROLES_ZH, m['role'])}”无权记录热线回访；允许的角色：{_list(ROLES_ZH, m['allowed'])}"),
    _rule(r"ticket is not with your department (?P<mine>\S+)",
          lambda m: f"该工单不属于您的部门 {_none(m['mine'])}"),
    _rule(r"ticket is not in your grid (?P<mine>\S+)",
          lambda m: f"该工单不在您的网格 {_none(m['mine'])}"),
    _rule(r"token names no department", lambda m: "访问令牌未指明部门"),
    _rule(r"token names no grid", lambda m: "访问令牌未指明网格"),
    _rule(r"a dept_dispatcher token must name its department", lambda m: "部门调度员的访问令牌必须指明其部门"),
    _rule(r"a dispatcher of (?P<dept>\S+) sees only its own department's breaches",
          lambda m: f"部门 {m['dept']} 的调度员只能查看本部门的超期工单"),
    _rule(r"a citizen reads only their own ledger", lambda m: "市民只能查看自己的积分记录"),
    _rule(r"a grid worker may change only their own duty", lambda m: "网格员只能修改自己的在岗状态"),
    _rule(r"the DEV login is switched off; sign in through the city's SSO",
          lambda m: "开发登录已关闭，请通过市统一身份认证（SSO）登录"),
    _rule(r"the DEV login is off here \(.*\); sign in through the city's SSO",
          lambda m: "此处开发登录已关闭，请通过市统一身份认证（SSO）登录"),
    _rule(r"operators record hotline call-backs only; this follow-up is the reporter's to answer",
          lambda m: "话务员只能记录热线回访；此回访应由上报人本人答复"),
    _rule(r"api_key is required", lambda m: "缺少 api_key"),
    _rule(r"api_key is not valid", lambda m: "api_key 无效"),
    # illegal transitions and conflicts (409)
    _rule(r"cannot (?P<action>\w+) a ticket in state (?P<state>\w+); allowed: (?P<allowed>.*)",
          lambda m: f"工单当前状态为“{_term(STATES_ZH, m['state'])}”，不能{_term(ACTIONS_ZH, m['action'])}；"
                    f"可执行的操作：{_list(ACTIONS_ZH, m['allowed'])}"),
    _rule(r"not allowed in state (?P<state>\w+); allowed: (?P<allowed>.*)",
          lambda m: f"“{_term(STATES_ZH, m['state'])}”状态下不允许此操作；"
                    f"可执行的操作：{_list(ACTIONS_ZH, m['allowed'])}"),
    _rule(r"ticket (?P<id>\S+) changed concurrently; reload it and try again",
          lambda m: f"工单 {m['id']} 已被他人同时修改，请刷新后重试"),
    _rule(r"ticket (?P<id>\S+) changed concurrently", lambda m: f"工单 {m['id']} 已被他人同时修改，请刷新后重试"),
    _rule(r"expected (?P<v>\S+), the ticket has moved on", lambda m: f"期望版本 {m['v']}，工单已有更新"),
    _rule(r"expected (?P<v>\d+)", lambda m: f"期望版本 {m['v']}，工单已有更新"),
    _rule(r"ticket (?P<id>\S+) has no department to rework it; dispatch a new ticket instead",
          lambda m: f"工单 {m['id']} 没有可返工的部门，请另行派遣新工单"),
    _rule(r"none: the case was handled on the spot", lambda m: "无：该案件已由网格员自行处置"),
    _rule(r"another catalog version was published at the same time; retry",
          lambda m: "另一个事项目录版本同时发布，请重试"),
    _rule(r"taken by a concurrent import", lambda m: "已被同时进行的导入占用"),
    _rule(r"another rule set version was published at the same time; read it and try again",
          lambda m: "另一个派遣规则版本同时发布，请读取后重试"),
    _rule(r"version (?P<v>\S+) already exists", lambda m: f"版本 {m['v']} 已存在"),
    _rule(r"grid set (?P<v>\S+) is already stored", lambda m: f"网格版本 {m['v']} 已存在"),
    _rule(r"already stored; grid sets are immutable, import a new version",
          lambda m: "已存在；网格版本不可修改，请导入新版本"),
    _rule(r"already stored", lambda m: "已存在"),
    _rule(r"client (?P<name>.+) exists", lambda m: f"客户端 {m['name']} 已存在"),
    _rule(r"already registered", lambda m: "已注册"),
    _rule(r"contact point exists", lambda m: "联系方式已存在"),
    _rule(r"already a contact point of this address", lambda m: "该地址已是联系方式"),
    _rule(r"this follow-up has already been answered", lambda m: "此回访已答复"),
    _rule(r"answered already: a follow-up takes one answer", lambda m: "已答复：每次回访只接受一次答复"),
    _rule(r"this follow-up has expired", lambda m: "此回访已过期"),
    _rule(r"expired at (?P<at>.+) \(China time\)", lambda m: f"已于 {m['at']}（北京时间）过期"),
    # validation of the domain (422)
    _rule(r"(?P<action>\w+) needs a reason", lambda m: f"{_term(ACTIONS_ZH, m['action'])}需要填写原因"),
    _rule(r"a reason is required", lambda m: "必须填写原因"),
    _rule(r"which department\?", lambda m: "请指定部门"),
    _rule(r"a department is required", lambda m: "必须指定部门"),
    _rule(r"unknown department", lambda m: "未知部门"),
    _rule(r"(?P<code>\S+) is not an active department", lambda m: f"{m['code']} 不是有效的在用部门"),
    _rule(r"how much longer\?", lambda m: "请指定延期时长"),
    _rule(r"an extension amount is required", lambda m: "必须填写延期时长"),
    _rule(r"unknown category (?P<code>\S+)", lambda m: f"未知的事项类别 {m['code']}"),
    _rule(r"unknown grid", lambda m: "未知网格"),
    _rule(r"no grid (?P<code>\S+) in grid set (?P<rest>.*)", lambda m: f"网格版本 {m['rest']} 中没有网格 {m['code']}"),
    _rule(r"a department dispatcher must name a department", lambda m: "部门调度员必须指定部门"),
    _rule(r"required for role (?P<role>\S+)", lambda m: f"角色“{_term(ROLES_ZH, m['role'])}”必须填写"),
    _rule(r"a grid worker must name a grid", lambda m: "网格员必须指定网格"),
    _rule(r"the path may not climb out of the service", lambda m: "路径不能跳出服务范围"),
    _rule(r"contains \.\.", lambda m: "包含 .."),
    _rule(r"invalid period", lambda m: "统计周期无效"),
    _rule(r"start must carry a UTC offset", lambda m: "start 必须带时区偏移"),
    _rule(r"naive datetime: give a UTC offset, e\.g\. \+08:00 or Z",
          lambda m: "时间缺少时区：请带上 UTC 偏移，例如 +08:00 或 Z"),
    _rule(r"start is out of range", lambda m: "start 超出范围"),
    _rule(r"year must be between (?P<a>\d+) and (?P<b>\d+)", lambda m: f"年份必须在 {m['a']} 到 {m['b']} 之间"),
    _rule(r"the catalog must be UTF-8 CSV", lambda m: "事项目录必须是 UTF-8 编码的 CSV"),
    _rule(r"not UTF-8 at byte (?P<n>\d+)", lambda m: f"第 {m['n']} 字节处不是 UTF-8 编码"),
    _rule(r"must be text/csv, got (?P<got>.*)", lambda m: f"必须是 text/csv，实际为 {_none(m['got'])}"),
    _rule(r"the rule set is invalid", lambda m: "派遣规则集无效"),
    _rule(r"the rule set cannot be published", lambda m: "派遣规则集不能发布"),
    _rule(r"a rule set must be an object", lambda m: "派遣规则集必须是 JSON 对象"),
    # the rule set's own checks (dispatch's rules/parsing.py): what the console's rules editor shows
    _rule(r"rule '(?P<id>[^']*)': (?P<why>.+)", lambda m: f"规则 {m['id']}：{text_zh(m['why']) or m['why']}"),
    _rule(r"category (?P<code>\d+) is unroutable: no rule matches it; add a rule with only a category prefix that "
          r"sends it to a department",
          lambda m: f"事项类别 {m['code']} 无处派遣：没有规则匹配它；请添加一条只按类别前缀派往某部门的规则"),
    _rule(r"category (?P<code>\d+) is unroutable: only conditional or triage rules match it \((?P<named>.*)\); add "
          r"a rule with only a category prefix that sends it to a department",
          lambda m: f"事项类别 {m['code']} 无处派遣：只有带附加条件或转人工的规则匹配它（{m['named']}）；"
                    "请添加一条只按类别前缀派往某部门的规则"),
    _rule(r"department (?P<d>\S+) is (?P<state>unknown|inactive)",
          lambda m: f"部门 {m['d']} {'不存在' if m['state'] == 'unknown' else '已停用'}"),
    _rule(r"department type (?P<d>\S+) is (?P<state>unknown|inactive) \(no active city bureau\)",
          lambda m: f"部门类型 {m['d']} {'不存在' if m['state'] == 'unknown' else '已停用'}（没有在用的市级部门）"),
    _rule(r"must be a non-empty list of at most (?P<n>\d+) rules", lambda m: f"必须是 1 到 {m['n']} 条规则的列表"),
    _rule(r"must be a non-empty list of at most (?P<n>\d+) strings",
          lambda m: f"必须是非空的字符串列表，最多 {m['n']} 项"),
    _rule(rf"{_VALUE} is not a non-empty string of at most 100 characters",
          lambda m: f"{m['v']} 不是 1 到 100 个字符的字符串"),
    _rule(rf"{_VALUE} is not a valid code", lambda m: f"{m['v']} 不是有效的编码"),
    _rule(rf"{_VALUE} is not one of (?P<choices>.+)", lambda m: f"{m['v']} 不是以下取值之一：{m['choices']}"),
    _rule(rf"{_VALUE} is not HH:MM-HH:MM \(24-hour local time, e\.g\. 22:00-06:00\)",
          lambda m: f"{m['v']} 不是 HH:MM-HH:MM 格式（24 小时制本地时间，例如 22:00-06:00）"),
    _rule(rf"{_VALUE} is empty: start and end are the same \(leave hours out for all day\)",
          lambda m: f"{m['v']} 的起止时间相同（全天有效请不写 hours）"),
    _rule(r"unknown key (?P<k>.+?); known: (?P<known>.+)", lambda m: f"未知的键 {m['k']}；可用的键：{m['known']}"),
    _rule(rf"{_VALUE} is not 2 to 5 digits", lambda m: f"{m['v']} 不是 2 到 5 位数字"),
    _rule(r"must be true or false", lambda m: "必须是 true 或 false"),
    _rule(r"must have exactly one of department, department_type or triage: true \(has (?P<has>.*)\)",
          lambda m: f"department、department_type、triage: true 三者必须恰好有一个（现有：{_none(m['has'])}）"),
    _rule(rf"{_VALUE} is not a department code", lambda m: f"{m['v']} 不是部门编码"),
    _rule(rf"{_VALUE} is not an id of 1 to 64 characters a-z, 0-9 and -",
          lambda m: f"{m['v']} 不是有效的规则编号（1 到 64 个字符：a-z、0-9 和 -）"),
    _rule(r"duplicate id: (?P<where>.+) has it too", lambda m: f"编号重复：{m['where']} 也用了它"),
    _rule(rf"{_VALUE} is not an integer", lambda m: f"{m['v']} 不是整数"),
    _rule(r"must be a string of at most (?P<n>\d+) characters", lambda m: f"必须是最多 {m['n']} 个字符的字符串"),
    _rule(r"is required", lambda m: "必填"),
    _rule(r"must be an object", lambda m: "必须是 JSON 对象"),
    _rule(r"media listed twice", lambda m: "图片重复列出"),
    _rule(r"each id at most once", lambda m: "每个编号只能出现一次"),
    _rule(r"unknown media", lambda m: "未知图片"),
    _rule(r"no upload (?P<id>\S+) of yours", lambda m: f"您没有编号为 {m['id']} 的上传图片"),
    _rule(r"media already used", lambda m: "图片已被使用"),
    _rule(r"upload (?P<id>\S+) belongs to another report", lambda m: f"上传图片 {m['id']} 属于另一条上报"),
    _rule(r"the patrol report is incomplete", lambda m: "巡查上报信息不完整"),
    _rule(r"required when handled_on_spot is true", lambda m: "自行处置（handled_on_spot 为 true）时必须填写"),
    _rule(r"a photo of the fix is required when handled_on_spot is true",
          lambda m: "自行处置（handled_on_spot 为 true）时必须附上处置后照片"),
    _rule(r"give both coordinates or neither", lambda m: "经纬度须同时提供或同时不提供"),
    _rule(r"required when the other coordinate is given", lambda m: "已提供另一个坐标时必须填写"),
    _rule(r"too many points", lambda m: "坐标点过多"),
    _rule(r"at most (?P<n>\d+) points per call(?P<rest>.*)", lambda m: f"每次最多 {m['n']} 个坐标点"),
    _rule(r"bad bbox", lambda m: "范围框（bbox）无效"),
    _rule(r"west,south,east,north in degrees", lambda m: "格式为 西,南,东,北（单位：度）"),
    _rule(r"bad date", lambda m: "日期无效"),
    _rule(r"bad mapping", lambda m: "字段映射无效"),
    _rule(r"unknown coordinate system", lambda m: "未知坐标系"),
    _rule(r"not a FeatureCollection", lambda m: "不是 GeoJSON FeatureCollection"),
    _rule(r"expected a GeoJSON FeatureCollection", lambda m: "应为 GeoJSON FeatureCollection"),
    _rule(r"invalid contact point", lambda m: "联系方式无效"),
    _rule(r"a webhook target must be an http\(s\) URL", lambda m: "webhook 地址必须是 http(s) URL"),
    _rule(r"a webhook needs a secret to sign its deliveries", lambda m: "webhook 需要签名密钥"),
    _rule(r"not an e-mail address", lambda m: "不是有效的电子邮件地址"),
    _rule(r"not a phone number.*", lambda m: "不是有效的电话号码"),
    _rule(r"only webhooks take a secret, not (?P<ch>\S+)", lambda m: f"只有 webhook 可设置密钥，{m['ch']} 不可"),
    _rule(r"bad phone", lambda m: "电话号码无效"),
    _rule(r"the body is not a form", lambda m: "请求体不是表单"),
    _rule(r"form-encoded expected", lambda m: "应为表单编码（form-encoded）"),
    _rule(r"a location is required", lambda m: "必须提供位置"),
    _rule(r"(?P<name>\w+) is not a number", lambda m: f"{m['name']} 不是数字"),
    _rule(r"not a number", lambda m: "不是数字"),
    _rule(r"(?P<name>\w+) out of range", lambda m: f"{m['name']} 超出范围"),
    _rule(r"between (?P<a>\S+) and (?P<b>\S+)", lambda m: f"必须在 {m['a']} 到 {m['b']} 之间"),
    _rule(r"(?P<name>\w+) too long", lambda m: f"{m['name']} 过长"),
    _rule(r"at most (?P<n>\d+) characters", lambda m: f"最多 {m['n']} 个字符"),
    _rule(r"required", lambda m: "必填"),
    # sizes, types, rates (413, 415, 429)
    _rule(r"larger than (?P<n>\d+) bytes", lambda m: f"超过 {m['n']} 字节的上限"),
    _rule(r"content is not one of (?P<types>.*)", lambda m: f"内容不是以下类型之一：{m['types']}"),
    _rule(r"malformed image: (?P<why>.*)", lambda m: f"图片已损坏（{m['why']}）"),
    _rule(r"at most (?P<n>\d+) reports per (?P<s>\d+)s",
          lambda m: f"每 {m['s']} 秒最多上报 {m['n']} 条，请稍后再试"),
    _rule(r"at most (?P<n>\d+) requests per (?P<s>\d+)s",
          lambda m: f"每 {m['s']} 秒最多请求 {m['n']} 次，请稍后再试"),
    _rule(r"at most (?P<n>\d+) (?P<ch>\w+) reports per minute from everyone together",
          lambda m: f"{m['ch']} 渠道每分钟最多共接收 {m['n']} 条上报，请稍后再试"),
    # the request guard (gridgov_common.limits): text policy, depth; metrics access
    _rule(r"control character U\+(?P<cp>[0-9A-F]{4,6}) not allowed", lambda m: f"不允许包含控制字符 U+{m['cp']}"),
    _rule(r"name: control character U\+(?P<cp>[0-9A-F]{4,6}) not allowed",
          lambda m: f"名称中不允许包含控制字符 U+{m['cp']}"),
    _rule(r"line (?P<n>\d+): control character U\+(?P<cp>[0-9A-F]{4,6}) not allowed",
          lambda m: f"第 {m['n']} 行不允许包含控制字符 U+{m['cp']}"),
    _rule(r"JSON nested deeper than (?P<n>\d+) levels", lambda m: f"JSON 嵌套超过 {m['n']} 层"),
    # durations of sensing's alarm types and snoozes ("30m"): what the console's 告警类型设置 shows beside a field
    _rule(r"a duration is a string like 30m, 2h, 45s or 1d", lambda m: "时长应为文本，如 30m、2h、45s 或 1d"),
    _rule(r"a duration is at most (?P<n>\d+) characters", lambda m: f"时长最多 {m['n']} 个字符"),
    _rule(r"a duration is a whole number and a unit s, m, h or d, e\.g\. 30m",
          lambda m: "时长应为整数加单位 s（秒）、m（分钟）、h（小时）或 d（天），如 30m"),
    _rule(r"a duration is at least 1s", lambda m: "时长至少 1 秒"),
    _rule(r"a duration is at most 30d", lambda m: "时长最多 30 天"),
    # dispatch's working calendar (工作日历): a year's official holiday table as an administrator loads it
    _rule(r"the (?P<y>\d{4}) calendar table is invalid: (?P<field>holidays|workdays): (?P<why>.*)",
          lambda m: f"{m['y']} 年节假日安排有误：{'放假日期' if m['field'] == 'holidays' else '调休上班日期'}"
                    f" {text_zh(m['why']) or m['why']}"),
    _rule(r"(?P<d>\d{4}-\d{2}-\d{2}) is not in (?P<y>\d{4})", lambda m: f"{m['d']} 不在 {m['y']} 年内"),
    _rule(r"(?P<d>\d{4}-\d{2}-\d{2}) is not a weekend day: only a Saturday or Sunday can be an adjusted working day",
          lambda m: f"{m['d']} 不是周末：只有周六或周日可以调休上班"),
    _rule(r"(?P<d>\d{4}-\d{2}-\d{2}) is listed both as a holiday and as a working day",
          lambda m: f"{m['d']} 同时列为放假日和调休上班日"),
    # sensing's suppression rules (屏蔽规则): what the console's rule forms show beside a field
    _rule(r"the rule cannot be used", lambda m: "规则无法生效"),
    _rule(r"must be after starts_at", lambda m: "必须晚于开始时间"),
    _rule(r"a snooze needs an expiry \(for or ends_at\)", lambda m: "静默须有结束时间（for 或 ends_at）"),
    _rule(r"a maintenance window names devices or areas", lambda m: "维护窗口须指定设备或区域"),
    _rule(r"an inhibit rule names the superior alarm types", lambda m: "抑制规则须指定上级告警类型"),
    _rule(r"an inhibit rule names at least one key both alarms must share",
          lambda m: "抑制规则须至少指定一个两条告警必须相同的字段（如同一网格）"),
    _rule(r"at most (?P<n>\d+) keys", lambda m: f"最多 {m['n']} 个字段"),
    _rule(r"a type cannot inhibit itself", lambda m: "告警类型不能抑制自身"),
    _rule(r"a confidence rule needs a floor in \(0, 1\]", lambda m: "置信度下限规则须给出大于 0、不超过 1 的下限"),
    _rule(r"give for or ends_at, not both", lambda m: "for 与 ends_at 只能给出其一"),
    _rule(r"unknown alarm type\(s\): (?P<codes>.*)", lambda m: f"未知的告警类型：{m['codes']}"),
    _rule(r"metrics are served to loopback clients only unless GRIDGOV_METRICS_TOKEN is set",
          lambda m: "未设置 GRIDGOV_METRICS_TOKEN 时，监控指标只对本机开放"),
    _rule(r"a bearer token \(GRIDGOV_METRICS_TOKEN\) is required", lambda m: "需要监控令牌（GRIDGOV_METRICS_TOKEN）"),
    _rule(r"not the metrics token", lambda m: "监控令牌不正确"),
    # availability (503)
    _rule(r"the database is unavailable; retry later", lambda m: "数据库暂时不可用，请稍后重试"),
    _rule(r"the message bus is unavailable; retry later", lambda m: "消息总线暂时不可用，请稍后重试"),
    _rule(r"(?P<svc>[\w-]+) did not answer in time(?P<rest>.*)", lambda m: f"{m['svc']} 服务响应超时，请稍后重试"),
    _rule(r"(?P<svc>[\w-]+) cannot be reached(?P<rest>.*)", lambda m: f"无法连接 {m['svc']} 服务，请稍后重试"),
    _rule(r"PostGIS is unreachable: .*", lambda m: "空间数据库（PostGIS）无法连接，请稍后重试"),
    _rule(r"PostGIS lookup failed: .*", lambda m: "空间数据库（PostGIS）查询失败，请稍后重试"),
]

# Messages of HTTP errors Starlette raises itself (no route, wrong method …).
HTTP_STATUS_ZH: dict[int, str] = {
    400: "请求错误",
    401: "需要登录认证",
    403: "无权执行此操作",
    404: "请求的资源不存在",
    405: "不支持该请求方法",
    406: "无法提供请求的格式",
    409: "请求与当前状态冲突",
    410: "资源已失效",
    413: "请求内容过大",
    415: "不支持的内容类型",
    422: "请求无效",
    429: "请求过于频繁，请稍后再试",
    500: "服务器内部错误",
    503: "服务暂时不可用，请稍后重试",
}


def as_asked(text: str) -> str:
    """A text an answer carries outside an error (a warning, a note): in Chinese when this request asked for it and
    the pattern table knows it, else as it is."""
    return (text_zh(text) or text) if REQUEST_WANTS_ZH.get() else text


def text_zh(text: str) -> str | None:
    """The Chinese of one English error text from the pattern table, or None if no pattern knows it."""
    for pattern, render in _PATTERNS:
        m = pattern.fullmatch(text)
        if m is not None:
            return render(m)
    return None


# ---------------------------------------------------------------------------------------------------------------
# Pydantic validation errors, by type with their ctx (every type of pydantic_core's ErrorType).

def _ctx(ctx: dict[str, Any], key: str, default: Any = "") -> Any:
    value = ctx.get(key, default)
    return default if value is None else value


def _expected(ctx: dict[str, Any]) -> str:
    # pydantic renders choices as "'a', 'b' or 'c'"; keep the values, say 或 in Chinese.
    return str(_ctx(ctx, "expected")).replace(" or ", " 或 ")


def _sub_error(value: Any) -> str:
    """The inner reason pydantic quotes (a ValueError, a date parser's complaint), in Chinese where known."""
    text = str(value)
    return text_zh(text) or _PARSER_REASONS_ZH.get(text, text)


# The date/time/number parsers' own complaints (speedate, uuid), as pydantic quotes them in ``ctx.error``.
_PARSER_REASONS_ZH: dict[str, str] = {
    "input is too short": "内容过短",
    "input is too long": "内容过长",
    "invalid character in year": "年份含无效字符",
    "invalid character in month": "月份含无效字符",
    "invalid character in day": "日期含无效字符",
    "invalid character in hour": "小时含无效字符",
    "invalid character in minute": "分钟含无效字符",
    "invalid character in second": "秒含无效字符",
    "invalid date separator, expected `-`": "日期分隔符无效，应为 -",
    "invalid datetime separator, expected `T`, `t`, `_` or space": "日期与时间之间的分隔符无效，应为 T 或空格",
    "invalid time separator, expected `:`": "时间分隔符无效，应为 :",
    "month value is outside expected range of 1-12": "月份应在 1 到 12 之间",
    "day value is outside expected range": "日期超出该月范围",
    "hour value is outside expected range of 0-23": "小时应在 0 到 23 之间",
    "minute value is outside expected range of 0-59": "分钟应在 0 到 59 之间",
    "second value is outside expected range of 0-59": "秒应在 0 到 59 之间",
    "invalid timezone sign": "时区符号无效",
    "unexpected extra characters at the end of the input": "末尾有多余字符",
    "invalid length": "长度无效",
    "unexpected extra characters": "有多余字符",
}

_NEEDS_TYPE = "类型不正确，应为{}"

# A desk user reads "应为 5 位数字", not "^\d{5}$": the shapes of pattern the services use, in words.
_DIGITS = re.compile(r"\^(?:\\d|\[0-9\])\{(?P<low>\d+)(?:,(?P<high>\d+))?\}\$")
_CHOICES = re.compile(r"\^\((?P<choices>[\w|]+)\)\$")


def _pattern_zh(pattern: str) -> str:
    digits = _DIGITS.fullmatch(pattern)
    if digits:
        low, high = digits["low"], digits["high"]
        return f"应为 {low} 位数字" if high is None else f"应为 {low} 到 {high} 位数字"
    choices = _CHOICES.fullmatch(pattern)
    if choices:
        return f"取值必须是 {'、'.join(choices['choices'].split('|'))} 之一"
    return f"格式不正确，应符合模式 {pattern}"

VALIDATION_ZH: dict[str, Callable[[dict[str, Any]], str]] = {
    "missing": lambda c: "必填项，不能缺少",
    "missing_argument": lambda c: "必填项，不能缺少",
    "missing_keyword_only_argument": lambda c: "必填项，不能缺少",
    "missing_positional_only_argument": lambda c: "必填项，不能缺少",
    "extra_forbidden": lambda c: "不允许的字段",
    "unexpected_keyword_argument": lambda c: "不允许的字段",
    "unexpected_positional_argument": lambda c: "不允许的参数",
    "multiple_argument_values": lambda c: "参数重复",
    "string_type": lambda c: _NEEDS_TYPE.format("字符串"),
    "string_unicode": lambda c: "应为合法的 Unicode 字符串",
    "string_too_short": lambda c: f"至少需要 {_ctx(c, 'min_length')} 个字符",
    "string_too_long": lambda c: f"最多 {_ctx(c, 'max_length')} 个字符",
    "string_pattern_mismatch": lambda c: _pattern_zh(str(_ctx(c, "pattern"))),
    "string_not_ascii": lambda c: "只能包含 ASCII 字符",
    "greater_than": lambda c: f"必须大于 {_ctx(c, 'gt')}",
    "greater_than_equal": lambda c: f"必须大于或等于 {_ctx(c, 'ge')}",
    "less_than": lambda c: f"必须小于 {_ctx(c, 'lt')}",
    "less_than_equal": lambda c: f"必须小于或等于 {_ctx(c, 'le')}",
    "multiple_of": lambda c: f"必须是 {_ctx(c, 'multiple_of')} 的倍数",
    "finite_number": lambda c: "必须是有限数值",
    "too_short": lambda c: f"至少需要 {_ctx(c, 'min_length')} 项，实际 {_ctx(c, 'actual_length')} 项",
    "too_long": lambda c: f"最多 {_ctx(c, 'max_length')} 项" + (
        f"，实际 {c['actual_length']} 项" if c.get("actual_length") is not None else ""),
    "int_type": lambda c: _NEEDS_TYPE.format("整数"),
    "int_parsing": lambda c: "应为整数，无法解析为整数",
    "int_parsing_size": lambda c: "整数超出可解析的范围",
    "int_from_float": lambda c: "应为整数，不能带小数部分",
    "float_type": lambda c: _NEEDS_TYPE.format("数字"),
    "float_parsing": lambda c: "应为数字，无法解析为数字",
    "bool_type": lambda c: _NEEDS_TYPE.format("布尔值"),
    "bool_parsing": lambda c: "应为布尔值（true 或 false）",
    "literal_error": lambda c: f"取值必须是 {_expected(c)} 之一",
    "enum": lambda c: f"取值必须是 {_expected(c)} 之一",
    "json_invalid": lambda c: f"不是合法的 JSON（{_json_reason_zh(str(_ctx(c, 'error')))}）",
    "json_type": lambda c: "JSON 输入应为字符串或字节",
    "date_type": lambda c: _NEEDS_TYPE.format("日期"),
    "date_parsing": lambda c: f"应为 YYYY-MM-DD 格式的日期（{_sub_error(_ctx(c, 'error'))}）",
    "date_from_datetime_parsing": lambda c: f"应为日期或日期时间（{_sub_error(_ctx(c, 'error'))}）",
    "date_from_datetime_inexact": lambda c: "日期时间转为日期时，时间部分必须为零",
    "date_past": lambda c: "日期必须是过去的日期",
    "date_future": lambda c: "日期必须是将来的日期",
    "time_type": lambda c: _NEEDS_TYPE.format("时间"),
    "time_parsing": lambda c: f"应为有效的时间格式（{_sub_error(_ctx(c, 'error'))}）",
    "datetime_type": lambda c: _NEEDS_TYPE.format("日期时间"),
    "datetime_parsing": lambda c: f"应为 ISO 8601 格式的日期时间（{_sub_error(_ctx(c, 'error'))}）",
    "datetime_object_invalid": lambda c: f"日期时间对象无效（{_sub_error(_ctx(c, 'error'))}）",
    "datetime_from_date_parsing": lambda c: f"应为日期时间或日期（{_sub_error(_ctx(c, 'error'))}）",
    "datetime_past": lambda c: "必须是过去的时间",
    "datetime_future": lambda c: "必须是将来的时间",
    "timezone_naive": lambda c: "不能带时区信息",
    "timezone_aware": lambda c: "必须带时区信息（例如 +08:00 或 Z）",
    "timezone_offset": lambda c: f"时区偏移应为 {_ctx(c, 'tz_expected')}，实际为 {_ctx(c, 'tz_actual')}",
    "time_delta_type": lambda c: _NEEDS_TYPE.format("时长"),
    "time_delta_parsing": lambda c: f"应为有效的时长（{_sub_error(_ctx(c, 'error'))}）",
    "uuid_type": lambda c: "UUID 应为字符串或 UUID",
    "uuid_parsing": lambda c: f"应为有效的 UUID（{_sub_error(_ctx(c, 'error'))}）",
    "uuid_version": lambda c: f"应为第 {_ctx(c, 'expected_version')} 版 UUID",
    "url_type": lambda c: "URL 应为字符串",
    "url_parsing": lambda c: f"应为有效的 URL（{_sub_error(_ctx(c, 'error'))}）",
    "url_syntax_violation": lambda c: f"URL 不符合语法规则（{_sub_error(_ctx(c, 'error'))}）",
    "url_too_long": lambda c: f"URL 最多 {_ctx(c, 'max_length')} 个字符",
    "url_scheme": lambda c: f"URL 协议应为 {_expected({'expected': _ctx(c, 'expected_schemes')})}",
    "value_error": lambda c: f"取值无效：{_sub_error(_ctx(c, 'error'))}",
    "assertion_error": lambda c: f"取值无效：{_sub_error(_ctx(c, 'error'))}",
    "dict_type": lambda c: _NEEDS_TYPE.format("JSON 对象"),
    "model_type": lambda c: _NEEDS_TYPE.format("JSON 对象"),
    "model_attributes_type": lambda c: _NEEDS_TYPE.format("JSON 对象"),
    "dataclass_type": lambda c: _NEEDS_TYPE.format("JSON 对象"),
    "dataclass_exact_type": lambda c: _NEEDS_TYPE.format("JSON 对象"),
    "mapping_type": lambda c: _NEEDS_TYPE.format("JSON 对象"),
    "frozen_dict_type": lambda c: _NEEDS_TYPE.format("JSON 对象"),
    "ordered_dict_type": lambda c: _NEEDS_TYPE.format("JSON 对象"),
    "counter_type": lambda c: _NEEDS_TYPE.format("JSON 对象"),
    "typed_dict_type": lambda c: _NEEDS_TYPE.format("JSON 对象"),
    "invalid_key": lambda c: "对象的键必须是字符串",
    "list_type": lambda c: _NEEDS_TYPE.format("数组"),
    "tuple_type": lambda c: _NEEDS_TYPE.format("数组"),
    "set_type": lambda c: _NEEDS_TYPE.format("数组"),
    "frozen_set_type": lambda c: _NEEDS_TYPE.format("数组"),
    "deque_type": lambda c: _NEEDS_TYPE.format("数组"),
    "named_tuple_type": lambda c: _NEEDS_TYPE.format("数组或对象"),
    "iterable_type": lambda c: _NEEDS_TYPE.format("数组"),
    "iteration_error": lambda c: f"遍历时出错（{_sub_error(_ctx(c, 'error'))}）",
    "set_item_not_hashable": lambda c: "集合中的元素不可重复比较",
    "bytes_type": lambda c: _NEEDS_TYPE.format("字节串"),
    "bytes_too_short": lambda c: f"至少需要 {_ctx(c, 'min_length')} 个字节",
    "bytes_too_long": lambda c: f"最多 {_ctx(c, 'max_length')} 个字节",
    "bytes_invalid_encoding": lambda c: f"应为有效的 {_ctx(c, 'encoding')} 编码",
    "none_required": lambda c: "必须为空（null）",
    "decimal_type": lambda c: _NEEDS_TYPE.format("数字"),
    "decimal_parsing": lambda c: "应为有效的十进制数",
    "decimal_max_digits": lambda c: f"总位数不能超过 {_ctx(c, 'max_digits')} 位",
    "decimal_max_places": lambda c: f"小数位数不能超过 {_ctx(c, 'decimal_places')} 位",
    "decimal_whole_digits": lambda c: f"整数部分不能超过 {_ctx(c, 'whole_digits')} 位",
    "fraction_type": lambda c: _NEEDS_TYPE.format("分数"),
    "fraction_parsing": lambda c: "应为有效的分数",
    "complex_type": lambda c: _NEEDS_TYPE.format("复数"),
    "complex_str_parsing": lambda c: "应为有效的复数字符串",
    "union_tag_invalid": lambda c: f"类型标记 {_ctx(c, 'tag')} 无效，应为 {_ctx(c, 'expected_tags')} 之一",
    "union_tag_not_found": lambda c: f"缺少类型标记字段 {_ctx(c, 'discriminator')}",
    "arguments_type": lambda c: "参数应为数组或对象",
    "frozen_field": lambda c: "该字段不可修改",
    "frozen_instance": lambda c: "对象不可修改",
    "is_instance_of": lambda c: "类型不正确",
    "is_subclass_of": lambda c: "类型不正确",
    "callable_type": lambda c: "类型不正确",
    "recursion_loop": lambda c: "数据存在循环引用",
    "recursion_depth_exceeded": lambda c: "数据嵌套层级过深",
}
# Types the services cannot meet from an HTTP request (attribute access, python-only objects): the generic
# fallback answers for them — "取值无效" with pydantic's English after it.
GENERIC_VALIDATION_ZH = "取值无效"

# The json module's complaints (FastAPI's own body parser), by the start of the message.
_JSON_REASONS_ZH: list[tuple[str, str]] = [
    ("Expecting value", "此处应为一个值"),
    ("Expecting property name enclosed in double quotes", "属性名应使用双引号"),
    ("Expecting ',' delimiter", "缺少逗号分隔符"),
    ("Expecting ':' delimiter", "缺少冒号分隔符"),
    ("Unterminated string starting at", "字符串未结束"),
    ("Invalid control character at", "含有无效的控制字符"),
    ("Invalid \\escape", "无效的转义字符"),
    ("Invalid \\uXXXX escape", "无效的 \\u 转义"),
    ("Extra data", "JSON 之后有多余内容"),
    ("EOF while parsing", "内容意外结束"),
    ("trailing comma", "多余的逗号"),
    ("expected value", "此处应为一个值"),
    ("key must be a string", "属性名应使用双引号"),
]


def _json_reason_zh(error: str) -> str:
    for start, zh in _JSON_REASONS_ZH:
        if error.startswith(start):
            return zh
    return error


def validation_reason_zh(err: dict[str, Any]) -> str:
    """The Chinese reason for one pydantic error (by ``type`` with its ``ctx``); the generic one if unknown."""
    ctx = err.get("ctx") or {}
    kind = str(err.get("type", ""))
    if kind in ("too_long", "too_short") and isinstance(err.get("input"), str):
        # A length constraint on an optional text (``SafeText | None`` with ``max_length``) is checked as a
        # sequence's: its length is in characters, not items.
        kind = f"string_{kind}"
    render = VALIDATION_ZH.get(kind)
    if render is not None:
        try:
            return render(ctx)
        except Exception:  # noqa: BLE001 - a ctx we did not expect must not turn a 422 into a 500
            log.debug("no Chinese for validation error %r", err, exc_info=True)
    return f"{GENERIC_VALIDATION_ZH}（{err.get('msg', '')}）" if err.get("msg") else GENERIC_VALIDATION_ZH


def json_position(doc: Any, pos: Any) -> tuple[int, int] | None:
    """Line and column (1-based) of character offset ``pos`` in ``doc``, or None if either is unusable."""
    if isinstance(doc, bytes | bytearray):
        doc = bytes(doc).decode("utf-8", "replace")
    if not isinstance(doc, str) or not isinstance(pos, int) or not 0 <= pos <= len(doc):
        return None
    line = doc.count("\n", 0, pos) + 1
    column = pos - (doc.rfind("\n", 0, pos) + 1) + 1
    return line, column


def malformed_json_reason(error: str, where: tuple[int, int] | None, zh: bool) -> str:
    """The reason for a body that is not JSON, with its line and column when known."""
    if zh:
        at = f"第 {where[0]} 行第 {where[1]} 列：" if where else ""
        return f"请求体不是合法的 JSON（{at}{_json_reason_zh(error)}）"
    return f"malformed JSON at line {where[0]} column {where[1]}: {error}" if where else f"malformed JSON: {error}"


# ---------------------------------------------------------------------------------------------------------------
# Domain errors

def _structured_message_zh(exc: Any) -> str | None:
    """Chinese from the facts a standard error carries (set in errors.py), independent of its English."""
    what, ident = getattr(exc, "what", None), getattr(exc, "ident", None)
    if what is not None and getattr(exc, "code", None) == "not_found":
        return f"{_term(THINGS_ZH, str(what))} {ident} 不存在"
    state, action = getattr(exc, "state", None), getattr(exc, "action", None)
    if state is not None and action is not None and getattr(exc, "code", None) == "illegal_transition":
        allowed = ",".join(getattr(exc, "allowed", []) or [])
        return (f"工单当前状态为“{_term(STATES_ZH, str(state))}”，不能{_term(ACTIONS_ZH, str(action))}；"
                f"可执行的操作：{_list(ACTIONS_ZH, allowed)}")
    return None


def _structured_reason_zh(exc: Any, detail: Any) -> str | None:
    code = getattr(exc, "code", None)
    if code == "not_found" and detail.reason == "not found":
        return "不存在"
    state = getattr(exc, "state", None)
    if code == "illegal_transition" and state is not None:
        allowed = ",".join(getattr(exc, "allowed", []) or [])
        return f"“{_term(STATES_ZH, str(state))}”状态下不允许此操作；可执行的操作：{_list(ACTIONS_ZH, allowed)}"
    return None


def domain_message_zh(exc: Any) -> str | None:
    """The Chinese message of a DomainError, or None when nothing knows it."""
    return getattr(exc, "message_zh", None) or _structured_message_zh(exc) or text_zh(str(exc.message))


def domain_reason_zh(exc: Any, detail: Any) -> str | None:
    """The Chinese reason of one ErrorDetail of a DomainError, or None when nothing knows it."""
    return (getattr(detail, "reason_zh", None) or _structured_reason_zh(exc, detail)
            or text_zh(str(detail.reason)))


def localise_domain_body(exc: Any, body: dict[str, Any]) -> dict[str, Any]:
    """``exc.body()`` with Chinese message and reasons where known; field and code unchanged; never raises."""
    try:
        error = dict(body["error"])
        error["message"] = domain_message_zh(exc) or error["message"]
        details = list(getattr(exc, "details", []) or [])
        if len(details) == len(error.get("details", [])):
            error["details"] = [
                {**shown, "reason": domain_reason_zh(exc, d) or shown["reason"]}
                for d, shown in zip(details, error["details"], strict=True)]
        else:  # a subclass that shapes its own body: translate the texts it shows
            error["details"] = [{**d, "reason": text_zh(str(d.get("reason", ""))) or d.get("reason", "")}
                                for d in error.get("details", [])]
        return {**body, "error": error}
    except Exception:  # noqa: BLE001 - the English body is always a correct answer
        log.warning("could not translate %s", type(exc).__name__, exc_info=True)
        return body


def localise_body(body: dict[str, Any], status_code: int | None = None) -> dict[str, Any]:
    """Any error body with Chinese message and reasons where the pattern table knows them; never raises.

    For handlers that hold only the body (no DomainError): the message falls back to the status's Chinese
    phrase when the text itself is unknown, so the page never shows a bare English headline.
    """
    try:
        error = dict(body["error"])
        message = str(error.get("message", ""))
        error["message"] = text_zh(message) or (HTTP_STATUS_ZH.get(status_code or 0) if message in (
            "", *_STARLETTE_PHRASES) else None) or message
        error["details"] = [{**d, "reason": text_zh(str(d.get("reason", ""))) or d.get("reason", "")}
                            for d in error.get("details", [])]
        return {**body, "error": error}
    except Exception:  # noqa: BLE001
        log.warning("could not translate an error body", exc_info=True)
        return body


# Starlette's default details (the status phrase): safe to replace with the Chinese phrase of the status.
_STARLETTE_PHRASES = frozenset({
    "Bad Request", "Unauthorized", "Forbidden", "Not Found", "Method Not Allowed", "Not Acceptable", "Conflict",
    "Gone", "Payload Too Large", "Request Entity Too Large", "Content Too Large", "Unsupported Media Type",
    "Unprocessable Entity", "Unprocessable Content", "Too Many Requests", "Internal Server Error",
    "Service Unavailable",
})
