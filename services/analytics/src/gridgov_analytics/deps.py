"""analytics' typed dependencies: its runtime. The role groups, the caller and conditional GET are the shared ones
(``gridgov_common.deps``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends

from gridgov_common.deps import service_runtime

if TYPE_CHECKING:  # the runtime module imports the consumers, which import the domain folders' handlers
    from gridgov_analytics.runtime import AnalyticsRuntime

Runtime = Annotated["AnalyticsRuntime", Depends(service_runtime)]
