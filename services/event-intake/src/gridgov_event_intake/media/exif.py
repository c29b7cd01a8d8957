"""What a photo's original EXIF says about where and when it was taken, pure: an opened image in, facts out.

Read from the ORIGINAL upload, before the public copy is stripped: the GPS position (GPSLatitude/Ref,
GPSLongitude/Ref, degrees-minutes-seconds as rationals) and the time the shutter fired (DateTimeOriginal, with
OffsetTimeOriginal when the camera wrote one; otherwise the local time is read in the city's time zone, as a
phone in the city writes it). Dispatch compares them with the device fix of a verification (geofence).

EXIF is whatever the file says: anything missing, malformed or impossible reads as absent (None), never as an
error, since a photo without EXIF is still a photo — it just can never prove it was taken in the grid.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from PIL import ExifTags, Image

log = logging.getLogger(__name__)

# Tags of the GPS IFD and of the Exif IFD (EXIF 2.32 / CIPA DC-008).
_GPS_LATITUDE_REF, _GPS_LATITUDE, _GPS_LONGITUDE_REF, _GPS_LONGITUDE = 1, 2, 3, 4
_DATE_TIME_ORIGINAL, _OFFSET_TIME_ORIGINAL = 0x9003, 0x9011


@dataclass(frozen=True)
class ExifFacts:
    """Where (WGS84, as GPS receivers write it) and when (aware) the original says the photo was taken."""

    lat: float | None = None
    lon: float | None = None
    taken_at: datetime | None = None

    @property
    def empty(self) -> bool:
        """Whether the original said nothing useful."""
        return self.lat is None and self.taken_at is None


NOTHING = ExifFacts()


def read(image: Image.Image, local_tz: tzinfo) -> ExifFacts:
    """The GPS position and the original time of an opened image (JPEG APP1, PNG eXIf, WebP EXIF); NOTHING when
    it has no readable EXIF."""
    try:
        exif = image.getexif()
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        details = exif.get_ifd(ExifTags.IFD.Exif)
    except Exception as exc:  # noqa: BLE001 - any parse failure of client-supplied metadata means "no EXIF"
        log.info("unreadable EXIF: %s", exc)
        return NOTHING
    lat = _coordinate(gps.get(_GPS_LATITUDE), gps.get(_GPS_LATITUDE_REF), "N", "S", 90)
    lon = _coordinate(gps.get(_GPS_LONGITUDE), gps.get(_GPS_LONGITUDE_REF), "E", "W", 180)
    if lat is None or lon is None or (lat == 0 and lon == 0):
        # Half a position is no position; 0,0 is what many cameras write when they had no fix.
        lat = lon = None
    taken_at = taken_time(details.get(_DATE_TIME_ORIGINAL), details.get(_OFFSET_TIME_ORIGINAL), local_tz)
    return ExifFacts(lat, lon, taken_at)


def _coordinate(dms: Any, ref: Any, positive: str, negative: str, limit: float) -> float | None:
    """Degrees from EXIF's (degrees, minutes, seconds) rationals and its hemisphere letter, or None."""
    try:
        degrees, minutes, seconds = (float(part) for part in dms)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    # 60 is taken: cameras that round their seconds write "59.9999" as 60.
    if not all(math.isfinite(v) and v >= 0 for v in (degrees, minutes, seconds)) or minutes > 60 or seconds > 60:
        return None
    value = degrees + minutes / 60 + seconds / 3600
    hemisphere = ref.decode("ascii", "replace") if isinstance(ref, bytes) else ref
    hemisphere = hemisphere.strip("\x00 ").upper() if isinstance(hemisphere, str) else None
    if hemisphere == negative:
        value = -value
    elif hemisphere != positive:
        return None  # without its hemisphere a coordinate could be on either side of the world
    return round(value, 7) if abs(value) <= limit else None


def taken_time(local: Any, offset: Any, local_tz: tzinfo) -> datetime | None:
    """An aware time from EXIF's ``YYYY:MM:DD HH:MM:SS`` and its ``+HH:MM`` offset (else ``local_tz``), or None."""
    if not isinstance(local, str):
        return None
    try:
        naive = datetime.strptime(local.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None  # "0000:00:00 00:00:00" and blanks: the camera did not know the time
    if isinstance(offset, str) and (zone := _offset(offset.strip("\x00 "))) is not None:
        return naive.replace(tzinfo=zone)
    return naive.replace(tzinfo=local_tz)


def _offset(text: str) -> tzinfo | None:
    try:
        return datetime.strptime(text, "%z").tzinfo
    except ValueError:
        return None
