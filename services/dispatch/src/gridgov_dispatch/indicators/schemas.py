"""API shapes of the indicators (综合评价)."""

from datetime import datetime

from pydantic import BaseModel, Field

from gridgov_dispatch.indicators.formulas import Indicators, Rate


class RateRead(BaseModel):
    """A rate with the counts it is made of; ``value`` is null when the denominator is 0."""

    value: float | None
    numerator: int
    denominator: int

    @classmethod
    def of(cls, r: Rate) -> "RateRead":
        """The API shape of a formulas Rate."""
        return cls(value=None if r.value is None else round(r.value, 4), numerator=r.numerator,
                   denominator=r.denominator)


class IndicatorsRead(BaseModel):
    """The indicators of one group, or of the city."""

    closure_rate: RateRead = Field(description="结案率 = closed ÷ due")
    on_time_closure_rate: RateRead = Field(description="按期结案率 = closed on time ÷ due")
    rework_rate: RateRead = Field(description="返工率 = reworked ÷ handled")
    return_rate: RateRead = Field(description="退单率 = returned ÷ dispatched")
    first_dispatch_accuracy: RateRead = Field(description="首派准确率 = dispatched never returned ÷ dispatched "
                                                          "(by department: the first department)")
    mean_handling_hours: float | None = Field(description="平均处置时长: mean clock hours from first dispatch to "
                                                          "first handling; null when none")
    handling_count: int = Field(description="How many handlings the mean is over.")
    breach_count: int = Field(description="超期数: tickets escalated to red in the period")
    satisfaction_rate: RateRead | None = Field(description="满意率 = ratings with satisfaction ≥ 4 ÷ ratings "
                                                           "answered in the period (回访); null when none")

    @classmethod
    def of(cls, i: Indicators) -> "IndicatorsRead":
        """The API shape of formulas Indicators."""
        return cls(closure_rate=RateRead.of(i.closure_rate), on_time_closure_rate=RateRead.of(i.on_time_closure_rate),
                   rework_rate=RateRead.of(i.rework_rate), return_rate=RateRead.of(i.return_rate),
                   first_dispatch_accuracy=RateRead.of(i.first_dispatch_accuracy),
                   mean_handling_hours=None if i.mean_handling_hours is None else round(i.mean_handling_hours, 2),
                   handling_count=i.handled_count, breach_count=i.breach_count,
                   satisfaction_rate=None if i.satisfaction_rate is None else RateRead.of(i.satisfaction_rate))


class IndicatorGroup(IndicatorsRead):
    """The indicators of one department or town."""

    group: str = Field(description="Department code or town code; `none` for tickets without one.")


class IndicatorReport(BaseModel):
    """The indicators of a period, per group and for the whole city."""

    period: str
    start: datetime = Field(description="Start of the period (China time, included).")
    end: datetime = Field(description="End of the period (China time, excluded).")
    group_by: str
    generated_at: datetime
    groups: list[IndicatorGroup]
    city: IndicatorsRead
