"""sensing's typed dependencies: its runtime. The role groups, the caller and conditional GET are the shared ones
(``gridgov_common.deps``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends

from gridgov_common.deps import DeviceGateway, service_runtime

if TYPE_CHECKING:  # the runtime module imports the consumers, which import the domain folders' handlers
    from gridgov_sensing.runtime import SensingRuntime

Runtime = Annotated["SensingRuntime", Depends(service_runtime)]

__all__ = ["DeviceGateway", "Runtime"]  # DeviceGateway: a video platform or IoT gateway, or admin standing in
