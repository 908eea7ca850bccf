"""Bad images through the real `lpr recognize` (a subprocess): each one is one error line, the rest are read."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from lpr import imageio
from lpr.errors import ImageReadError
from lpr.imageio import decode_image, header_size

REPO = Path(__file__).resolve().parent.parent
GOOD = sorted((REPO / "datasets" / "samples" / "crops").glob("*.png"))[0]
HUGE = 30000
UNICODE_NAME = "plaque été 車 1.png"


def run_lpr(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run `python -m lpr ARGS` and capture its output."""
    return subprocess.run([sys.executable, "-m", "lpr", *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def chunk(kind: bytes, payload: bytes) -> bytes:
    """A PNG chunk of the given kind and payload, with its CRC."""
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_bomb(width: int = HUGE, height: int = HUGE) -> bytes:
    """A small, well-formed PNG whose header declares width x height (its data would inflate to gigabytes)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (width + 1) * 64, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def jpeg_bomb() -> bytes:
    """JPEG start, a baseline frame header declaring HUGE x HUGE, and junk."""
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, HUGE, HUGE, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + sof + b"\x00" * 64 + b"\xff\xd9"


def bmp_bomb() -> bytes:
    """A BMP file header and info header declaring HUGE x HUGE, 24 bits, no pixels."""
    info = struct.pack("<IiiHHIIiiII", 40, HUGE, HUGE, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 54 + 16, 0, 0, 54) + info + b"\x00" * 16


def gif_bomb() -> bytes:
    """A GIF whose screen and only image declare HUGE x HUGE."""
    screen = struct.pack("<HHBBB", HUGE, HUGE, 0, 0, 0)
    image = b"\x2c" + struct.pack("<HHHHB", 0, 0, HUGE, HUGE, 0) + b"\x02\x02\x44\x01\x00"
    return b"GIF89a" + screen + image + b"\x3b"


def webp_bomb() -> bytes:
    """An extended (VP8X) WebP header declaring a HUGE x HUGE canvas."""
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00" + (HUGE - 1).to_bytes(3, "little") * 2
    return b"RIFF" + struct.pack("<I", 4 + len(vp8x)) + b"WEBP" + vp8x


def tiff_bomb() -> bytes:
    """A little-endian TIFF whose only image directory declares HUGE x HUGE 8-bit gray."""
    entries = [(256, 4, 1, HUGE), (257, 4, 1, HUGE), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1), (273, 4, 1, 8), (278, 4, 1, HUGE), (279, 4, 1, 16)]
    directory = struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", *e) for e in entries) + struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", 8 + 16) + b"\x00" * 16 + directory


BOMBS = {"bomb.png": png_bomb, "bomb.jpg": jpeg_bomb, "bomb.bmp": bmp_bomb, "bomb.gif": gif_bomb, "bomb.webp": webp_bomb, "bomb.tif": tiff_bomb}


def encode(image: np.ndarray, suffix: str) -> bytes:
    """An array in, its encoded bytes out."""
    ok, data = cv2.imencode(suffix, image)
    assert ok
    return data.tobytes()


def build_bad_folder(folder: Path) -> dict[str, str | None]:
    """Write every bad and unusual case into folder; returns {file name: expected error text, or None if readable}."""
    good = cv2.imread(str(GOOD))
    jpeg = encode(good, ".jpg")
    rng = np.random.default_rng(1)
    files: dict[str, tuple[bytes, str | None]] = {
        "empty.jpg": (b"", "empty file"),
        "truncated.jpg": (jpeg[: len(jpeg) // 2], "not a readable image"),
        "random.jpg": (rng.integers(0, 256, 5000, dtype=np.uint8).tobytes(), "not a readable image"),
        "notes.png": (b"just some text, not a picture\n" * 20, "not a readable image"),
        "one-pixel.png": (encode(np.zeros((1, 1, 3), np.uint8), ".png"), "too small"),
        "sixteen-bit.png": (encode(good.astype(np.uint16) * 257, ".png"), None),
        "rgba.png": (encode(np.dstack([good, np.full(good.shape[:2], 255, np.uint8)]), ".png"), None),
        "gray.png": (encode(cv2.cvtColor(good, cv2.COLOR_BGR2GRAY), ".png"), None),
        UNICODE_NAME: (encode(good, ".png"), None),
        "good.png": (GOOD.read_bytes(), None),
    }
    files.update({name: (make(), f"{HUGE}x{HUGE}") for name, make in BOMBS.items()})
    for name, (data, _) in files.items():
        (folder / name).write_bytes(data)
    return {name: expected for name, (_, expected) in files.items()}


@pytest.fixture(scope="module")
def bad_folder(tmp_path_factory) -> tuple[Path, dict[str, str | None]]:
    folder = tmp_path_factory.mktemp("bad images")
    return folder, build_bad_folder(folder)


@pytest.fixture(scope="module")
def json_run(bad_folder) -> tuple[subprocess.CompletedProcess, dict[str, dict]]:
    """One `lpr recognize --json --cropped` over the folder and a missing path; (process, records by file name)."""
    folder, _ = bad_folder
    result = run_lpr("recognize", str(folder), str(folder / "missing.jpg"), "--cropped", "--json")
    records = [json.loads(line) for line in result.stdout.splitlines()]
    return result, {Path(r["image"]).name: r for r in records}


def test_json_run_reports_every_image_and_fails_at_the_end(json_run, bad_folder):
    result, records = json_run
    _, expected = bad_folder
    listed = {name for name in expected if Path(name).suffix in (".png", ".jpg", ".bmp", ".tif")}
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert set(records) == listed | {"missing.jpg"}
    assert records["missing.jpg"]["error"].endswith("missing.jpg: no such file")


@pytest.mark.parametrize(
    ("name", "reason"),
    [("empty.jpg", "empty file"), ("truncated.jpg", "not a readable image"), ("random.jpg", "not a readable image"),
     ("notes.png", "not a readable image"), ("one-pixel.png", "too small"), ("bomb.png", "30000x30000"),
     ("bomb.jpg", "30000x30000"), ("bomb.bmp", "30000x30000"), ("bomb.tif", "30000x30000")],
)
def test_bad_image_is_one_error_line_in_its_record(json_run, name, reason):
    record = json_run[1][name]
    assert record["plates"] == []
    assert reason in record["error"] and "\n" not in record["error"]
    assert record["error"].startswith(record["image"] + ": ")


@pytest.mark.parametrize("name", ["sixteen-bit.png", "rgba.png", "gray.png", UNICODE_NAME])
def test_unusual_but_valid_images_read_like_the_original(json_run, name):
    records = json_run[1]
    assert records[name]["error"] is None
    assert records["good.png"]["plates"], "the sample crop itself is read"
    assert [p["plate"] for p in records[name]["plates"]] == [p["plate"] for p in records["good.png"]["plates"]]


def test_plain_output_puts_one_line_per_bad_image_on_stderr(bad_folder):
    folder, expected = bad_folder
    result = run_lpr("recognize", str(folder), "--cropped", "--workers", "1")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    bad = sorted(n for n, e in expected.items() if e is not None and Path(n).suffix in (".png", ".jpg", ".bmp", ".tif"))
    assert sorted(Path(line.split(": ", 2)[1]).name for line in errors) == bad
    assert all(line.startswith("lpr: ") for line in errors)
    assert {Path(line.split(": ")[0]).name for line in result.stdout.splitlines()} == {
        n for n, e in expected.items() if e is None
    }


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_declared_size_is_refused_before_decoding(name, monkeypatch):
    data = BOMBS[name]()
    assert header_size(data) == (HUGE, HUGE)

    def must_not_decode(*args, **kwargs):
        raise AssertionError("cv2.imdecode called on an oversized image")

    monkeypatch.setattr(imageio.cv2, "imdecode", must_not_decode)
    with pytest.raises(ImageReadError, match=f"{name}: image declares {HUGE}x{HUGE} pixels, over the limit"):
        decode_image(data, name)


def test_formats_without_a_header_check_still_stop_at_the_pixel_limit():
    # BigTIFF and other formats header_size does not parse fall back to OpenCV's own limit,
    # set from MAX_PIXELS; a real PNG just over the limit shows that limit is in force.
    side = int(imageio.MAX_PIXELS**0.5) + 1
    with pytest.raises(ImageReadError, match="not a readable image"):
        decode_image(png_bomb(side, side), "big.png", max_pixels=10**12)


def test_unreadable_file_is_an_error_line(tmp_path: Path):
    locked = tmp_path / "locked.png"
    locked.write_bytes(GOOD.read_bytes())
    good = tmp_path / "good.png"
    good.write_bytes(GOOD.read_bytes())
    if os.geteuid() != 0:
        locked.chmod(0)
        result = run_lpr("recognize", str(locked), str(good), "--cropped", "--json")
    else:
        # root reads any file whatever its mode: simulate the refusal inside the real command.
        script = (
            "import pathlib, sys\n"
            "real = pathlib.Path.read_bytes\n"
            "def read_bytes(self):\n"
            "    if self.name == 'locked.png':\n"
            "        raise PermissionError(13, 'Permission denied', str(self))\n"
            "    return real(self)\n"
            "pathlib.Path.read_bytes = read_bytes\n"
            "from lpr.cli import main\n"
            "sys.exit(main(sys.argv[1:]))\n"
        )
        args = ["recognize", str(locked), str(good), "--cropped", "--json", "--workers", "1"]
        result = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stderr
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["error"] == f"{locked}: permission denied"
    assert second["error"] is None and second["plates"]
