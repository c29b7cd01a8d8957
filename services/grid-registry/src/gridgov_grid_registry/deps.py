"""grid-registry's typed dependency: its runtime, with the locator, the map cache and the department layer.

The role groups, the caller and conditional GET are the shared ones (``gridgov_common.deps``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends

from gridgov_common.deps import service_runtime

if TYPE_CHECKING:  # app.py imports the views, which import this module
    from gridgov_grid_registry.app import RegistryRuntime

Runtime = Annotated["RegistryRuntime", Depends(service_runtime)]
