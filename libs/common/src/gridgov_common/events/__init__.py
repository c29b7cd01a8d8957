"""Payload models per topic: the only contract between services. Changes are additive; a breaking
change is a new envelope ``version``."""

from gridgov_common.events.reports import Location, ReportLocated, ReportReceived
from gridgov_common.events.tickets import TicketEvent

__all__ = ["Location", "ReportLocated", "ReportReceived", "TicketEvent"]
