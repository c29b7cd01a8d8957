"""Who took each step, by name: a transition keeps the display name its actor's token carried then (the OIDC
``name`` claim, the DEV login's 姓名), on SQLite and on PostgreSQL; a token without one leaves it empty."""

import pytest

pytestmark = pytest.mark.usefixtures("any_stack")


def trail(stack, ticket_id: str) -> list[tuple[str, str, str | None]]:
    """(action, actor_id, actor_name) of each step of a ticket's trail, oldest first."""
    resp = stack.client.get(f"/v1/tickets/{ticket_id}", headers=stack.token("command_centre"))
    assert resp.status_code == 200, resp.text
    return [(t["action"], t["actor_id"], t["actor_name"]) for t in resp.json()["transitions"]]


def test_each_step_keeps_the_name_its_actor_signed_in_with(any_stack):
    stack = any_stack
    tid = stack.ticket_for()["id"]
    wang = stack.token("dept_dispatcher", sub="water-7", department="water", name="王敏")
    assert stack.client.post(f"/v1/tickets/{tid}/claim", headers=wang).status_code == 200
    nameless = stack.token("dept_dispatcher", sub="water-8", department="water")
    resp = stack.client.post(f"/v1/tickets/{tid}/handle", json={"note": "已处置"}, headers=nameless)
    assert resp.status_code == 200, resp.text
    assert trail(stack, tid) == [("register", "dispatch", None), ("dispatch", "dispatch", None),
                                 ("claim", "water-7", "王敏"), ("handle", "water-8", None)]


def test_the_returned_queue_names_who_returned_it(any_stack):
    stack = any_stack
    tid = stack.ticket_for()["id"]
    chen = stack.token("dept_dispatcher", sub="water-9", department="water", name="陈伟")
    resp = stack.client.post(f"/v1/tickets/{tid}/return", json={"note": "非本部门职责"}, headers=chen)
    assert resp.status_code == 200, resp.text
    page = stack.client.get("/v1/sla/returns", headers=stack.token("command_centre")).json()
    (item,) = [i for i in page["items"] if i["id"] == tid]
    assert (item["returned_by"], item["returned_by_name"], item["reason"]) == ("water-9", "陈伟", "非本部门职责")
