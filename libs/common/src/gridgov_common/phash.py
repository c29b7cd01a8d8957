"""Distance between two 64-bit perceptual hashes, as ``media.stored`` carries them (16 hex digits).

Event-intake computes the hashes (``gridgov_event_intake.media.phash``); dispatch compares them to catch a photo
reused from earlier in a case or from the grid's recent cases. Only the comparison lives here, so that a
consumer needs no image library.
"""

from __future__ import annotations

HASH_BITS = 64


def hamming(a: str | int, b: str | int) -> int:
    """How many of the 64 bits differ between two perceptual hashes (hex strings or ints): 0 is the same
    picture, about 32 two unrelated ones; ValueError for a value that is not a 64-bit hash."""
    x, y = _bits(a), _bits(b)
    return (x ^ y).bit_count()


def _bits(value: str | int) -> int:
    number = int(value, 16) if isinstance(value, str) else value
    if not 0 <= number < 1 << HASH_BITS:
        raise ValueError(f"not a {HASH_BITS}-bit hash: {value!r}")
    return number
