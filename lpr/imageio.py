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

_JPEG_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def header_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) declared by a PNG, JPEG or BMP header, or None when the format is not one of those."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:2] == b"BM" and len(data) >= 26:
        width, height = struct.unpack("<ii", data[18:26])
        return abs(width), abs(height)
    if data[:2] == b"\xff\xd8":
        pos = 2
        while pos + 4 <= len(data):
            if data[pos] != 0xFF:
                pos += 1
                continue
            marker = data[pos + 1]
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
                pos += 1 if marker == 0xFF else 2
                continue
            (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
            if marker in _JPEG_SOF_MARKERS and pos + 9 <= len(data):
                height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
                return int(width), int(height)
            pos += 2 + length
        return None
    return None


def decode_image(data: bytes, name: str = "image", max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Encoded image bytes in, (H, W, 3) uint8 BGR array out; 16-bit, grayscale and alpha images are converted."""
    if not data:
        raise ImageReadError(f"{name}: empty file")
    declared = header_size(data)
    if declared is not None and declared[0] * declared[1] > max_pixels:
        raise ImageReadError(
            f"{name}: image declares {declared[0]}x{declared[1]} pixels, over the limit of {max_pixels} pixels"
        )
    buffer = np.frombuffer(data, dtype=np.uint8)
    try:
        image = cv2.imdecode(buffer, cv2.IMREAD_UNCHANGED)
    except cv2.error:
        image = None
    if image is None or image.size == 0:
        raise ImageReadError(f"{name}: not a readable image (corrupt, truncated or unsupported format)")
    return to_bgr8(image)


def to_bgr8(image: np.ndarray) -> np.ndarray:
    """Any decoded image array (gray, BGR, BGRA; 8/16-bit or float) in, (H, W, 3) uint8 BGR out."""
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype != np.uint8:
        image = np.asarray(image, dtype=np.float64)
        peak = float(np.nanmax(image)) if image.size else 0.0
        scale = 255.0 if peak <= 1.0 else 1.0
        image = np.clip(np.nan_to_num(image) * scale, 0, 255).astype(np.uint8)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] == 1:
        return cv2.cvtColor(image[:, :, 0], cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.ndim == 3 and image.shape[2] == 3:
        return np.ascontiguousarray(image)
    raise ImageReadError(f"unsupported image shape {image.shape}")


def read_image(path: str | os.PathLike, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Image file path in, (H, W, 3) uint8 BGR array out; raises ImageReadError with a one-line reason."""
    path = Path(path)
    if not path.exists():
        raise ImageReadError(f"{path}: no such file")
    if path.is_dir():
        raise ImageReadError(f"{path}: is a folder, not an image")
    try:
        data = path.read_bytes()
    except PermissionError:
        raise ImageReadError(f"{path}: permission denied") from None
    except OSError as error:
        raise ImageReadError(f"{path}: cannot read ({error.strerror or error})") from None
    return decode_image(data, str(path), max_pixels)


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
