"""The bus: one interface, two backends (embedded SQLite log, Apache Kafka)."""

from gridgov_common.bus.interface import Bus, BusConsumer, OutgoingMessage, Record, open_bus

__all__ = ["Bus", "BusConsumer", "OutgoingMessage", "Record", "open_bus"]
