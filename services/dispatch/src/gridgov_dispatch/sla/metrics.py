"""Prometheus gauges of the SLA picture: tickets by state, open tickets past their deadline."""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from gridgov_common.runtime import ServiceRuntime
from gridgov_dispatch.sla import service


class SlaCollector(Collector):
    """Reads the counts from the database at scrape time (two grouped queries)."""

    def __init__(self, runtime: ServiceRuntime):
        self.runtime = runtime

    def collect(self):
        """Yield the tickets-by-state and SLA-breach gauges."""
        by_state = GaugeMetricFamily("gridgov_tickets", "Tickets by state", labels=["state"])
        breaches = GaugeMetricFamily("gridgov_sla_breaches", "Open tickets past their deadline (超期)")
        with self.runtime.db.session() as session:
            for state, n in service.counts_by_state(session).items():
                by_state.add_metric([state], n)
            breaches.add_metric([], service.overdue_count(session, datetime.now(UTC)))
        yield by_state
        yield breaches


def register(runtime: ServiceRuntime, registry: CollectorRegistry) -> None:
    """Add the SLA gauges to a service's metrics registry."""
    registry.register(SlaCollector(runtime))
