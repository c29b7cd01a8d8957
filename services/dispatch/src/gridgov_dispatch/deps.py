"""dispatch's typed dependencies: its runtime, and the context its ticket use cases run in.

The role groups, the caller and conditional GET are the shared ones (``gridgov_common.deps``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request

from gridgov_common.deps import runtime_of, service_runtime

if TYPE_CHECKING:  # app.py imports the views, which import this module; the context's folders hold views too
    from gridgov_dispatch.app import DispatchRuntime
    from gridgov_dispatch.context import DispatchContext


async def dispatch_context(request: Request) -> DispatchContext:
    """The context of the ticket use cases: database, settings, catalog, rules and calendar in effect."""
    return runtime_of(request.app).ctx  # type: ignore[attr-defined]


Runtime = Annotated["DispatchRuntime", Depends(service_runtime)]
Context = Annotated["DispatchContext", Depends(dispatch_context)]
