"""A 64-bit perceptual hash of a photo (DCT pHash), pure: an image in, 16 hex digits out.

Why a DCT hash: the low frequencies of a picture survive what a reused photo goes through on its way back — a
JPEG re-encode, a resize, a messenger's recompression — while the bits of a cryptographic hash all change. The
recipe is the classic one (pHash.org, Zauner 2010): greyscale, shrink to 32 x 32, 2-D DCT-II, keep the 8 x 8
lowest frequencies without the DC row and column (they carry overall brightness, not the scene), one bit per
coefficient: above their median or not. Two copies of one photo land a few bits apart, two different photos
about 32 (see the unit tests, which prove both on generated pictures). Only the 8 x 32 rows of the DCT matrix
that those coefficients need are computed, so no array library is needed (~10,000 multiplications).

Dispatch compares hashes with ``gridgov_common.phash.hamming`` (re-exported here for benchmarks).
"""

from __future__ import annotations

import io
import math

from PIL import Image, ImageOps

from gridgov_common.phash import hamming

__all__ = ["SIZE", "hamming", "phash", "phash_of_bytes"]

SIZE = 32  # the side of the shrunken picture the DCT is taken of
_LOW = range(1, 9)  # the 8 lowest frequencies after DC, in each direction
# Rows u = 1..8 of the orthonormal DCT-II matrix (the common scale factor does not change a median split).
_BASIS = [[math.cos(math.pi * (2 * x + 1) * u / (2 * SIZE)) for x in range(SIZE)] for u in _LOW]


# A picture whose low frequencies all stay under this has no scene to speak of (a covered lens, a blank wall):
# its bits would be rounding noise, and every such picture would "match" every other. A cosine pattern of one
# grey level's amplitude across the 32 x 32 picture gives a coefficient of about 256.
FLAT = 256.0


def phash(image: Image.Image) -> str | None:
    """The 64-bit perceptual hash of a decoded picture, as 16 lowercase hex digits; None for a flat picture."""
    # The picture as it is shown (EXIF orientation applied): a rotated copy of a reused photo is the same scene.
    grey = ImageOps.exif_transpose(image).convert("L")
    # BOX averages every source pixel into its cell: stable under resizing and JPEG noise, and cheap.
    small = grey.resize((SIZE, SIZE), Image.Resampling.BOX)
    pixels = small.tobytes()  # one byte per pixel in mode L, row by row
    rows = [pixels[y * SIZE:(y + 1) * SIZE] for y in range(SIZE)]
    # Separable 2-D DCT: first along x for every row (32 x 8), then along y (8 x 8).
    along_x = [[sum(b * p for b, p in zip(basis, row, strict=True)) for basis in _BASIS] for row in rows]
    coefficients = [sum(_BASIS[v][y] * along_x[y][u] for y in range(SIZE)) for v in range(8) for u in range(8)]
    if max(abs(c) for c in coefficients) < FLAT:
        return None
    ordered = sorted(coefficients)
    median = (ordered[31] + ordered[32]) / 2
    bits = 0
    for c in coefficients:
        bits = (bits << 1) | (c > median)
    return f"{bits:016x}"


def phash_of_bytes(data: bytes, draft_side: int = 4 * SIZE) -> str | None:
    """The perceptual hash of an encoded picture (JPEG, PNG, WebP), None when flat; raises what Pillow raises on
    bad input.

    A JPEG is decoded at a reduced scale (libjpeg's DCT scaling, down to 1/8) no smaller than ``draft_side``:
    a 12-megapixel photo costs a fraction of a full decode, and the hash only ever sees 32 x 32 anyway.
    Call it only on bytes whose declared size has been checked (``media.handlers.check_upload``).
    """
    with Image.open(io.BytesIO(data)) as image:
        if image.format == "JPEG":
            image.draft("L", (draft_side, draft_side))
        return phash(image)

