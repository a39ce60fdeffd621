"""Decode stage: upload bytes -> upright BGR uint8 array, refusing bad or oversized input early."""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from trayscan.errors import CorruptImageError, ImageTooLargeError, UnsupportedImageError

# Phone JPEGs often arrive as MPO (JPEG with extra frames); it decodes like JPEG.
ACCEPTED_FORMATS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WebP"}
WHITE = (255, 255, 255)


@dataclass(frozen=True)
class ImageLimits:
    max_bytes: int
    max_pixels: int
    # Tray photos (checkout) are decoded reduced while their long side stays at least this (0: never reduced).
    checkout_long_side: int = 0


def check_size(data: bytes, limits: ImageLimits) -> None:
    if len(data) == 0:
        raise UnsupportedImageError("the upload is empty")
    if len(data) > limits.max_bytes:
        raise ImageTooLargeError(f"image is {len(data)} bytes, over the limit of {limits.max_bytes} bytes")


def image_pixels(data: bytes, limits: ImageLimits) -> int:
    """Width x height from the header alone, with the same checks and errors as `decode_image`."""
    width, height = _open(data, limits).size
    return width * height


def _open(data: bytes, limits: ImageLimits) -> Image.Image:
    check_size(data, limits)
    try:
        image = Image.open(io.BytesIO(data))  # reads the header only
    except UnidentifiedImageError as error:
        raise UnsupportedImageError("not an image: expected JPEG, PNG or WebP") from error
    except Image.DecompressionBombError as error:  # Pillow's own limit, far above any sane max_pixels
        raise ImageTooLargeError(f"image is over the limit of {limits.max_pixels} pixels") from error
    except (OSError, SyntaxError, ValueError) as error:
        raise CorruptImageError(f"cannot read the image header: {error}") from error
    if image.format not in ACCEPTED_FORMATS:
        raise UnsupportedImageError(f"unsupported image format {image.format}: expected JPEG, PNG or WebP")
    width, height = image.size
    if width * height > limits.max_pixels:
        raise ImageTooLargeError(
            f"image is {width}x{height} = {width * height} pixels, over the limit of {limits.max_pixels} pixels"
        )
    if width == 0 or height == 0:
        raise CorruptImageError("image has no pixels")
    return image


def decode_image(data: bytes, limits: ImageLimits) -> np.ndarray:
    """Bytes of a JPEG, PNG or WebP photo -> BGR uint8 [H, W, 3], EXIF orientation applied."""
    image = _open(data, limits)
    fast = _decode_with_opencv(data, image)
    if fast is not None:
        return fast
    try:
        image.load()
        return _to_bgr(_upright(image))
    except (OSError, SyntaxError, ValueError) as error:
        raise CorruptImageError(f"corrupt {ACCEPTED_FORMATS[str(image.format)]} image: {error}") from error


# OpenCV's JPEG decoding at 1/2, 1/4 and 1/8 size: libjpeg scales in the DCT, so the full image is never held.
REDUCED_JPEG_FLAGS = {2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4, 8: cv2.IMREAD_REDUCED_COLOR_8}


def jpeg_reduction(width: int, height: int, min_long_side: int) -> int:
    """1, 2, 4 or 8: the largest JPEG scaling whose image keeps a long side of at least `min_long_side` (0: 1)."""
    if min_long_side <= 0:
        return 1
    long_side = max(width, height)
    return max((factor for factor in (1, *REDUCED_JPEG_FLAGS) if long_side / factor >= min_long_side), default=1)


def decoded_pixels(data: bytes, limits: ImageLimits, min_long_side: int = 0) -> tuple[int, int]:
    """(pixels the decode will hold, its reduction factor), from the header alone: a complete colour JPEG far larger
    than needed is decoded reduced (`decode_image_reduced`), anything else at full size."""
    image = _open(data, limits)
    width, height = image.size
    factor = jpeg_reduction(width, height, min_long_side) if _complete_rgb_jpeg(data, image) else 1
    return -(-width // factor) * -(-height // factor), factor


def decode_image_reduced(data: bytes, limits: ImageLimits, min_long_side: int) -> tuple[np.ndarray, int]:
    """(BGR image, factor): a complete colour JPEG whose long side is at least twice `min_long_side` is decoded at
    1/2, 1/4 or 1/8 size (the photo's coordinates are the image's times the factor); anything else as
    `decode_image` does, factor 1. A tray photo needs no more pixels than its crops can use."""
    image = _open(data, limits)
    width, height = image.size
    factor = jpeg_reduction(width, height, min_long_side) if _complete_rgb_jpeg(data, image) else 1
    if factor > 1:
        decoded = cv2.imdecode(np.frombuffer(data, np.uint8), REDUCED_JPEG_FLAGS[factor])
        expected = sorted((-(-width // factor), -(-height // factor)))
        if decoded is not None and sorted(decoded.shape[:2]) == expected:
            return decoded, factor
    return decode_image(data, limits), 1


# Media type of each suffix `image_suffix` gives, for serving the stored photos back.
MEDIA_TYPE_OF_SUFFIX = {".jpg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}


def image_suffix(data: bytes) -> str:
    """File suffix of accepted image bytes, from their magic number (for storing enrolment photos)."""
    if data.startswith(b"\x89PNG"):
        return ".png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ".webp"
    return ".jpg"


def _decode_with_opencv(data: bytes, image: Image.Image) -> np.ndarray | None:
    """The common camera photo (a complete colour JPEG) and 8-bit RGB PNGs through OpenCV: it decodes straight to
    BGR and applies the EXIF orientation, about 10x faster here than Pillow plus the conversions. Anything else
    (truncated, CMYK, grey, alpha, palette, WebP) returns None and takes the Pillow path, which reports damage
    precisely."""
    if image.mode != "RGB":
        return None
    complete_jpeg = _complete_rgb_jpeg(data, image)
    # An 8-bit RGB PNG too: OpenCV decodes it straight to BGR, 3 bytes a pixel where Pillow holds 4 and then
    # copies (an all-zero 6000x6000 PNG of 105 kB: 108 MB against about 250 MB at the peak).
    complete_png = image.format == "PNG" and b"IEND" in data[-32:]
    if not (complete_jpeg or complete_png):
        return None
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if decoded is None or decoded.shape[0] * decoded.shape[1] != image.size[0] * image.size[1]:
        return None
    return decoded


def _complete_rgb_jpeg(data: bytes, image: Image.Image) -> bool:
    return image.mode == "RGB" and image.format == "JPEG" and data.rstrip(b"\0").endswith(b"\xff\xd9")


EXIF_ORIENTATION = 0x0112


def _upright(image: Image.Image) -> Image.Image:
    try:
        if image.getexif().get(EXIF_ORIENTATION, 1) == 1:
            return image  # upright already: exif_transpose would return a copy (144 MB for 6000x6000 RGB)
        return ImageOps.exif_transpose(image)
    except (OSError, ValueError, KeyError, TypeError, SyntaxError):
        return image  # a broken EXIF block must not reject an otherwise good photo


def _to_bgr(image: Image.Image) -> np.ndarray:
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        grey = np.asarray(image, dtype=np.float64)
        peak = grey.max() if grey.size else 0.0
        scale = 255.0 / 65535.0 if peak > 255 else 1.0
        grey8 = np.clip(grey * scale, 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(grey8[:, :, None], 3, axis=2))
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        # Transparent areas become a white background, not black.
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, WHITE)
        background.paste(rgba, mask=rgba.getchannel("A"))
        image = background
    elif image.mode != "RGB":
        image = image.convert("RGB")  # L, 1, CMYK, YCbCr, ...
    # Pillow writes the BGR bytes itself: one copy of the pixels instead of an RGB array and its reversal.
    # The array is read-only (it wraps those bytes); the pipeline only reads it and copies what it crops.
    width, height = image.size
    return np.frombuffer(image.tobytes("raw", "BGR"), np.uint8).reshape(height, width, 3)
