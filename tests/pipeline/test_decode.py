"""Image decoding: formats, orientation, modes, limits and hostile bytes."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from frs.errors import FRSError
from frs.pipeline.decode import decode_image

LIMITS = {"max_pixels": 40_000_000, "max_side": 1920}


def _encode(image: Image.Image, fmt: str, **kwargs: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def _png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height pixels (a decompression bomb's calling card)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "invalid_image"),
        (b"hello, this is text", "invalid_image"),
        (b"GIF89a" + b"\0" * 64, "unsupported_media_type"),
        (b"%PDF-1.7\n%..." + b"\0" * 64, "unsupported_media_type"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>', "unsupported_media_type"),
        (_png_declaring(30000, 30000), "image_too_large"),
    ],
    ids=["empty", "text", "gif", "pdf", "svg", "bomb"],
)
def test_hostile_bytes_give_documented_errors(data: bytes, code: str) -> None:
    with pytest.raises(FRSError) as caught:
        decode_image(data, **LIMITS)
    assert caught.value.code == code
    assert caught.value.message


def test_truncated_jpeg_is_rejected(testdata: Path) -> None:
    data = (testdata / "person_b_1.jpg").read_bytes()
    with pytest.raises(FRSError) as caught:
        decode_image(data[: len(data) // 2], **LIMITS)
    assert caught.value.code == "invalid_image"
    assert "truncated" in caught.value.message


def test_a_plain_jpeg_decodes_to_pillows_pixels(testdata: Path) -> None:
    data = (testdata / "person_b_1.jpg").read_bytes()
    decoded = decode_image(data, **LIMITS)
    expected = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    assert decoded.rgb.shape == expected.shape
    assert np.array_equal(decoded.rgb, expected)
    assert (decoded.width, decoded.height, decoded.scale, decoded.format) == (716, 900, 1.0, "JPEG")


def test_a_jpeg_with_bytes_after_its_end_marker_decodes_the_same(testdata: Path) -> None:
    data = (testdata / "person_b_1.jpg").read_bytes()
    plain = decode_image(data, **LIMITS).rgb
    assert np.array_equal(decode_image(data + b"camera trailer", **LIMITS).rgb, plain)


def test_a_jpeg_damaged_inside_decodes_as_pillow_did_not_a_crash(testdata: Path) -> None:
    # Both decoders accept a damaged scan that still ends in its EOI marker (libjpeg warns, goes on), so the
    # fast path changes no answer: a face-sized image comes back, never a traceback.
    data = (testdata / "person_b_1.jpg").read_bytes()
    middle = len(data) // 2
    damaged = data[:middle] + b"\0" * 5000 + data[middle + 5000 :]
    decoded = decode_image(damaged, **LIMITS)
    assert decoded.rgb.shape == (900, 716, 3)
    assert decoded.rgb.shape == np.asarray(Image.open(io.BytesIO(damaged)).convert("RGB")).shape


def test_a_grey_jpeg_becomes_three_equal_channels() -> None:
    gradient = np.tile(np.arange(0, 256, 2, dtype=np.uint8), (64, 1))
    data = _encode(Image.fromarray(gradient, "L"), "JPEG", quality=95)
    rgb = decode_image(data, **LIMITS).rgb
    assert rgb.shape == (64, 128, 3)
    assert np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2])
    assert np.array_equal(rgb[..., 0], np.asarray(Image.open(io.BytesIO(data))))


def test_pixel_limit_is_configurable() -> None:
    data = _encode(Image.new("RGB", (200, 100)), "PNG")
    assert decode_image(data, max_pixels=20_000, max_side=1920).width == 200
    with pytest.raises(FRSError, match="limit is 19999 pixels"):
        decode_image(data, max_pixels=19_999, max_side=1920)


@pytest.mark.parametrize("mode", ["L", "RGBA", "LA", "P", "I;16"])
def test_modes_become_rgb(mode: str) -> None:
    image = Image.new(mode, (32, 16))
    decoded = decode_image(_encode(image, "PNG"), **LIMITS)
    assert decoded.rgb.shape == (16, 32, 3)
    assert decoded.rgb.dtype == np.uint8


def test_sixteen_bit_is_scaled_not_clipped() -> None:
    wide = np.full((8, 8), 32768, dtype=np.uint16)  # mid-grey in 16 bits
    decoded = decode_image(_encode(Image.fromarray(wide), "PNG"), **LIMITS)
    assert 120 <= int(decoded.rgb[0, 0, 0]) <= 135


def test_transparent_pixels_become_white() -> None:
    image = Image.new("RGBA", (4, 4), (10, 20, 30, 0))
    decoded = decode_image(_encode(image, "PNG"), **LIMITS)
    assert decoded.rgb[0, 0].tolist() == [255, 255, 255]


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "BMP"])
def test_supported_formats_decode(fmt: str) -> None:
    image = Image.new("RGB", (40, 30), (200, 100, 50))
    decoded = decode_image(_encode(image, fmt), **LIMITS)
    assert (decoded.width, decoded.height) == (40, 30)
    assert abs(int(decoded.rgb[15, 20, 0]) - 200) < 8


def test_exif_orientation_is_applied() -> None:
    # Left half red, right half blue, stored rotated; orientation 6 means "rotate 90 degrees clockwise".
    pixels = np.zeros((20, 40, 3), dtype=np.uint8)
    pixels[:, :20] = (255, 0, 0)
    pixels[:, 20:] = (0, 0, 255)
    stored = Image.fromarray(pixels).rotate(90, expand=True)  # 40 tall, 20 wide
    exif = Image.Exif()
    exif[0x0112] = 6
    decoded = decode_image(_encode(stored, "JPEG", exif=exif.tobytes(), quality=95), **LIMITS)
    assert (decoded.width, decoded.height) == (40, 20)
    assert decoded.rgb[10, 5, 0] > 200 and decoded.rgb[10, 5, 2] < 60  # red on the left again
    assert decoded.rgb[10, 35, 2] > 200


def test_large_images_are_scaled_with_the_scale_recorded() -> None:
    decoded = decode_image(
        _encode(Image.new("RGB", (5000, 2500)), "JPEG"), max_pixels=40_000_000, max_side=1000
    )
    assert (decoded.width, decoded.height) == (5000, 2500)
    assert max(decoded.rgb.shape[:2]) <= 1000
    assert decoded.scale == pytest.approx(5000 / decoded.rgb.shape[1])


def test_a_12_bit_frame_in_a_16_bit_png_is_read_at_its_sensor_depth() -> None:
    """IR and machine-vision cameras store 10-14 bit frames in 16-bit PNGs: mid-grey of a 12-bit sensor
    (2048) is mid-grey, not 1/16 of it."""
    wide = np.full((8, 8), 2048, dtype=np.uint16)
    wide[0, 0] = 4095
    decoded = decode_image(_encode(Image.fromarray(wide), "PNG"), **LIMITS)
    assert 120 <= int(decoded.rgb[1, 1, 0]) <= 135 and int(decoded.rgb[0, 0, 0]) == 255


@pytest.mark.parametrize(
    ("brightest", "peak"), [(0, 255), (255, 255), (256, 1023), (4095, 4095), (65535, 65535)]
)
def test_sensor_depth_is_the_shallowest_that_holds_the_brightest_pixel(brightest: int, peak: int) -> None:
    from frs.pipeline.decode import sensor_peak

    assert sensor_peak(brightest) == peak


@pytest.mark.parametrize("mode", ["L", "RGB", "I;16"])
def test_netpbm_frames_decode(mode: str) -> None:
    """PGM (P5, 8 and 16 bit) and PPM (P6): what IR cameras write."""
    image = Image.new(mode, (40, 30), 3000 if mode == "I;16" else (200 if mode == "L" else (200, 100, 50)))
    data = _encode(image, "PPM")
    assert data[:2] in (b"P5", b"P6")
    decoded = decode_image(data, **LIMITS)
    assert decoded.rgb.shape == (30, 40, 3) and decoded.format == "PPM"
    if mode == "I;16":  # 3000 of a 12-bit sensor
        assert int(decoded.rgb[0, 0, 0]) == 3000 * 255 // 4095


def test_a_netpbm_bomb_is_refused_from_its_header() -> None:
    """The header's size is checked before a pixel is read: a few bytes declaring 10^10 pixels."""
    with pytest.raises(FRSError) as caught:
        decode_image(b"P5\n100000 100000\n255\n" + b"\x00" * 64, **LIMITS)
    assert caught.value.code == "image_too_large"


def test_a_truncated_pgm_is_invalid_not_a_crash() -> None:
    with pytest.raises(FRSError) as caught:
        decode_image(b"P5\n64 64\n255\n" + b"\x80" * 100, **LIMITS)
    assert caught.value.code == "invalid_image"
