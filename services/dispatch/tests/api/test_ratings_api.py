"""A ticket's follow-up ratings (回访评价) as its detail page reads them (issue #13 item 2)."""

from .conftest import GRID
from .test_feedback_api import close_ticket, publish, rating, wait_rated


def test_list_ticket_ratings_gives_each_answer_in_order(stack):
    ticket = close_ticket(stack)
    publish(stack, rating(ticket, solved=True, satisfaction=4), rating(ticket, solved=True, satisfaction=5))
    wait_rated(stack, ticket["id"], 2)
    resp = stack.client.get(f"/v1/tickets/{ticket['id']}/ratings", headers=stack.token("command_centre"))
    assert resp.status_code == 200, resp.text
    items = resp.json()["items"]
    assert [(r["solved"], r["satisfaction"]) for r in items] == [(True, 4), (True, 5)]
    assert items[0]["reporter_id"] == ticket["reporter_id"]


def test_list_ticket_ratings_of_another_grid_is_forbidden(stack):
    ticket = close_ticket(stack)
    other = stack.token("grid_worker", sub="gw-other", grid=GRID[:-1] + ("1" if GRID[-1] != "1" else "2"))
    assert stack.client.get(f"/v1/tickets/{ticket['id']}/ratings", headers=other).status_code == 403
    own = stack.token("grid_worker", sub="gw-7", grid=GRID)
    resp = stack.client.get(f"/v1/tickets/{ticket['id']}/ratings", headers=own)
    assert resp.status_code == 200 and resp.json() == {"items": []}


def test_list_ratings_of_unknown_ticket_is_404(stack):
    resp = stack.client.get("/v1/tickets/no-such-ticket/ratings", headers=stack.token("command_centre"))
    assert resp.status_code == 404
