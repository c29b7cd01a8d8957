"""event-intake's typed dependencies: its runtime (with the group committer) and the media storage.

The role groups, the caller and conditional GET are the shared ones (``gridgov_common.deps``).
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request

from gridgov_common.deps import runtime_of, service_runtime
from gridgov_event_intake.media.storage import MediaStorage, for_settings

if TYPE_CHECKING:  # app.py imports the views, which import this module
    from gridgov_event_intake.app import IntakeRuntime

Runtime = Annotated["IntakeRuntime", Depends(service_runtime)]

# One storage per app, made at its first use (an S3 client is not free to build).
_storages: weakref.WeakKeyDictionary[Any, MediaStorage] = weakref.WeakKeyDictionary()


def storage_of(app: Any) -> MediaStorage:
    """The app's media storage, made once from its settings: S3 when a bucket is set, else local files."""
    found = _storages.get(app)
    if found is None:
        found = _storages[app] = for_settings(runtime_of(app).settings)  # type: ignore[arg-type]
    return found


async def media_storage(request: Request) -> MediaStorage:
    """The media storage of the app serving the request."""
    return storage_of(request.app)


MediaStore = Annotated[MediaStorage, Depends(media_storage)]
