import copy
from datetime import UTC, datetime, timedelta

import pytest


def current(stack) -> dict:
    resp = stack.client.get("/v1/rules", headers=stack.token("grid_worker", grid="441900001001001"))
    assert resp.status_code == 200, resp.text
    return resp.json()


def candidate(stack) -> list[dict]:
    """A copy of the seeded rules, to edit into a candidate."""
    return copy.deepcopy(current(stack)["rules"])


def errors(resp) -> dict[str, str]:
    return {d["field"]: d["reason"] for d in resp.json()["error"]["details"]}


def test_get_rules_returns_seeded_version_for_staff(stack):
    body = current(stack)
    assert (body["version"], body["published_by"]) == (1, "system")
    by_id = {r["id"]: r for r in body["rules"]}
    assert by_id["minor-04002"]["outcome"] == {"department_type": "water"}
    assert by_id["night-construction"]["match"]["hours"] == "22:00-06:00"


@pytest.mark.parametrize("role", ["citizen"])
def test_get_rules_refuses_non_staff(stack, role):
    assert stack.client.get("/v1/rules", headers=stack.token(role)).status_code == 403
    assert stack.client.get("/v1/rules").status_code == 401


def test_validate_rules_accepts_seeded_rules(stack):
    resp = stack.client.post("/v1/rules/validate", json={"rules": candidate(stack)},
                             headers=stack.token("command_centre"))
    assert resp.status_code == 200, resp.text
    assert resp.json()["ok"] is True


def test_validate_rules_bad_hours_names_rule_and_reason(stack):
    rules = candidate(stack)
    rules[0]["match"]["hours"] = "22:00-25:00"
    resp = stack.client.post("/v1/rules/validate", json={"rules": rules}, headers=stack.token("admin"))
    assert resp.status_code == 422
    reason = errors(resp)["rules[0].match.hours"]
    assert reason.startswith(f"rule '{rules[0]['id']}': ") and "HH:MM-HH:MM" in reason


def test_validate_rules_unroutable_category_is_rejected(stack):
    rules = [r for r in candidate(stack) if r["id"] != "class-01"]
    resp = stack.client.post("/v1/rules/validate", json={"rules": rules}, headers=stack.token("command_centre"))
    assert resp.status_code == 422
    reasons = [d["reason"] for d in resp.json()["error"]["details"] if d["field"] == "rules"]
    assert any(r.startswith("category 01002 is unroutable: no rule matches it") for r in reasons), reasons


def test_validate_rules_unknown_department_is_rejected(stack):
    rules = candidate(stack)
    rules.append({"id": "ghost", "match": {"category_prefix": "01002"}, "outcome": {"department": "no-such-dept"}})
    resp = stack.client.post("/v1/rules/validate", json={"rules": rules}, headers=stack.token("command_centre"))
    assert resp.status_code == 422
    assert errors(resp)[f"rules[{len(rules) - 1}].outcome.department"] == \
        "rule 'ghost': department no-such-dept is unknown"


@pytest.mark.parametrize("role", ["grid_worker", "dept_dispatcher"])
def test_validate_rules_refuses_other_roles(stack, role):
    resp = stack.client.post("/v1/rules/validate", json={"rules": candidate(stack)},
                             headers=stack.token(role, department="water"))
    assert resp.status_code == 403


def test_publish_rules_stores_next_version_and_serves_it_at_once(stack):
    rules = candidate(stack)
    rules.append({"id": "hotline-flooding", "order": 10, "note": "热线反映积水: urgent",
                  "match": {"category_prefix": "04004", "channels": ["hotline"]},
                  "outcome": {"department_type": "water", "priority": "urgent"}})
    resp = stack.client.post("/v1/rules", json={"rules": rules, "note": "hotline flooding is urgent"},
                             headers=stack.token("admin", sub="admin-7"))
    assert resp.status_code == 201, resp.text
    body = current(stack)
    assert (body["version"], body["published_by"], body["note"]) == (2, "admin-7", "hotline flooding is urgent")
    assert "hotline-flooding" in {r["id"] for r in body["rules"]}
    replayed = stack.client.post("/v1/rules/replay", json={"rules": rules}, headers=stack.token("admin")).json()
    assert replayed["current_version"] == 2  # the cache was refreshed by the publish, not after 30 s


def test_publish_rules_invalid_stores_nothing(stack):
    rules = candidate(stack)
    rules.append(copy.deepcopy(rules[0]))  # duplicate id
    resp = stack.client.post("/v1/rules", json={"rules": rules}, headers=stack.token("admin"))
    assert resp.status_code == 422
    assert errors(resp)[f"rules[{len(rules) - 1}].id"].endswith("duplicate id: rules[0] has it too")
    assert current(stack)["version"] == 1


def test_publish_rules_refuses_command_centre(stack):
    resp = stack.client.post("/v1/rules", json={"rules": candidate(stack)}, headers=stack.token("command_centre"))
    assert resp.status_code == 403
    assert current(stack)["version"] == 1


def test_replay_rules_reports_changed_decisions_over_past_tickets(stack):
    water_ticket = stack.ticket_for(category="04002")
    stack.ticket_for(category="01002")
    stack.ticket_for(category="04002", status="unlocated")
    rules = candidate(stack)
    for r in rules:
        if r["id"] == "minor-04002":
            r["outcome"] = {"department_type": "housing"}
    resp = stack.client.post("/v1/rules/replay", json={"rules": rules}, headers=stack.token("command_centre"))
    assert resp.status_code == 200, resp.text
    report = resp.json()
    assert (report["current_version"], report["total"], report["changed"]) == (1, 3, 1)
    assert (report["to_triage"], report["from_triage"]) == (0, 0)
    (case,) = report["changed_cases"]
    assert case["ticket_id"] == water_ticket["id"]
    assert case["before"]["department"].startswith("water") and case["after"]["department"].startswith("housing")
    assert case["after"]["rule_id"] == "minor-04002"
    assert report["by_department"]["triage"] == {"before": 1, "after": 1}  # the unlocated report
    assert report["agree_actual_before"] >= 1 and report["agree_actual_after"] < report["agree_actual_before"]


def test_replay_rules_since_leaves_out_older_tickets(stack):
    stack.ticket_for(category="04002")
    since = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    resp = stack.client.post("/v1/rules/replay", json={"rules": candidate(stack), "since": since},
                             headers=stack.token("admin"))
    assert resp.status_code == 200, resp.text
    assert (resp.json()["total"], resp.json()["changed"]) == (0, 0)


def test_replay_rules_refuses_bad_limit_bad_rules_and_other_roles(stack):
    rules = candidate(stack)
    over = stack.client.post("/v1/rules/replay", json={"rules": rules, "limit": 10001}, headers=stack.token("admin"))
    assert over.status_code == 422
    naive = stack.client.post("/v1/rules/replay", json={"rules": rules, "since": "2026-01-01T00:00:00"},
                              headers=stack.token("admin"))
    assert naive.status_code == 422
    broken = stack.client.post("/v1/rules/replay", json={"rules": [{"id": "x", "outcome": {}}]},
                               headers=stack.token("admin"))
    assert broken.status_code == 422
    assert "exactly one" in errors(broken)["rules[0].outcome"]
    worker = stack.client.post("/v1/rules/replay", json={"rules": rules},
                               headers=stack.token("grid_worker", grid="441900001001001"))
    assert worker.status_code == 403


def test_replay_warnings_and_rule_errors_read_in_chinese_when_asked(stack):
    """The console's rules editor shows a candidate's warnings and errors as they come: in Chinese when asked."""
    stack.ticket_for(category="01002")
    rules = [r for r in candidate(stack) if r["id"] != "class-01"]
    zh = {**stack.token("command_centre"), "Accept-Language": "zh-CN"}
    english = stack.client.post("/v1/rules/replay", json={"rules": rules}, headers=stack.token("command_centre"))
    chinese = stack.client.post("/v1/rules/replay", json={"rules": rules}, headers=zh)
    assert english.status_code == chinese.status_code == 200, chinese.text
    by_code = {w["reason"].split()[1]: w["reason"] for w in english.json()["warnings"]}
    assert by_code["01002"].startswith("category 01002 is unroutable")
    reasons = [w["reason"] for w in chinese.json()["warnings"]]
    assert "事项类别 01002 无处派遣：没有规则匹配它；请添加一条只按类别前缀派往某部门的规则" in reasons
    assert not [r for r in reasons if "unroutable" in r]

    bad_hours = [{**r, "match": {**r["match"], "hours": "25:00-06:00"}} if r["id"] == "night-construction" else r
                 for r in candidate(stack)]
    refused = stack.client.post("/v1/rules/validate", json={"rules": bad_hours}, headers=zh)
    assert refused.status_code == 422
    reason = next(v for k, v in errors(refused).items() if k.endswith(".match.hours"))
    assert reason == ("规则 night-construction：'25:00-06:00' 不是 HH:MM-HH:MM 格式"
                      "（24 小时制本地时间，例如 22:00-06:00）")
