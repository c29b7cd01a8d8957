"""Image dimensions read from the header, before any decoding (decompression bombs, issue #11)."""

import struct

import pytest

from gridgov_common.errors import UnsupportedMediaType, ValidationFailed
from gridgov_event_intake.media import handlers, inspect
from gridgov_event_intake.media.samples import jpeg, png, webp


def riff(*chunks: tuple[bytes, bytes]) -> bytes:
    body = b"".join(k + struct.pack("<I", len(d)) + d + (b"\x00" if len(d) % 2 else b"") for k, d in chunks)
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


def jpeg_of(width: int, height: int, sof: int = 0xC0, before: bytes = b"") -> bytes:
    frame = b"\x08" + struct.pack(">HH", height, width) + b"\x01\x01\x11\x00"
    return (b"\xff\xd8" + before + bytes([0xFF, sof]) + struct.pack(">H", len(frame) + 2) + frame
            + b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00\x12\x34\xff\xd9")


def vp8(width: int, height: int) -> bytes:
    return riff((b"VP8 ", b"\x00\x00\x00\x9d\x01\x2a" + struct.pack("<HH", width, height) + bytes(4)))


def vp8l(width: int, height: int) -> bytes:
    bits = (width - 1) | ((height - 1) << 14)
    return riff((b"VP8L", b"\x2f" + bits.to_bytes(4, "little") + bytes(3)))


def vp8x(width: int, height: int) -> bytes:
    canvas = bytes(4) + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return riff((b"VP8X", canvas), (b"VP8 ", bytes(10)))


@pytest.mark.parametrize(("data", "size"), [
    (png(640, 480), (640, 480)),
    (png(100_000, 100_000), (100_000, 100_000)),
    (jpeg_of(4032, 3024), (4032, 3024)),
    (jpeg_of(800, 600, sof=0xC2), (800, 600)),  # progressive
    (jpeg_of(1, 65535, before=b"\xff\xe1\x00\x06Exif"), (1, 65535)),  # after an APP1 segment
    (vp8(1920, 1080), (1920, 1080)),
    (vp8l(16383, 2), (16383, 2)),
    (vp8x(16_777_216, 3), (16_777_216, 3)),  # the VP8X canvas reaches 2^24
    (jpeg(), (1, 1)), (png(), (1, 1)), (webp(), (1, 1)),
], ids=["png", "png-bomb", "jpeg-sof0", "jpeg-sof2", "jpeg-after-app1", "webp-vp8", "webp-vp8l", "webp-vp8x",
        "sample-jpeg", "sample-png", "sample-webp"])
def test_read_dimensions_from_header(data, size):
    assert inspect.dimensions(data, inspect.sniff(data)) == size


@pytest.mark.parametrize("data", [
    png(0, 10),  # zero width
    b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 4) + b"tEXtabcd",  # IHDR not first
    png()[:20],  # truncated IHDR
    b"\xff\xd8\xff\xda\x00\x02\x12\x34\xff\xd9",  # JPEG scan before any frame header
    b"\xff\xd8\xff\xe0\x00\x10JFIF",  # JPEG cut before its frame header
    jpeg_of(10, 0),  # JPEG height left to a DNL marker
    riff((b"VP8 ", bytes(10))),  # VP8 without its start code
    riff((b"VP8L", b"\x00" + bytes(4))),  # VP8L without its signature
    riff((b"ALPH", bytes(4))),  # no image chunk first
    b"RIFF\x00\x00\x00\x00WEBP",  # nothing after the header
], ids=["png-zero", "png-no-ihdr", "png-truncated", "jpeg-no-sof", "jpeg-cut", "jpeg-dnl", "vp8-no-start",
        "vp8l-no-signature", "webp-no-image", "webp-empty"])
def test_read_dimensions_unreadable_header_raises(data):
    with pytest.raises(ValueError):
        inspect.dimensions(data, inspect.sniff(data))


def test_check_upload_too_many_pixels_is_422_naming_file():
    with pytest.raises(ValidationFailed) as refused:
        handlers.check_upload(png(10_000, 10_000), 10_000, max_pixels=50_000_000, max_side=20_000)
    assert refused.value.details[0].field == "file" and "pixels" in refused.value.details[0].reason


def test_check_upload_too_long_side_is_422_naming_file():
    with pytest.raises(ValidationFailed) as refused:
        handlers.check_upload(vp8l(16383, 2), 10_000, max_pixels=50_000_000, max_side=16_000)
    assert refused.value.details[0].field == "file" and "16000" in refused.value.details[0].reason


def test_check_upload_unreadable_header_is_415_naming_file():
    with pytest.raises(UnsupportedMediaType) as refused:
        handlers.check_upload(png(0, 0), 10_000)
    assert refused.value.details[0].field == "file"


def test_check_upload_within_limits_passes():
    assert handlers.check_upload(png(7071, 7071), 10_000, max_pixels=50_000_000, max_side=20_000) == inspect.PNG
