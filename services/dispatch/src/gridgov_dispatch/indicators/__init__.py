"""Indicators of the comprehensive evaluation (综合评价): pure formulas over per-ticket facts, and their API."""
