"""lpr.imageio: any file in, an 8-bit BGR array or a one-line ImageReadError out."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from lpr import imageio
from lpr.errors import ImageReadError
from lpr.imageio import decode_image, header_size, list_images, read_image, to_bgr8


def encoded(image: np.ndarray, suffix: str, *params: int) -> bytes:
    """An array and a suffix in, the encoded file bytes out."""
    ok, data = cv2.imencode(suffix, image, list(params))
    assert ok
    return data.tobytes()


def gradient_image(height: int = 23, width: int = 37) -> np.ndarray:
    """A (height, width, 3) uint8 BGR image whose channels differ, so channel order mistakes show."""
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([x * 255 // width, y * 255 // height, np.full_like(x, 200)], axis=2).astype(np.uint8)


def png_header(width: int, height: int) -> bytes:
    """The signature and IHDR chunk of an 8-bit RGB PNG declaring width x height, and nothing else."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return b"\x89PNG\r\n\x1a\n" + chunk


def test_png_round_trip_is_exact():
    image = gradient_image()
    out = decode_image(encoded(image, ".png"))
    assert out.dtype == np.uint8 and out.shape == (23, 37, 3)
    assert np.array_equal(out, image)


def test_jpeg_decodes_close_to_original():
    image = gradient_image()
    out = decode_image(encoded(image, ".jpg", cv2.IMWRITE_JPEG_QUALITY, 95))
    assert out.shape == image.shape and out.dtype == np.uint8
    assert np.abs(out.astype(int) - image.astype(int)).mean() < 4


def test_16_bit_png_keeps_the_high_byte():
    image = np.zeros((4, 5, 3), np.uint16)
    image[..., 0] = 65535
    image[..., 1] = 100 * 256 + 255
    out = decode_image(encoded(image, ".png"))
    assert out.dtype == np.uint8
    assert (out[..., 0] == 255).all() and (out[..., 1] == 100).all() and (out[..., 2] == 0).all()


def test_rgba_png_drops_alpha():
    image = np.zeros((6, 7, 4), np.uint8)
    image[..., :3] = (10, 20, 30)
    image[..., 3] = 0  # fully transparent pixels still keep their colour
    out = decode_image(encoded(image, ".png"))
    assert out.shape == (6, 7, 3)
    assert (out == (10, 20, 30)).all()


def test_grayscale_png_becomes_three_equal_channels():
    gray = np.arange(48, dtype=np.uint8).reshape(6, 8) * 5
    out = decode_image(encoded(gray, ".png"))
    assert out.shape == (6, 8, 3)
    for channel in range(3):
        assert np.array_equal(out[..., channel], gray)


def test_float_images_are_scaled_to_8_bit():
    assert to_bgr8(np.full((2, 2), 1.0, np.float32)).max() == 255
    assert to_bgr8(np.full((2, 2, 3), 0.5, np.float64))[0, 0, 0] == 127


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8)), "not a readable image"),
        (b"just some text, not an image\n" * 10, "not a readable image"),
    ],
)
def test_undecodable_bytes_raise(data, reason):
    with pytest.raises(ImageReadError, match=reason):
        decode_image(data, "input")


@pytest.mark.parametrize("fraction", [0.5, 0.1])
def test_truncated_jpeg_raises(fraction):
    data = encoded(gradient_image(120, 200), ".jpg")
    with pytest.raises(ImageReadError, match="not a readable image"):
        decode_image(data[: int(len(data) * fraction)], "cut.jpg")


def test_truncated_png_raises():
    data = encoded(gradient_image(120, 200), ".png")
    with pytest.raises(ImageReadError):
        decode_image(data[: len(data) // 2], "cut.png")


def test_error_messages_are_one_line_and_name_the_input():
    with pytest.raises(ImageReadError) as caught:
        decode_image(b"\x00" * 10, "some/file.png")
    assert str(caught.value).startswith("some/file.png: ")
    assert "\n" not in str(caught.value)


def test_header_size_of_png_jpeg_bmp():
    image = gradient_image(23, 37)
    assert header_size(encoded(image, ".png")) == (37, 23)
    assert header_size(encoded(image, ".jpg")) == (37, 23)
    assert header_size(encoded(image, ".jpg", cv2.IMWRITE_JPEG_PROGRESSIVE, 1)) == (37, 23)
    assert header_size(encoded(image, ".bmp")) == (37, 23)
    assert header_size(b"GIF89a") is None  # a GIF start cut before its screen size
    assert header_size(b"RIFF\0\0\0\0WEBPVP8 ") is None
    assert header_size(b"") is None
    assert header_size(b"\xff\xd8") is None  # a JPEG start with no frame header


def test_huge_declared_png_rejected_before_decoding(monkeypatch):
    data = png_header(30000, 30000)
    assert header_size(data) == (30000, 30000)

    def must_not_decode(*args, **kwargs):
        raise AssertionError("cv2.imdecode called on an oversized image")

    monkeypatch.setattr(imageio.cv2, "imdecode", must_not_decode)
    with pytest.raises(ImageReadError, match="30000x30000"):
        decode_image(data, "bomb.png")


def test_max_pixels_limit_is_configurable():
    data = encoded(gradient_image(20, 20), ".png")
    assert decode_image(data, max_pixels=400).shape == (20, 20, 3)
    with pytest.raises(ImageReadError, match="over the limit"):
        decode_image(data, max_pixels=399)


def test_read_image_non_ascii_path_with_spaces(tmp_path: Path):
    path = tmp_path / "plaque été 車 1.png"
    image = gradient_image()
    path.write_bytes(encoded(image, ".png"))
    assert np.array_equal(read_image(path), image)
    assert np.array_equal(read_image(str(path)), image)


def test_read_image_missing_path(tmp_path: Path):
    with pytest.raises(ImageReadError, match="no such file"):
        read_image(tmp_path / "absent.jpg")


def test_read_image_folder(tmp_path: Path):
    with pytest.raises(ImageReadError, match="is a folder"):
        read_image(tmp_path)


def test_read_image_text_file_named_png(tmp_path: Path):
    path = tmp_path / "notes.png"
    path.write_text("hello, not a picture\n")
    with pytest.raises(ImageReadError, match="notes.png: not a readable image"):
        read_image(path)


def test_read_image_empty_file(tmp_path: Path):
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    with pytest.raises(ImageReadError, match="empty file"):
        read_image(path)


def test_list_images_searches_folders_and_keeps_files(tmp_path: Path):
    data = encoded(gradient_image(), ".png")
    (tmp_path / "sub").mkdir()
    for name in ("b.png", "a.jpg", "sub/c.png"):
        (tmp_path / name).write_bytes(data)
    (tmp_path / "notes.txt").write_text("x")
    given = tmp_path / "whatever.dat"
    found = list_images([tmp_path, given])
    assert found[-1] == given  # files are kept as given, even if not images
    assert sorted(found[:-1]) == found[:-1]
    assert {p.relative_to(tmp_path).as_posix() for p in found[:-1]} == {"a.jpg", "b.png", "sub/c.png"}
