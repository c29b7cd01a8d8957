"""Alarms: ingest (one function every adapter calls), the alarm log and the alarm groups (the dedupe guard)."""
