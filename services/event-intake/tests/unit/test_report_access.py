"""Who may read a report, pure (issue #11): as for tickets, and 404 for everyone else."""

from dataclasses import dataclass

import pytest

from gridgov_event_intake.reports.access import ReportFacts, mask_name, may_read, sees_contact

FACTS = ReportFacts(reporter_id="wx-1", department="water", grid_code="G1")


@dataclass(frozen=True)
class Caller:
    sub: str
    role: str
    department: str | None = None
    grid: str | None = None


@pytest.mark.parametrize(("caller", "allowed"), [
    (Caller("cc", "command_centre"), True),
    (Caller("ad", "admin"), True),
    (Caller("d1", "dept_dispatcher", department="water"), True),
    (Caller("d2", "dept_dispatcher", department="housing"), False),
    (Caller("d3", "dept_dispatcher"), False),  # a token naming no department
    (Caller("g1", "grid_worker", grid="G1"), True),
    (Caller("g2", "grid_worker", grid="G2"), False),
    (Caller("wx-1", "citizen"), True),  # the reporter
    (Caller("wx-2", "citizen"), False),
])
def test_may_read_report_by_role_department_and_grid(caller, allowed):
    assert may_read(caller, FACTS) is allowed


def test_may_read_undispatched_report_only_reporter_and_centre():
    fresh = ReportFacts(reporter_id="gw-1", department=None, grid_code=None)
    assert may_read(Caller("gw-1", "grid_worker", grid="G1"), fresh)
    assert not may_read(Caller("gw-2", "grid_worker", grid="G1"), fresh)
    assert not may_read(Caller("d", "dept_dispatcher", department="water"), fresh)
    assert may_read(Caller("cc", "command_centre"), fresh)


def test_sees_contact_only_centre_and_handling_department():
    assert sees_contact(Caller("cc", "command_centre"), FACTS)
    assert sees_contact(Caller("d1", "dept_dispatcher", department="water"), FACTS)
    assert not sees_contact(Caller("ad", "admin"), FACTS)
    assert not sees_contact(Caller("g1", "grid_worker", grid="G1"), FACTS)
    assert not sees_contact(Caller("wx-1", "citizen"), FACTS)


@pytest.mark.parametrize(("name", "masked"), [("张三", "张*"), ("欧阳娜娜", "欧***"), ("Li Lei", "L*****"),
                                              ("X", "*"), (None, None), ("", "")])
def test_mask_name_keeps_only_first_character(name, masked):
    assert mask_name(name) == masked
