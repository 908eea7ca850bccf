"""Reading images safely: any file in, an 8-bit BGR array out, or an ImageReadError with one line."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np

# OpenCV's own decoder limit, a second guard behind the header check below; it is read
# when the codecs are first used, so it must be set before cv2 decodes anything.
MAX_PIXELS = 50_000_000
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(MAX_PIXELS))

import cv2  # noqa: E402
from imutils import paths as imutils_paths  # noqa: E402

from .errors import ImageReadError  # noqa: E402

# An image must be at least this many pixels on each side: segmentation needs 4 rows and
# columns, and a smaller image cannot hold anything readable anyway.
MIN_SIDE = 4
# Bytes read to find an image's size without decoding it; JPEG EXIF/ICC segments before
# the frame header rarely exceed this.
HEADER_BYTES = 1 << 18

_JPEG_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_JPEG_STANDALONE = {0x01, 0xD8} | set(range(0xD0, 0xD8))
_TIFF_WIDTH, _TIFF_LENGTH = 256, 257
# TIFF field types that may hold ImageWidth / ImageLength: SHORT (3) and LONG (4).
_TIFF_TYPES = {3: ("H", 2), 4: ("I", 4)}

Size = tuple[int, int]


def _png_size(data: bytes) -> Size | None:
    """PNG bytes in, (width, height) of the IHDR chunk out, or None if it is cut short."""
    if len(data) < 24:
        return None
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def _bmp_size(data: bytes) -> Size | None:
    """BMP bytes in, (width, height) of its info header out (OS/2 and Windows layouts), or None."""
    if len(data) < 26:
        return None
    (info_size,) = struct.unpack("<I", data[14:18])
    if info_size == 12:  # OS/2 BITMAPCOREHEADER: 16-bit unsigned sizes
        width, height = struct.unpack("<HH", data[18:22])
    else:
        width, height = struct.unpack("<ii", data[18:26])
    return abs(width), abs(height)


def _jpeg_size(data: bytes) -> Size | None:
    """JPEG bytes in, (width, height) of the first frame header out, or None if there is none."""
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            pos += 1
            continue
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if marker in _JPEG_STANDALONE:
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if marker in _JPEG_SOF_MARKERS:
            if pos + 9 > len(data):
                return None
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return int(width), int(height)
        pos += 2 + length
    return None


def _gif_size(data: bytes) -> Size | None:
    """GIF bytes in, the logical screen (width, height) out, or None if cut short."""
    if len(data) < 10:
        return None
    width, height = struct.unpack("<HH", data[6:10])
    return int(width), int(height)


def _webp_size(data: bytes) -> Size | None:
    """WebP bytes in, (width, height) of its VP8, VP8L or VP8X chunk out, or None."""
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25:
        (bits,) = struct.unpack("<I", data[21:25])
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    return None


def _tiff_size(data: bytes) -> Size | None:
    """Classic TIFF bytes in, (width, height) of the first image directory out, or None."""
    order = "<" if data[:2] == b"II" else ">"
    if len(data) < 8:
        return None
    (offset,) = struct.unpack(order + "I", data[4:8])
    if offset + 2 > len(data):
        return None
    (count,) = struct.unpack(order + "H", data[offset : offset + 2])
    found: dict[int, int] = {}
    for entry in range(offset + 2, min(offset + 2 + 12 * count, len(data) - 11), 12):
        tag, kind, _ = struct.unpack(order + "HHI", data[entry : entry + 8])
        if tag in (_TIFF_WIDTH, _TIFF_LENGTH) and kind in _TIFF_TYPES:
            code, size = _TIFF_TYPES[kind]
            (found[tag],) = struct.unpack(order + code, data[entry + 8 : entry + 8 + size])
    if _TIFF_WIDTH in found and _TIFF_LENGTH in found:
        return found[_TIFF_WIDTH], found[_TIFF_LENGTH]
    return None


def header_size(data: bytes) -> Size | None:
    """(width, height) declared by a PNG, JPEG, BMP, GIF, WebP or TIFF header, or None when not found.

    Never raises: any bytes in, a size or None out.
    """
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return _png_size(data)
    if data[:2] == b"BM":
        return _bmp_size(data)
    if data[:2] == b"\xff\xd8":
        return _jpeg_size(data)
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return _gif_size(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp_size(data)
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return _tiff_size(data)
    return None


def file_header_size(path: str | os.PathLike) -> Size | None:
    """Image file path in, the (width, height) its header declares out; None when unknown or unreadable."""
    try:
        with open(path, "rb") as stream:
            return header_size(stream.read(HEADER_BYTES))
    except OSError:
        return None


def decode_image(data: bytes, name: str = "image", max_pixels: int = MAX_PIXELS, min_side: int = MIN_SIDE) -> np.ndarray:
    """Encoded image bytes in, (H, W, 3) uint8 BGR array out; 16-bit, grayscale and alpha images are converted.

    Raises ImageReadError (one line, starting with name) for empty, undecodable, too large
    (checked on the header before decoding) or too small images.
    """
    if not data:
        raise ImageReadError(f"{name}: empty file")
    declared = header_size(data)
    if declared is not None and declared[0] * declared[1] > max_pixels:
        raise ImageReadError(
            f"{name}: image declares {declared[0]}x{declared[1]} pixels, over the limit of {max_pixels} pixels"
        )
    buffer = np.frombuffer(data, dtype=np.uint8)
    try:
        # Formats without a header check above still stop at OpenCV's own pixel limit.
        image = cv2.imdecode(buffer, cv2.IMREAD_UNCHANGED)
    except (cv2.error, MemoryError, OverflowError):
        image = None
    if image is None or image.size == 0:
        raise ImageReadError(f"{name}: not a readable image (corrupt, truncated or unsupported format)")
    height, width = image.shape[:2]
    if height * width > max_pixels:
        raise ImageReadError(f"{name}: image is {width}x{height} pixels, over the limit of {max_pixels} pixels")
    if min(height, width) < min_side:
        raise ImageReadError(f"{name}: image is {width}x{height} pixels, too small (at least {min_side}x{min_side})")
    try:
        return to_bgr8(image)
    except ValueError as error:
        raise ImageReadError(f"{name}: {error}") from None


def to_bgr8(image: np.ndarray) -> np.ndarray:
    """Any decoded image array (gray, BGR, BGRA; 8/16-bit, other integers or float) in, (H, W, 3) uint8 BGR out.

    Raises ValueError for a channel count that is not 1, 3 or 4.
    """
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 3, 4)):
        raise ValueError(f"unsupported image shape {image.shape} (expected gray, BGR or BGRA)")
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype != np.uint8:
        # Scale floats in [0, 1] up; anything else is clipped to [0, 255]. nan_to_num first,
        # so an all-NaN image neither warns nor fails.
        image = np.nan_to_num(np.asarray(image, dtype=np.float64), nan=0.0, posinf=255.0, neginf=0.0)
        scale = 255.0 if image.size and float(image.max()) <= 1.0 else 1.0
        image = np.clip(image * scale, 0, 255).astype(np.uint8)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 1:
        return cv2.cvtColor(image[:, :, 0], cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return np.ascontiguousarray(image)


def read_image_bytes(path: str | os.PathLike) -> bytes:
    """Image file path in, its encoded bytes out (not decoded); raises ImageReadError with a one-line reason."""
    path = Path(path)
    if not path.exists():
        raise ImageReadError(f"{path}: no such file")
    if path.is_dir():
        raise ImageReadError(f"{path}: is a folder, not an image")
    try:
        return path.read_bytes()
    except PermissionError:
        raise ImageReadError(f"{path}: permission denied") from None
    except OSError as error:
        raise ImageReadError(f"{path}: cannot read ({error.strerror or error})") from None


def read_image(path: str | os.PathLike, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Image file path in, (H, W, 3) uint8 BGR array out; raises ImageReadError with a one-line reason."""
    return decode_image(read_image_bytes(path), str(Path(path)), max_pixels)


def list_images(paths: list[str | os.PathLike]) -> list[Path]:
    """Files and folders in, image paths out: folders are searched recursively for images (sorted), files kept as given."""
    found: list[Path] = []
    for item in paths:
        item = Path(item)
        if item.is_dir():
            found.extend(sorted(Path(p) for p in imutils_paths.list_images(str(item))))
        else:
            found.append(item)
    return found
