"""notification's consumer table: which ticket events are notified, and which also get follow-ups (pure)."""

from gridgov_common.bus.topics import CATALOG_PUBLISHED
from gridgov_common.events.catalog import CATALOG_PUBLISHED_TYPE
from gridgov_notification.consumers import CATALOG, TICKET_EVENTS
from gridgov_notification.subscriptions import RULES, TICKET_CLOSED


def test_ticket_event_table_notifies_every_subscribed_type_and_plans_followups_after_closed_notices():
    table = TICKET_EVENTS.describe()
    assert table.keys() == RULES.keys()
    assert table[TICKET_CLOSED] == ["notify", "plan_followups"]  # the notices first, in the same transaction
    assert all(handlers == ["notify"] for event_type, handlers in table.items() if event_type != TICKET_CLOSED)
    assert TICKET_EVENTS.handlers_of("ticket.claimed") == ()  # nobody is told of a claim


def test_catalog_table_learns_every_published_version_in_its_own_group():
    assert CATALOG.group == "notification.catalog" and CATALOG.group != TICKET_EVENTS.group
    assert tuple(CATALOG.topics) == (CATALOG_PUBLISHED,)
    assert CATALOG.describe() == {CATALOG_PUBLISHED_TYPE: ["learn_catalog"]}
