"""直接答复率 (direct-answer rate), pure: a period's counts in, the rate out; and the period's syntax.

A consultation answered on the call (直接答复) is closed at intake and never becomes a ticket, so dispatch's
indicators (综合评价) never see it: intake counts it itself. For a period P (China time, half-open):

- hotline orders: 12345 reports submitted in P (a resent order number is one order; a repeat call 重复来电,
  recorded on a case already open, is a call but no order of its own and is counted apart);
- answered directly: those of them closed at intake with an answer; of them, those whose answer came from a
  knowledge-base article (the operator used one);
- 直接答复率 = answered directly ÷ hotline orders (null when there were no orders).

Periods are written as dispatch's indicators write them: a day ``2026-11-25``, an ISO week ``2026-W47``, a month
``2026-11``, or days ``2026-11-01..2026-11-15`` (both included), so the console asks both with the same text.
"""

from __future__ import annotations

from dataclasses import dataclass

# The period syntax is the one every indicator shares; re-exported so the views and tests read it from here.
from gridgov_common.periods import CHINA_TIME, Period, parse_period

__all__ = ["CHINA_TIME", "DirectAnswerCounts", "Period", "Rate", "direct_answer_rate", "parse_period"]


@dataclass(frozen=True)
class Rate:
    """numerator ÷ denominator, None when the denominator is 0."""

    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        """The rate, rounded to 4 places; None without a denominator."""
        return round(self.numerator / self.denominator, 4) if self.denominator else None


@dataclass(frozen=True)
class DirectAnswerCounts:
    """The 12345 calls of a period, as 直接答复率 counts them."""

    hotline_orders: int
    answered_directly: int
    from_knowledge_base: int
    repeat_calls: int

    @property
    def rate(self) -> Rate:
        """直接答复率 = answered directly ÷ hotline orders."""
        return direct_answer_rate(self.hotline_orders, self.answered_directly)


def direct_answer_rate(hotline_orders: int, answered_directly: int) -> Rate:
    """直接答复率 of a period's counts."""
    return Rate(answered_directly, hotline_orders)
