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
