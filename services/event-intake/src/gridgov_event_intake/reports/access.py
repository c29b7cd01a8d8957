"""Who may read a report, pure: roles, and the department or grid that holds its ticket now.

Mirrors dispatch's ticket access (``gridgov_dispatch.tickets.access``): the command centre and admins see
every report, a department's dispatcher the reports whose ticket is with their department now, a grid worker
those in their grid; every reporter sees their own. A report outside the caller's reach is answered 404, as
if it did not exist, so that its existence does not leak.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from gridgov_common.auth import CITY_WIDE
from gridgov_event_intake.reports.normalise import sees_full_phone

# Roles that see every report.
SEE_ALL = frozenset(CITY_WIDE)


class Reader(Protocol):
    """The caller: anything with ``sub``, ``role``, ``department`` and ``grid`` (a Principal)."""

    @property
    def sub(self) -> str:
        """Who reads."""
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


@dataclass(frozen=True)
class ReportFacts:
    """What access rules need to know about a report."""

    reporter_id: str
    department: str | None  # of its ticket now (None until dispatched)
    grid_code: str | None  # of its ticket (None until registered)


def may_read(reader: Reader, facts: ReportFacts) -> bool:
    """Whether ``reader`` may read the report (and its photos)."""
    if reader.role in SEE_ALL or facts.reporter_id == reader.sub:
        return True
    if reader.role == "dept_dispatcher":
        return reader.department is not None and reader.department == facts.department
    if reader.role == "grid_worker":
        return reader.grid is not None and reader.grid == facts.grid_code
    return False


def sees_contact(reader: Reader, facts: ReportFacts) -> bool:
    """Whether ``reader`` sees the reporter's name and phone in full: the command centre and the dispatcher of
    the department handling it, who may need to call back (one rule with the phone's, ``sees_full_phone``).
    Admins run the system, they do not handle cases: they get them masked like everyone else."""
    return sees_full_phone(reader.role, reader.department, facts.department)


def mask_name(name: str | None) -> str | None:
    """A name with only its first character kept (张三 → 张*, Li Lei → L*****)."""
    if not name:
        return name
    return name[0] + "*" * (len(name) - 1) if len(name) > 1 else "*"
