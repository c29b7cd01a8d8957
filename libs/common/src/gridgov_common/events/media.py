"""Payloads on ``gridgov.media.stored``, and the device fix that travels with on-site evidence.

Event-intake owns the photos. When it stores one it publishes what the *original* said — the EXIF GPS position
and time, a perceptual hash — although the public copy has its metadata stripped; dispatch learns these to judge
a verification (geofence) without ever reading intake's tables. Keyed by media id.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, Field

from gridgov_common.events.fix import ACCURACY_MAX_M, DeviceFix
from gridgov_common.events.reports import Code, Id, Subject
from gridgov_common.schemas import Latitude, Longitude

__all__ = ["ACCURACY_MAX_M", "MEDIA_STORED_TYPE", "DeviceFix", "Hex64", "MediaStored", "PerceptualHash"]

MEDIA_STORED_TYPE = "media.stored"  # the envelope type (the topic is bus.topics.MEDIA_STORED)

Hex64 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
PerceptualHash = Annotated[str, Field(pattern=r"^[0-9a-f]{16}$", description="64-bit perceptual hash, hex")]


class MediaStored(BaseModel):
    """A photo intake has stored: who uploaded it, its content hashes and what its original EXIF said."""

    media_id: Id
    uploaded_by: Subject
    uploader_role: Code
    content_type: Code
    sha256: Hex64  # of the original bytes: the same file uploaded twice
    phash: PerceptualHash | None = None  # None when the image could not be decoded, or is flat (no scene)
    exif_lat: Latitude | None = None
    exif_lon: Longitude | None = None
    exif_taken_at: AwareDatetime | None = None  # EXIF local time read as the city's time zone
    stored_at: AwareDatetime
