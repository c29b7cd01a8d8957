"""Sample images for tests, demos, load runs and benchmarks: tiny structurally valid files carrying a GPS tag,
and real photos of made-up scenes (Pillow) with EXIF GPS and time, and their reused copies."""

from __future__ import annotations

import io
import random
import struct
from fractions import Fraction

from PIL import ExifTags, Image, ImageDraw, ImageFilter

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


def scene(seed: int, size: tuple[int, int] = (1200, 900)) -> Image.Image:
    """A made-up street scene: a sky-to-ground gradient and a dozen coloured blocks, blurred like a lens would.

    Different seeds give different pictures; the same seed, the same picture.
    """
    rng = random.Random(seed)
    width, height = size
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    top, bottom = [rng.randrange(256) for _ in range(3)], [rng.randrange(256) for _ in range(3)]
    for y in range(height):
        t = y / height
        draw.line([(0, y), (width, y)], fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)))
    for _ in range(rng.randint(8, 20)):
        x0, y0 = rng.randrange(width), rng.randrange(height)
        x1, y1 = x0 + rng.randint(width // 20, width // 2), y0 + rng.randint(height // 20, height // 2)
        colour = tuple(rng.randrange(256) for _ in range(3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)([x0, y0, x1, y1], fill=colour)
    return image.filter(ImageFilter.GaussianBlur(2))


def dms(value: float) -> tuple[Fraction, Fraction, Fraction]:
    """Degrees as EXIF writes them: degrees, minutes and seconds as rationals (seconds to 1/10000)."""
    tenths_of_ms = round(abs(value) * 3600 * 10_000)  # in whole units, so that no rounding makes 60 seconds
    degrees, rest = divmod(tenths_of_ms, 3600 * 10_000)
    minutes, seconds = divmod(rest, 60 * 10_000)
    return Fraction(degrees), Fraction(minutes), Fraction(seconds, 10_000)


def exif_block(lat: float | None = None, lon: float | None = None, taken: str | None = None,
               offset: str | None = None) -> Image.Exif:
    """An EXIF block with a GPS position (signed degrees) and DateTimeOriginal/OffsetTimeOriginal, as given."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "gridgov-test"
    if lat is not None and lon is not None:
        exif[ExifTags.IFD.GPSInfo] = {
            ExifTags.GPS.GPSLatitudeRef: "N" if lat >= 0 else "S", ExifTags.GPS.GPSLatitude: dms(lat),
            ExifTags.GPS.GPSLongitudeRef: "E" if lon >= 0 else "W", ExifTags.GPS.GPSLongitude: dms(lon)}
    details = {}
    if taken is not None:
        details[ExifTags.Base.DateTimeOriginal] = taken
    if offset is not None:
        details[ExifTags.Base.OffsetTimeOriginal] = offset
    if details:
        exif[ExifTags.IFD.Exif] = details
    return exif


def encode(image: Image.Image, fmt: str = "JPEG", quality: int = 92, exif: Image.Exif | None = None) -> bytes:
    """The picture as a file of ``fmt`` (JPEG, PNG, WEBP), with an EXIF block if given."""
    out = io.BytesIO()
    options: dict = {"quality": quality} if fmt in ("JPEG", "WEBP") else {}
    if exif is not None:
        options["exif"] = exif.tobytes()
    image.save(out, fmt, **options)
    return out.getvalue()


def reused(image: Image.Image) -> bytes:
    """A reused copy as it comes back from a messenger: half the size, re-encoded as a JPEG at quality 70."""
    half = image.resize((image.width // 2, image.height // 2), Image.Resampling.LANCZOS)
    return encode(half, quality=70)
