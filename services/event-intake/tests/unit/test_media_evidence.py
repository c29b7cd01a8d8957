"""What an original photo proves (issue #14): its perceptual hash survives reuse, its EXIF position and time are
read as the camera wrote them, and a decoder never sees more pixels than the header check allowed."""

import io
import itertools
import struct
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from gridgov_common.errors import ValidationFailed
from gridgov_event_intake.media import evidence, exif, handlers, phash
from gridgov_event_intake.media.samples import encode, exif_block, jpeg, png, reused, scene, webp

SHANGHAI = ZoneInfo("Asia/Shanghai")
# The most bits a reused copy may differ by, and the fewest two different photos may: dispatch's threshold
# for "the same photo" must lie between them (measured: reuse 0-2 bits, different photos 18+ of 64).
SAME_MAX, DIFFERENT_MIN = 6, 14


def open_image(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


# --- perceptual hash ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(8))
def test_phash_of_reused_photo_stays_close_after_q70_reencode_and_half_resize(seed):
    picture = scene(seed)
    original = phash.phash_of_bytes(encode(picture))
    assert phash.hamming(original, phash.phash_of_bytes(reused(picture))) <= SAME_MAX


def test_phash_of_different_photos_is_far():
    hashes = [phash.phash_of_bytes(encode(scene(seed))) for seed in range(100, 112)]
    distances = [phash.hamming(a, b) for a, b in itertools.combinations(hashes, 2)]
    assert min(distances) >= DIFFERENT_MIN, sorted(distances)[:5]


def test_phash_is_16_hex_digits_and_the_same_for_png_and_webp_copies():
    picture = scene(7)
    digest = phash.phash_of_bytes(encode(picture, "PNG"))
    assert len(digest) == 16 and int(digest, 16) >= 0 and digest == digest.lower()
    assert phash.hamming(digest, phash.phash_of_bytes(encode(picture, "WEBP", quality=80))) <= SAME_MAX


def test_phash_of_rotated_original_matches_its_upright_copy_by_exif_orientation():
    picture = scene(3)
    turned = picture.rotate(90, expand=True)  # as the sensor saw it: a quarter turn anticlockwise
    block = Image.Exif()
    block[0x0112] = 6  # Orientation: turn 90° clockwise to show
    upright = phash.phash_of_bytes(encode(picture))
    assert phash.hamming(upright, phash.phash_of_bytes(encode(turned, exif=block))) <= SAME_MAX


# --- EXIF -----------------------------------------------------------------------------------------------------

def test_read_exif_gps_and_time_with_offset_from_jpeg():
    data = encode(scene(1, (64, 48)), exif=exif_block(23.0205, 113.7518, "2026:12:01 09:30:15", "+08:00"))
    facts = exif.read(open_image(data), UTC)
    assert facts.lat == pytest.approx(23.0205, abs=1e-6) and facts.lon == pytest.approx(113.7518, abs=1e-6)
    assert facts.taken_at == datetime(2026, 12, 1, 9, 30, 15, tzinfo=timezone(timedelta(hours=8)))


def test_read_exif_time_without_offset_in_city_time_zone():
    data = encode(scene(1, (64, 48)), exif=exif_block(taken="2026:12:01 09:30:15"))
    facts = exif.read(open_image(data), SHANGHAI)
    assert facts.lat is None and facts.lon is None
    assert facts.taken_at.astimezone(UTC) == datetime(2026, 12, 1, 1, 30, 15, tzinfo=UTC)


def test_read_exif_southern_and_western_hemispheres_are_negative():
    data = encode(scene(1, (64, 48)), exif=exif_block(-33.8688, -70.6693))
    facts = exif.read(open_image(data), UTC)
    assert facts.lat == pytest.approx(-33.8688, abs=1e-6) and facts.lon == pytest.approx(-70.6693, abs=1e-6)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_read_exif_gps_from_png_and_webp(fmt):
    data = encode(scene(1, (64, 48)), fmt, exif=exif_block(22.9, 113.9, "2026:06:30 18:00:00", "+08:00"))
    facts = exif.read(open_image(data), UTC)
    assert (round(facts.lat, 6), round(facts.lon, 6)) == (22.9, 113.9)
    assert facts.taken_at == datetime(2026, 6, 30, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(("block", "why"), [
    (exif_block(0.0, 0.0), "0,0: the camera had no fix"),
    (exif_block(taken="0000:00:00 00:00:00"), "a camera without a clock"),
    (Image.Exif(), "no EXIF at all"),
], ids=["null-island", "zero-time", "none"])
def test_read_exif_without_a_usable_position_or_time_is_nothing(block, why):
    facts = exif.read(open_image(encode(scene(1, (64, 48)), exif=block)), UTC)
    assert facts == exif.NOTHING, why


def test_read_exif_position_without_hemisphere_is_absent():
    assert exif._coordinate((23, 1, 0), None, "N", "S", 90) is None
    assert exif._coordinate((23, 61, 0), "N", "N", "S", 90) is None  # 61 minutes: not a position
    assert exif._coordinate((23, 2, 60), "N", "N", "S", 90) == pytest.approx(23.05)  # a camera's rounding
    assert exif._coordinate((23, 0, 0), b"N\x00", "N", "S", 90) == 23.0  # ASCII with its NUL, as cameras write


@pytest.mark.parametrize("data", [jpeg(), png(), webp()], ids=["jpeg", "png", "webp"])
def test_examine_tiny_sample_gives_no_facts_and_no_hash(data):
    found = evidence.examine(data, SHANGHAI, 50_000_000, 20_000)
    assert found.exif == exif.NOTHING and found.phash is None


@pytest.mark.parametrize("colour", ["black", "white", (128, 90, 30)])
def test_phash_of_flat_picture_is_none(colour):
    # A covered lens must not "match" every other covered lens as a reused photo.
    assert phash.phash_of_bytes(encode(Image.new("RGB", (640, 480), colour))) is None


def test_examine_photo_reads_exif_and_hash():
    picture = scene(5)
    data = encode(picture, exif=exif_block(23.05, 113.8, "2026:12:01 08:00:00"))
    found = evidence.examine(data, SHANGHAI, 50_000_000, 20_000)
    assert found.exif.lat == pytest.approx(23.05) and found.exif.taken_at.utcoffset() == timedelta(hours=8)
    assert found.phash == phash.phash_of_bytes(data)


def second_frame_header(width: int, height: int) -> bytes:
    """A real JPEG of ``width`` x ``height`` with a fake 1 x 1 frame header in front of its own: the header check
    reads the first, Pillow the last."""
    data = encode(Image.new("RGB", (width, height), "blue"))
    at = data.index(b"\xff\xc0")
    fake = b"\xff\xc0" + struct.pack(">H", 11) + b"\x08" + struct.pack(">HH", 1, 1) + b"\x01\x01\x11\x00"
    return data[:at] + fake + data[at:]


def test_examine_jpeg_whose_decoder_reads_a_bigger_canvas_is_refused_before_decoding():
    data = second_frame_header(200, 150)
    assert handlers.check_upload(data, 1_000_000, max_pixels=10_000, max_side=20_000) == "image/jpeg"
    with pytest.raises(evidence.DecoderSeesTooManyPixels) as refused:
        evidence.examine(data, SHANGHAI, 10_000, 20_000)
    assert (refused.value.width, refused.value.height) == (200, 150)


def test_check_pixels_refusal_names_file_in_english_and_chinese():
    with pytest.raises(ValidationFailed) as refused:
        handlers.check_pixels(8000, 8000, 40_000_000, 20_000)
    [detail] = refused.value.details
    assert detail.field == "file" and "more than 40000000 pixels" in detail.reason
    assert "超过 40000000 像素" in detail.reason_zh and refused.value.message_zh == "图片尺寸过大"
