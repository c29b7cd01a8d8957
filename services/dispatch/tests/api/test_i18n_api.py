"""Dispatch errors in Chinese for the console (Accept-Language: zh-CN), English otherwise (issue #13, item 6)."""

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


def water(token):
    return {**token("dept_dispatcher", sub="d-water", department="water"), **ZH}


def test_claim_twice_answers_illegal_transition_in_chinese(stack):
    tid = stack.ticket_for()["id"]
    assert stack.client.post(f"/v1/tickets/{tid}/claim", headers=water(stack.token)).status_code == 200
    resp = stack.client.post(f"/v1/tickets/{tid}/claim", headers=water(stack.token))
    assert resp.status_code == 409
    error = resp.json()["error"]
    assert error["code"] == "illegal_transition"
    assert error["message"].startswith("工单当前状态为“已签收”，不能签收；可执行的操作：退单、处置反馈、延期申请")
    assert error["details"][0]["field"] == "action"
    assert error["details"][0]["reason"].startswith("“已签收”状态下不允许此操作")


def test_handle_with_empty_note_names_note_in_chinese_and_english(stack):
    tid = stack.ticket_for()["id"]
    stack.client.post(f"/v1/tickets/{tid}/claim", headers=water(stack.token))
    chinese = stack.client.post(f"/v1/tickets/{tid}/handle", json={"note": ""}, headers=water(stack.token))
    english = stack.client.post(f"/v1/tickets/{tid}/handle", json={"note": ""},
                                headers=stack.token("dept_dispatcher", sub="d-water", department="water"))
    assert chinese.status_code == english.status_code == 422
    assert chinese.json()["error"]["details"] == [{"field": "note", "reason": "至少需要 1 个字符"}]
    assert english.json()["error"]["details"] == [{"field": "note",
                                                   "reason": "String should have at least 1 character"}]


def test_unknown_ticket_and_other_department_answer_in_chinese(stack):
    resp = stack.client.get("/v1/tickets/no-such-ticket", headers=water(stack.token))
    assert resp.status_code == 404
    assert resp.json()["error"]["message"] == "工单 no-such-ticket 不存在"
    tid = stack.ticket_for()["id"]
    housing = {**stack.token("dept_dispatcher", sub="d-housing", department="housing"), **ZH}
    resp = stack.client.post(f"/v1/tickets/{tid}/claim", headers=housing)
    assert resp.status_code == 403
    assert resp.json()["error"]["details"] == [{"field": "department",
                                                "reason": "该工单不属于您的部门 housing"}]


def test_missing_token_answers_in_chinese(stack):
    resp = stack.client.get("/v1/tickets", headers=ZH)
    assert resp.status_code == 401
    assert resp.json()["error"] == {"code": "unauthenticated", "message": "需要登录认证", "details": [
        {"field": "Authorization", "reason": "缺少访问令牌（Bearer token），请先登录"}]}


def test_request_guard_refusal_answers_in_chinese(stack):
    # Refused by the request guard before any route runs: the language middleware outside it still applies.
    resp = stack.client.post("/v1/tickets/t-1/handle", content=b"{" + b" " * (2 * 1024 * 1024) + b"}",
                             headers={**water(stack.token), "Content-Type": "application/json"})
    assert resp.status_code == 413
    error = resp.json()["error"]
    assert error["code"] == "payload_too_large" and error["message"] == "请求内容过大"
    assert error["details"][0]["field"] == "body" and error["details"][0]["reason"].endswith("字节的上限")
