"""What the original of a photo proves, pure: its EXIF position and time and its perceptual hash.

Run on the ORIGINAL bytes after ``handlers.check_upload`` has refused what declares too many pixels, and before
the public copy (stripped of EXIF) is stored. Pillow opens the file lazily: the EXIF is read from the header, and
only the hash decodes pixels (a JPEG at a reduced scale).
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import tzinfo

from PIL import Image

from gridgov_event_intake.media import exif, phash
from gridgov_event_intake.media.exif import ExifFacts

log = logging.getLogger(__name__)


class DecoderSeesTooManyPixels(ValueError):
    """The decoder reads a bigger canvas than the header check did (e.g. a second JPEG frame header)."""

    def __init__(self, width: int, height: int):
        super().__init__(f"{width} x {height} pixels as the decoder reads it")
        self.width, self.height = width, height


@dataclass(frozen=True)
class Evidence:
    """The original's EXIF facts and its perceptual hash (None when it could not be decoded or shows nothing)."""

    exif: ExifFacts
    phash: str | None


def examine(data: bytes, local_tz: tzinfo, max_pixels: int, max_side: int) -> Evidence:
    """The EXIF facts and perceptual hash of an accepted upload.

    Raises DecoderSeesTooManyPixels when the decoder would read a canvas over the limits although the header
    check passed (a file with two frame headers): it is refused before a pixel is decoded. A file Pillow cannot
    read at all gives no facts and no hash: the upload itself was judged by ``check_upload``.
    """
    try:
        image = Image.open(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - the decoder's view of client bytes: unreadable means no evidence
        log.info("photo not decodable for evidence: %s", exc)
        return Evidence(exif.NOTHING, None)
    with image:
        width, height = image.size
        if width * height > max_pixels or max(width, height) > max_side:
            raise DecoderSeesTooManyPixels(width, height)
        facts = exif.read(image, local_tz)
        try:
            if image.format == "JPEG":
                image.draft("L", (4 * phash.SIZE, 4 * phash.SIZE))
            digest: str | None = phash.phash(image)
        except Exception as exc:  # noqa: BLE001 - a truncated or corrupt image keeps its upload, without a hash
            log.info("photo not decodable for its perceptual hash: %s", exc)
            digest = None
    return Evidence(facts, digest)
