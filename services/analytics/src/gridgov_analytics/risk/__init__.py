"""Risk: hot spots, emerging hot-spot classes, recurrences (高发, 每月一题 candidates) and surges.

The statistics are pure modules (``adjacency``, ``gistar``, ``emerging``, ``recurrence``, ``surges``, ``planted``):
numpy in, numpy and dataclasses out, no I/O. ``handlers`` feeds them from the read model and ``views`` serves them.
"""
