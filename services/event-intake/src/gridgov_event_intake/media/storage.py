"""Where media bytes live: one small interface; local files in the embedded stack, S3-compatible in production.

``S3Storage`` talks to any S3-compatible service (AWS S3, MinIO, Ceph RGW, OSS/COS in S3 mode) through
boto3, which is imported only when that backend is chosen (it is not a dependency of the embedded stack).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from gridgov_event_intake.settings import IntakeSettings

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$")


class MediaStorage(Protocol):
    """Stores and returns media bytes by key."""

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` (overwrites)."""
        ...

    def get(self, key: str) -> bytes:
        """The bytes under ``key``; KeyError if none."""
        ...

    def delete(self, key: str) -> None:
        """Remove ``key`` if present."""
        ...


def _check_key(key: str) -> str:
    if not _KEY.match(key) or ".." in key:
        raise ValueError(f"bad media key {key!r}")
    return key


class LocalStorage:
    """Media as files under a directory (the data directory's ``media/`` in the embedded stack)."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def put(self, key: str, data: bytes) -> None:
        """Write atomically: a temporary file renamed into place, so a reader never sees half a photo."""
        path = self.root / _check_key(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)

    def get(self, key: str) -> bytes:
        """The file's bytes; KeyError if missing."""
        path = self.root / _check_key(key)
        try:
            return path.read_bytes()
        except FileNotFoundError as exc:
            raise KeyError(key) from exc

    def delete(self, key: str) -> None:
        """Remove the file if present."""
        (self.root / _check_key(key)).unlink(missing_ok=True)


class S3Storage:
    """Media as objects in one bucket of an S3-compatible service, under an optional key prefix."""

    def __init__(self, bucket: str, *, prefix: str = "", endpoint_url: str | None = None,
                 region: str | None = None, client=None):  # noqa: ANN001 - a boto3 S3 client, for tests
        if client is None:
            import boto3  # only this backend needs it

            client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region)
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def _key(self, key: str) -> str:
        return self.prefix + _check_key(key)

    def put(self, key: str, data: bytes) -> None:
        """Upload ``data`` as one object (S3 PUTs are atomic: a reader never sees half a photo)."""
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)

    def get(self, key: str) -> bytes:
        """The object's bytes; KeyError if missing."""
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except self.client.exceptions.NoSuchKey as exc:
            raise KeyError(key) from exc

    def delete(self, key: str) -> None:
        """Remove the object (S3 deletes of a missing key succeed)."""
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))


def for_settings(settings: IntakeSettings) -> MediaStorage:
    """The media storage the settings name: S3 when a bucket is set, else local files (the app keeps one, see
    ``gridgov_event_intake.deps``)."""
    if settings.media_s3_bucket:
        return S3Storage(settings.media_s3_bucket, prefix=settings.media_s3_prefix,
                         endpoint_url=settings.media_s3_endpoint_url, region=settings.media_s3_region)
    return LocalStorage(settings.media_root())
