"""Who may see and act on a ticket, pure: roles, and the department or grid a caller acts for.

An actor is anything with ``sub``, ``role``, ``department``, ``grid`` and ``name`` (``gridgov_common.auth.Principal``,
or ``SYSTEM`` for the service's own consumers).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from gridgov_common.auth import CITY_WIDE, STAFF
from gridgov_common.errors import Forbidden


class Actor(Protocol):
    """The caller of a ticket action."""

    @property
    def sub(self) -> str:
        """Who acts (user id, or the service name)."""
        ...

    @property
    def role(self) -> str:
        """Their role."""
        ...

    @property
    def department(self) -> str | None:
        """The department they act for (dept_dispatcher)."""
        ...

    @property
    def grid(self) -> str | None:
        """The grid they act for (grid_worker)."""
        ...

    @property
    def name(self) -> str | None:
        """Their display name, as their token says it (for the trail; never for access)."""
        ...


@dataclass(frozen=True)
class SystemActor:
    """The dispatch service itself acting from a consumer (立案, automatic 派遣)."""

    sub: str = "dispatch"
    role: str = "system"
    department: str | None = None
    grid: str | None = None
    name: str | None = None


SYSTEM = SystemActor()


@dataclass(frozen=True)
class TicketFacts:
    """What access rules need to know about a ticket."""

    department: str | None
    grid_code: str | None


class Scope(StrEnum):
    """How far a role's right to act reaches."""

    ANY = "any"  # every ticket (command centre, the system)
    OWN_DEPARTMENT = "own_department"  # tickets dispatched to the actor's department
    OWN_GRID = "own_grid"  # tickets in the actor's grid


# Roles that see every ticket; dept_dispatcher and grid_worker see their department's or grid's.
SEE_ALL = frozenset(CITY_WIDE)
READERS = STAFF


def check_scope(actor: Actor, scope: Scope, facts: TicketFacts) -> None:
    """Raise Forbidden unless the ticket is inside the actor's ``scope``."""
    if scope is Scope.OWN_DEPARTMENT:
        if actor.department is None or actor.department != facts.department:
            # The reason names the caller's own department only: whose ticket it is is not theirs to learn.
            raise Forbidden(f"ticket is not with your department {actor.department or 'none'}", "department")
    elif scope is Scope.OWN_GRID:
        if actor.grid is None or actor.grid != facts.grid_code:
            raise Forbidden(f"ticket is not in your grid {actor.grid or 'none'}", "grid")


def authorize_view(actor: Actor, facts: TicketFacts) -> None:
    """Raise Forbidden unless the actor may see this ticket."""
    if actor.role in SEE_ALL:
        return
    if actor.role == "dept_dispatcher":
        check_scope(actor, Scope.OWN_DEPARTMENT, facts)
    elif actor.role == "grid_worker":
        check_scope(actor, Scope.OWN_GRID, facts)
    else:
        raise Forbidden(f"role {actor.role} may not see tickets")


@dataclass(frozen=True)
class ListScope:
    """The filter a ticket list is restricted to for one actor (None: unrestricted)."""

    department: str | None = None
    grid_code: str | None = None


def list_scope(actor: Actor) -> ListScope:
    """Which tickets an actor's lists cover; Forbidden when their token names no department or grid."""
    if actor.role in SEE_ALL:
        return ListScope()
    if actor.role == "dept_dispatcher":
        if not actor.department:
            raise Forbidden("token names no department", "department")
        return ListScope(department=actor.department)
    if actor.role == "grid_worker":
        if not actor.grid:
            raise Forbidden("token names no grid", "grid")
        return ListScope(grid_code=actor.grid)
    raise Forbidden(f"role {actor.role} may not see tickets")
