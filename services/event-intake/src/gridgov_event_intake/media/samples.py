"""Tiny, structurally valid sample images carrying a GPS tag: for tests, demos and load runs."""

import struct

GPS = b"GPSLatitude 23.0205 N"


def jpeg(with_exif: bool = True) -> bytes:
    """A structurally valid 1 x 1 JPEG: SOI, APP0 (JFIF), optional APP1 (Exif with GPS), DQT, SOF0, SOS + data,
    EOI."""
    def seg(marker: int, payload: bytes) -> bytes:
        return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload
    parts = [b"\xff\xd8", seg(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")]
    if with_exif:
        parts.append(seg(0xE1, b"Exif\x00\x00" + GPS))
    frame = seg(0xC0, b"\x08" + struct.pack(">HH", 1, 1) + b"\x01\x01\x11\x00")  # 8-bit, 1 x 1, one component
    parts += [seg(0xDB, b"\x00" + bytes(64)), frame, seg(0xDA, b"\x01\x01\x00\x00\x3f\x00"), b"\x12\x34\x56",
              b"\xff\xd9"]
    return b"".join(parts)


def png(width: int = 1, height: int = 1) -> bytes:
    """A PNG declaring ``width`` x ``height`` pixels, with an eXIf chunk holding a GPS tag."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + b"\x00\x00\x00\x00"
    header = struct.pack(">II", width, height) + b"\x08\x02\x00\x00\x00"  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"eXIf", b"MM\x00*" + GPS)
            + chunk(b"IDAT", b"\x00\x01") + chunk(b"IEND", b""))


def webp() -> bytes:
    """A 1 x 1 WebP (VP8X) with an EXIF chunk holding a GPS tag."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return kind + struct.pack("<I", len(data)) + data + (b"\x00" if len(data) % 2 else b"")
    key_frame = b"\x00\x00\x00\x9d\x01\x2a" + struct.pack("<HH", 1, 1)  # frame tag, start code, 1 x 1
    body = chunk(b"VP8X", bytes([0x08]) + bytes(9)) + chunk(b"VP8 ", key_frame) + chunk(b"EXIF", GPS)
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body
