"""grid-registry's consumer table (pure)."""

from gridgov_grid_registry.consumers import LOCATE


def test_locate_table_routes_only_received_reports():
    assert LOCATE.describe() == {"report.received": ["locate_report"]}
    assert LOCATE.handlers_of("report.located") == ()  # its own output is never located again
