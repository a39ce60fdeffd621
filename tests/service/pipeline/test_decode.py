from __future__ import annotations

import io
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from trayscan.errors import CorruptImageError, ImageTooLargeError, UnsupportedImageError
from trayscan.pipeline.decode import (
    ImageLimits,
    decode_image,
    decode_image_reduced,
    decoded_pixels,
    image_suffix,
    jpeg_reduction,
)

LIMITS = ImageLimits(max_bytes=10_000_000, max_pixels=10_000_000)


def save(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def marked_rgb(width: int = 60, height: int = 40) -> Image.Image:
    """White image with a pure red top-left corner, so orientation and channel order can be checked."""
    pixels = np.full((height, width, 3), 255, np.uint8)
    pixels[:10, :10] = (255, 0, 0)
    return Image.fromarray(pixels)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "JPEG"])
def test_decodes_accepted_formats_to_bgr(fmt: str) -> None:
    options = {"lossless": True} if fmt == "WEBP" else {"quality": 95} if fmt == "JPEG" else {}
    image = decode_image(save(marked_rgb(), fmt, **options), LIMITS)
    assert image.shape == (40, 60, 3) and image.dtype == np.uint8
    blue, green, red = (int(v) for v in image[3, 3])
    assert red > 200 and green < 60 and blue < 60


def test_applies_exif_orientation() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: display needs a 90 degree clockwise turn
    data = save(marked_rgb(), "JPEG", exif=exif, quality=95)
    image = decode_image(data, LIMITS)
    assert image.shape == (60, 40, 3)
    assert image[3, -4, 2] > 200  # the red corner moved to the top right


def test_grey_image_becomes_three_channels() -> None:
    grey = Image.fromarray(np.full((10, 20), 77, np.uint8), mode="L")
    image = decode_image(save(grey, "PNG"), LIMITS)
    assert image.shape == (10, 20, 3) and (image == 77).all()


def test_16_bit_grey_is_scaled_to_8_bit() -> None:
    grey = Image.fromarray(np.full((10, 20), 65535, np.uint16))
    image = decode_image(save(grey, "PNG"), LIMITS)
    assert image.shape == (10, 20, 3) and (image == 255).all()


def test_transparent_pixels_become_white() -> None:
    rgba = np.zeros((10, 10, 4), np.uint8)
    rgba[:5] = (0, 0, 255, 255)  # opaque blue top half, transparent black bottom half
    image = decode_image(save(Image.fromarray(rgba, mode="RGBA"), "PNG"), LIMITS)
    assert tuple(image[0, 0]) == (255, 0, 0) and tuple(image[9, 9]) == (255, 255, 255)


def test_cmyk_jpeg_is_converted() -> None:
    cmyk = marked_rgb().convert("CMYK")
    image = decode_image(save(cmyk, "JPEG", quality=95), LIMITS)
    assert image.shape == (40, 60, 3)
    assert image[3, 3, 2] > 200 and image[3, 3, 0] < 60 and image[30, 50].min() > 200


def test_palette_png() -> None:
    image = decode_image(save(marked_rgb().convert("P"), "PNG"), LIMITS)
    assert image[3, 3, 2] > 200 and image[30, 50].min() > 200


def test_text_is_unsupported() -> None:
    with pytest.raises(UnsupportedImageError, match="not an image"):
        decode_image(b"GIF? no, just text", LIMITS)


def test_gif_is_unsupported() -> None:
    with pytest.raises(UnsupportedImageError, match="unsupported image format GIF"):
        decode_image(save(marked_rgb(), "GIF"), LIMITS)


def test_truncated_png_is_corrupt() -> None:
    data = save(
        Image.fromarray(np.random.default_rng(0).integers(0, 255, (50, 50, 3), dtype=np.uint8)), "PNG"
    )
    with pytest.raises(CorruptImageError, match="corrupt PNG image"):
        decode_image(data[: len(data) // 2], LIMITS)


def forged_png(width: int, height: int) -> bytes:
    """A 1x1 PNG whose header claims width x height: decoding it for real would fail or take forever."""
    data = save(Image.new("L", (1, 1)), "PNG")
    header = b"IHDR" + width.to_bytes(4, "big") + height.to_bytes(4, "big") + data[24:29]
    return data[:12] + header + zlib.crc32(header).to_bytes(4, "big") + data[33:]


def test_pixel_limit_is_checked_from_the_header() -> None:
    with pytest.raises(
        ImageTooLargeError, match="image is 5000x2001 = 10005000 pixels, over the limit of 10000000"
    ):
        decode_image(forged_png(5000, 2001), LIMITS)


def test_decompression_bomb_is_too_large() -> None:
    with pytest.raises(ImageTooLargeError, match="over the limit of 10000000 pixels"):
        decode_image(forged_png(30000, 30000), LIMITS)


def test_byte_limit() -> None:
    with pytest.raises(ImageTooLargeError, match="over the limit of 100 bytes"):
        decode_image(b"x" * 101, ImageLimits(max_bytes=100, max_pixels=100))


def test_image_suffix() -> None:
    assert image_suffix(save(marked_rgb(), "PNG")) == ".png"
    assert image_suffix(save(marked_rgb(), "WEBP")) == ".webp"
    assert image_suffix(save(marked_rgb(), "JPEG")) == ".jpg"


def test_truncated_jpeg_is_corrupt() -> None:
    data = save(
        Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)), "JPEG"
    )
    with pytest.raises(CorruptImageError, match="corrupt JPEG image"):
        decode_image(data[: len(data) // 2], LIMITS)


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_fast_jpeg_path_matches_pillow(orientation: int) -> None:
    # Complete colour JPEGs are decoded by OpenCV; the answer must be the Pillow path's, pixel for pixel.
    from PIL import ImageOps

    exif = Image.Exif()
    exif[0x0112] = orientation
    pixels = np.random.default_rng(orientation).integers(0, 255, (48, 80, 3), dtype=np.uint8)
    data = save(Image.fromarray(pixels), "JPEG", exif=exif, quality=90)
    upright = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB"))[:, :, ::-1]
    decoded = decode_image(data, LIMITS)
    assert decoded.shape == upright.shape and np.abs(decoded.astype(int) - upright).max() <= 1


def test_jpeg_reduction_keeps_the_long_side() -> None:
    assert jpeg_reduction(6000, 4000, 1600) == 2
    assert jpeg_reduction(4000, 6000, 700) == 8
    assert jpeg_reduction(3199, 2000, 1600) == 1
    assert jpeg_reduction(6000, 4000, 0) == 1


@pytest.mark.parametrize("orientation", [1, 6])
def test_reduced_jpeg_decode_is_the_full_decode_scaled(orientation: int) -> None:
    exif = Image.Exif()
    exif[0x0112] = orientation
    pixels = np.full((400, 640, 3), 255, np.uint8)
    pixels[:80, :80] = (255, 0, 0)  # red top-left corner (RGB)
    data = save(Image.fromarray(pixels), "JPEG", exif=exif, quality=95)
    full = decode_image(data, LIMITS)
    reduced, factor = decode_image_reduced(data, LIMITS, 160)
    assert factor == 4 and reduced.shape == (full.shape[0] // 4, full.shape[1] // 4, 3)
    assert decoded_pixels(data, LIMITS, 160) == (reduced.shape[0] * reduced.shape[1], 4)
    shrunk = cv2.resize(full, reduced.shape[1::-1], interpolation=cv2.INTER_AREA)
    assert np.abs(shrunk.astype(int) - reduced).mean() < 3


def test_png_and_truncated_jpeg_are_not_reduced() -> None:
    image = marked_rgb(640, 400)
    png = save(image, "PNG")
    assert decode_image_reduced(png, LIMITS, 160)[1] == 1 and decoded_pixels(png, LIMITS, 160) == (256_000, 1)
    jpeg = save(Image.fromarray(np.random.default_rng(0).integers(0, 255, (400, 640, 3), dtype=np.uint8)), "JPEG")
    with pytest.raises(CorruptImageError):
        decode_image_reduced(jpeg[: len(jpeg) // 2], LIMITS, 160)
