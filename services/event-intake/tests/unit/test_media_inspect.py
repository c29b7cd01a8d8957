import struct

import pytest

from gridgov_common.errors import PayloadTooLarge, UnsupportedMediaType
from gridgov_event_intake.media import handlers, inspect
from gridgov_event_intake.media.samples import GPS, jpeg, png, webp


@pytest.mark.parametrize(("data", "expected"), [
    (jpeg(), inspect.JPEG), (png(), inspect.PNG), (webp(), inspect.WEBP),
    (b"GIF89a....", None), (b"<html>", None), (b"", None),
])
def test_sniff_image_by_magic_bytes(data, expected):
    assert inspect.sniff(data) == expected


@pytest.mark.parametrize("make", [jpeg, png, webp], ids=["jpeg", "png", "webp"])
def test_strip_metadata_removes_gps_and_keeps_image(make):
    data = make()
    assert GPS in data
    clean = inspect.strip_metadata(data, inspect.sniff(data))
    assert GPS not in clean
    assert inspect.sniff(clean) == inspect.sniff(data)


def test_strip_metadata_jpeg_keeps_scan_data_intact():
    clean = inspect.strip_metadata(jpeg(), inspect.JPEG)
    assert clean == jpeg(with_exif=False)


def test_strip_metadata_webp_fixes_riff_size_and_flags():
    clean = inspect.strip_metadata(webp(), inspect.WEBP)
    assert struct.unpack("<I", clean[4:8])[0] == len(clean) - 8
    assert clean[20] & 0x08 == 0


def test_strip_metadata_truncated_jpeg_raises():
    with pytest.raises(ValueError):
        inspect.strip_metadata(jpeg()[:30], inspect.JPEG)


def test_check_upload_too_big_is_413_and_wrong_type_415():
    with pytest.raises(PayloadTooLarge):
        handlers.check_upload(jpeg(), 10)
    with pytest.raises(UnsupportedMediaType):
        handlers.check_upload(b"%PDF-1.7 hello", 10_000)
