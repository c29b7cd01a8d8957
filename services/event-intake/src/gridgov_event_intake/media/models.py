"""Uploaded media as event-intake records them (the bytes live in the media storage)."""

from datetime import datetime

from sqlmodel import Field

from gridgov_event_intake.tables import IntakeTable


class Media(IntakeTable, table=True):
    """One uploaded photo: the original (private) and its public copy without EXIF/GPS, and what the original
    proves (hashes, EXIF position and time)."""

    __tablename__ = "media"

    id: str = Field(primary_key=True, max_length=36)
    content_type: str = Field(max_length=30)
    size: int
    sha256: str = Field(max_length=64)
    uploader_id: str = Field(max_length=100, index=True)
    # A staff member's upload (a fix's photo, 处置照片) is the city's record, readable by its staff before any report
    # holds it; a citizen's is theirs alone until their report does. None for uploads from before this was kept.
    uploader_role: str | None = Field(default=None, max_length=20)
    report_id: str | None = Field(default=None, max_length=36, index=True)
    # Where the upload came from, for the per-address quota (never shown; an IP address is personal data).
    source_address: str | None = Field(default=None, max_length=45, index=True)
    created_at: datetime = Field(index=True)
    # What the ORIGINAL said (issue #14), kept although the public copy is stripped: its perceptual hash (16 hex
    # digits, None when it could not be decoded) and its EXIF GPS position and shutter time (None when absent).
    phash: str | None = Field(default=None, max_length=16)
    exif_lat: float | None = None
    exif_lon: float | None = None
    exif_taken_at: datetime | None = None
