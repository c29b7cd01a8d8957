"""Upload checks and EXIF stripping, pure: bytes in, a verdict or cleaned bytes out.

The type is judged by content (magic bytes), never by file name or the declared Content-Type. The public
copy of a photo has its EXIF/XMP metadata removed (it carries the phone's GPS position and device), without
re-encoding the image.
"""

from __future__ import annotations

import struct

JPEG, PNG, WEBP = "image/jpeg", "image/png", "image/webp"
ACCEPTED = (JPEG, PNG, WEBP)
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def sniff(data: bytes) -> str | None:
    """The image type of ``data`` by its magic bytes (JPEG, PNG, WebP), or None."""
    if data[:3] == b"\xff\xd8\xff":
        return JPEG
    if data[:8] == _PNG_SIGNATURE:
        return PNG
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    return None


def strip_metadata(data: bytes, content_type: str) -> bytes:
    """``data`` without EXIF or XMP metadata (GPS included); unknown or malformed input raises ValueError."""
    if content_type == JPEG:
        return _strip_jpeg(data)
    if content_type == PNG:
        return _strip_png(data)
    if content_type == WEBP:
        return _strip_webp(data)
    raise ValueError(f"not an accepted image type: {content_type}")


def _strip_jpeg(data: bytes) -> bytes:
    out = bytearray(data[:2])
    i = 2
    while i < len(data):
        if data[i] != 0xFF:
            raise ValueError(f"JPEG marker expected at byte {i}")
        marker = data[i + 1] if i + 1 < len(data) else None
        if marker is None:
            raise ValueError("truncated JPEG")
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0xD9 or marker == 0x01 or 0xD0 <= marker <= 0xD7:  # EOI, TEM, RSTn: no length
            out += data[i:i + 2]
            i += 2
            continue
        if i + 4 > len(data):
            raise ValueError("truncated JPEG segment")
        (length,) = struct.unpack(">H", data[i + 2:i + 4])
        end = i + 2 + length
        if length < 2 or end > len(data):
            raise ValueError("JPEG segment overruns the file")
        if marker == 0xDA:  # start of scan: the compressed image follows to the end
            out += data[i:]
            return bytes(out)
        if marker != 0xE1:  # APP1 carries EXIF (with GPS) and XMP: dropped; everything else kept
            out += data[i:end]
        i = end
    return bytes(out)


def _strip_png(data: bytes) -> bytes:
    if data[:8] != _PNG_SIGNATURE:
        raise ValueError("not a PNG")
    out = bytearray(data[:8])
    i = 8
    while i < len(data):
        if i + 8 > len(data):
            raise ValueError("truncated PNG chunk")
        (length,) = struct.unpack(">I", data[i:i + 4])
        kind = data[i + 4:i + 8]
        end = i + 12 + length
        if end > len(data):
            raise ValueError("PNG chunk overruns the file")
        if kind not in (b"eXIf", b"iTXt", b"tEXt", b"zTXt"):
            out += data[i:end]
        i = end
    return bytes(out)


def _strip_webp(data: bytes) -> bytes:
    chunks = bytearray()
    i = 12
    while i < len(data):
        if i + 8 > len(data):
            raise ValueError("truncated WebP chunk")
        kind = data[i:i + 4]
        (size,) = struct.unpack("<I", data[i + 4:i + 8])
        end = i + 8 + size + (size & 1)
        if i + 8 + size > len(data):
            raise ValueError("WebP chunk overruns the file")
        chunk = bytearray(data[i:min(end, len(data))])
        if kind == b"VP8X" and size >= 1:
            chunk[8] &= ~(0x08 | 0x04) & 0xFF  # clear the EXIF and XMP flags
        if kind not in (b"EXIF", b"XMP "):
            chunks += chunk
        i = end
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WEBP" + bytes(chunks)


# JPEG start-of-frame markers carry the dimensions: SOF0-3, 5-7, 9-11, 13-15 (C4 DHT, C8 JPG, CC DAC are not).
_JPEG_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})


def dimensions(data: bytes, content_type: str) -> tuple[int, int]:
    """Width and height as the image's header declares them, read without decoding a pixel.

    Raises ValueError when the header cannot be read or declares no size: such a file is refused, since a
    decoder would otherwise be the first to find out how big it is (a decompression bomb).
    """
    if content_type == PNG:
        width, height = _png_size(data)
    elif content_type == JPEG:
        width, height = _jpeg_size(data)
    elif content_type == WEBP:
        width, height = _webp_size(data)
    else:
        raise ValueError(f"not an accepted image type: {content_type}")
    if width <= 0 or height <= 0:
        raise ValueError(f"header declares {width} x {height} pixels")
    return width, height


def _png_size(data: bytes) -> tuple[int, int]:
    # The specification puts IHDR first: signature, length (13), "IHDR", width, height (big-endian).
    if len(data) < 24 or data[:8] != _PNG_SIGNATURE or data[12:16] != b"IHDR":
        raise ValueError("PNG without an IHDR chunk first")
    (length,) = struct.unpack(">I", data[8:12])
    if length != 13:
        raise ValueError("PNG IHDR of the wrong length")
    return struct.unpack(">II", data[16:24])


def _jpeg_size(data: bytes) -> tuple[int, int]:
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            raise ValueError(f"JPEG marker expected at byte {i}")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # TEM, RSTn: no length
            i += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image or start of scan before any frame header
            break
        (length,) = struct.unpack(">H", data[i + 2:i + 4])
        if length < 2:
            raise ValueError("JPEG segment of a bad length")
        if marker in _JPEG_SOF:
            if length < 7 or i + 9 > len(data):
                raise ValueError("truncated JPEG frame header")
            height, width = struct.unpack(">HH", data[i + 5:i + 9])  # after the sample precision byte
            return width, height
        i += 2 + length
    raise ValueError("JPEG without a frame header (SOFn) before its scan")


def _webp_size(data: bytes) -> tuple[int, int]:
    if len(data) < 20:
        raise ValueError("truncated WebP")
    kind = data[12:16]
    (size,) = struct.unpack("<I", data[16:20])
    body = data[20:20 + size]
    if kind == b"VP8X":  # the canvas: 24-bit width-1 and height-1 after 4 bytes of flags
        if len(body) < 10:
            raise ValueError("truncated WebP VP8X chunk")
        return int.from_bytes(body[4:7], "little") + 1, int.from_bytes(body[7:10], "little") + 1
    if kind == b"VP8L":  # signature 0x2f, then 14 bits width-1 and 14 bits height-1
        if len(body) < 5 or body[0] != 0x2F:
            raise ValueError("WebP VP8L without its signature")
        bits = int.from_bytes(body[1:5], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if kind == b"VP8 ":  # a key frame: 3 bytes of frame tag, start code 9d 01 2a, 14-bit width and height
        if len(body) < 10 or body[3:6] != b"\x9d\x01\x2a":
            raise ValueError("WebP VP8 without a key frame start code")
        width, height = struct.unpack("<HH", body[6:10])
        return width & 0x3FFF, height & 0x3FFF
    raise ValueError(f"WebP whose first chunk is {kind!r}, not VP8, VP8L or VP8X")
