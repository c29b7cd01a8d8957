"""What changed between two looks at the ticket list (pure: lists in, events out)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The fields whose change the feed reports; the version catches everything else (a note, a new deadline).
WATCHED = ("state", "sla_level", "escalation_level", "department", "version")


@dataclass
class Snapshot:
    """The watched fields of each ticket seen so far, by ticket id."""

    seen: dict[str, dict[str, Any]] = field(default_factory=dict)


def ticket_changes(snapshot: Snapshot, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The feed events for tickets new or changed since ``snapshot`` (which is updated), oldest update first."""
    events = []
    for item in sorted(items, key=lambda t: (str(t.get("updated_at") or ""), t["id"])):
        watched = {k: item.get(k) for k in WATCHED}
        before = snapshot.seen.get(item["id"])
        if before == watched:
            continue
        snapshot.seen[item["id"]] = watched
        events.append({
            "kind": "created" if before is None else "changed",
            "id": item["id"],
            "state": item.get("state"),
            "previous_state": before.get("state") if before else None,
            "sla_level": item.get("sla_level"),
            "previous_sla_level": before.get("sla_level") if before else None,
            "department": item.get("department"),
            "grid_code": item.get("grid_code"),
            "town_code": item.get("town_code"),
            "category_code": item.get("category_code"),
            "updated_at": item.get("updated_at"),
        })
    return events
