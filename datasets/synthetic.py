"""Synthetic US-style plates and road scenes: plate text and a seeded RNG in, labeled images out.

Used for the sample sets in ``datasets/samples/`` and for tests; never as a substitute for
the real training data. Every function is deterministic given its ``numpy.random.Generator``.

Write a sample set (plate crops + ``labels.csv``, scenes + OpenALPR ``.txt`` labels)::

    python -m lpr.datasets.synthetic OUT_DIR [--crops 4] [--scenes 2] [--seed 7] [--force]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np

from lpr.geometry import Box

# Letters most US states leave out of serials (too close to 0 and 1), so generated
# texts look like issued plates.
SERIAL_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
DIGITS = "0123456789"
# Character layouts of US passenger plates (L = letter, D = digit) and how often they
# are drawn: most states issue 6-7 character serials, 5 characters are rarer.
SERIAL_PATTERNS = ("LLLDDDD", "DLLLDDD", "LLDDDDD", "DDDLLL", "LLLDDD", "DLLDDD", "LLDDDD", "DDDDLL", "LLLDD")
PATTERN_WEIGHTS = (0.25, 0.2, 0.1, 0.1, 0.15, 0.05, 0.05, 0.05, 0.05)
STATE_WORDS = (
    "OHIO", "TEXAS", "IOWA", "MAINE", "UTAH", "IDAHO", "NEVADA", "OREGON", "KANSAS",
    "ALABAMA", "GEORGIA", "VERMONT", "INDIANA", "MONTANA", "ARIZONA", "COLORADO",
)
SLOGANS = ("THE GREAT LAKES STATE", "LAND OF OPPORTUNITY", "BEAUTIFUL", "EXPLORE MORE", "THE HEARTLAND")

# Working resolution of a plate before it is resized to the requested size: drawing big
# and shrinking with area averaging gives anti-aliased strokes like a photograph's.
CANVAS_HEIGHT = 240
# US plates are 12 x 6 inches.
PLATE_ASPECT = 2.0
# Serial characters are about 45% of the plate's height and drawn condensed (width about
# half the height), as in the embossed and flat-printed US plate fonts.
CHAR_HEIGHT_FRACTION = 0.45
CHAR_MAX_ASPECT = 0.45
# Hershey glyphs are wide and thin-stroked; squeezing them horizontally by this factor
# after drawing them with a heavy pen gives a bold condensed look.
CONDENSE = 0.6
# Glyphs are drawn at this OpenCV font scale (about 160 px tall), then thickened so their
# strokes are this fraction of the character height, as on real plates (thicker ones
# close the counters of 8, B and 0 into blobs; thinner ones break up when blurred).
GLYPH_SCALE = 8.0
STROKE_FRACTION = 0.12
# The state word and the slogan: small enough that they can never pass for a character row.
STATE_HEIGHT_FRACTION = 0.13
SLOGAN_HEIGHT_FRACTION = 0.08

# BGR colours.
LIGHT_BACKGROUNDS = ((246, 246, 244), (238, 244, 250), (222, 240, 250), (250, 242, 232), (236, 240, 236))
DARK_INKS = ((70, 25, 10), (20, 20, 20), (30, 20, 120), (90, 40, 25), (35, 35, 45))
BAND_COLOURS = ((150, 60, 20), (40, 40, 170), (60, 110, 30), (120, 70, 20), (20, 120, 190))
DARK_BACKGROUNDS = ((40, 20, 10), (25, 25, 25), (30, 55, 20), (70, 30, 15))
LIGHT_INKS = ((245, 245, 245), (90, 215, 245), (235, 235, 225))
CAR_COLOURS = ((40, 40, 40), (200, 200, 205), (30, 30, 140), (120, 60, 20), (90, 95, 100), (235, 235, 235), (40, 90, 40))

SCENE_SIZE = (1280, 720)
SCENE_PLATE_SIZE = (90, 45)


@dataclass(frozen=True)
class PlateStyle:
    """Colours and decorations of one synthetic plate."""

    background: tuple[int, int, int]
    ink: tuple[int, int, int]
    band: tuple[int, int, int] | None
    state_word: str
    slogan: str | None
    light_on_dark: bool


def random_plate_text(rng: np.random.Generator) -> str:
    """RNG in, a 5-7 character US-style serial (letters without I, O, Q; digits) out."""
    pattern = SERIAL_PATTERNS[int(rng.choice(len(SERIAL_PATTERNS), p=PATTERN_WEIGHTS))]
    return "".join(
        SERIAL_LETTERS[int(rng.integers(len(SERIAL_LETTERS)))] if p == "L" else DIGITS[int(rng.integers(10))]
        for p in pattern
    )


def random_style(rng: np.random.Generator, light_on_dark: bool | None = None) -> PlateStyle:
    """RNG in, a plate style out; about one plate in five is light characters on a dark plate."""
    if light_on_dark is None:
        light_on_dark = bool(rng.random() < 0.2)

    def pick(options: tuple) -> tuple[int, int, int]:
        return tuple(int(v) for v in options[int(rng.integers(len(options)))])

    state_word = STATE_WORDS[int(rng.integers(len(STATE_WORDS)))]
    slogan = SLOGANS[int(rng.integers(len(SLOGANS)))] if rng.random() < 0.6 else None
    if light_on_dark:
        return PlateStyle(pick(DARK_BACKGROUNDS), pick(LIGHT_INKS), None, state_word, slogan, True)
    band = pick(BAND_COLOURS) if rng.random() < 0.6 else None
    return PlateStyle(pick(LIGHT_BACKGROUNDS), pick(DARK_INKS), band, state_word, slogan, False)


def draw_three(canvas: np.ndarray, cap: int, stem: int) -> None:
    """Draw a round-topped "3" of height cap and stroke stem, centred on a square canvas (in place)."""
    # OpenCV's font has a flat-topped 3; the common US plate fonts round both bowls.
    mid = canvas.shape[0] // 2
    half_w = int(cap * 0.3)
    top_h, bottom_h = int(cap * 0.235), int(cap * 0.265)
    top_centre = (mid, mid - cap // 2 + stem // 2 + top_h)
    bottom_centre = (mid, mid + cap // 2 - stem // 2 - bottom_h)
    # Angles run clockwise from the right (image y points down): the top bowl from upper
    # left over the top to the waist, the bottom bowl from the waist round to lower left.
    cv2.ellipse(canvas, top_centre, (half_w - stem // 2, top_h), 0, 205, 450, 255, stem, cv2.LINE_AA)
    cv2.ellipse(canvas, bottom_centre, (half_w, bottom_h), 0, 270, 515, 255, stem, cv2.LINE_AA)


def draw_j(canvas: np.ndarray, cap: int, stem: int) -> None:
    """Draw a plain hooked "J" (no top bar) of height cap and stroke stem, centred on a square canvas (in place)."""
    # OpenCV's font gives J a top bar, which few US plate fonts have.
    mid = canvas.shape[0] // 2
    radius = int(cap * 0.24)
    right = mid + radius
    top, bottom = mid - cap // 2 + stem // 2, mid + cap // 2 - stem // 2
    cv2.line(canvas, (right, top), (right, bottom - radius), 255, stem, cv2.LINE_AA)
    cv2.ellipse(canvas, (right - radius, bottom - radius), (radius, radius), 0, 0, 165, 255, stem, cv2.LINE_AA)


def draw_zero(canvas: np.ndarray, cap: int, stem: int) -> None:
    """Draw an unslashed oval "0" of height cap and stroke stem, centred on a square canvas (in place)."""
    # OpenCV's font slashes its zero; US plates use a plain oval.
    mid = canvas.shape[0] // 2
    cv2.ellipse(canvas, (mid, mid), (int(cap * 0.3) - stem // 2, cap // 2 - stem // 2), 0, 0, 360, 255, stem, cv2.LINE_AA)


# Characters whose OpenCV glyph is unlike US plate fonts are drawn by hand.
PLATE_GLYPHS = {"3": draw_three, "J": draw_j, "0": draw_zero}


@cache
def native_stroke(font: int) -> tuple[int, int]:
    """A font in, (cap height, stem width) in pixels of its thinnest pen at GLYPH_SCALE out (measured on "H")."""
    canvas = np.zeros((480, 480), np.uint8)
    cv2.putText(canvas, "H", (80, 320), font, GLYPH_SCALE, 255, 1, cv2.LINE_AA)
    ink = canvas > 127
    ys, _ = np.nonzero(ink)
    row = ink[ys.min() + (ys.max() - ys.min()) // 4]
    first = np.nonzero(row)[0]
    stem = int(np.argmin(row[first[0] :])) if not row[first[0] :].all() else 1
    return int(ys.max() - ys.min() + 1), max(1, stem)


def glyph_mask(char: str, height: int, font: int = cv2.FONT_HERSHEY_SIMPLEX, stroke: float = STROKE_FRACTION) -> np.ndarray:
    """One character and a pixel height in, its (height, w) float32 ink mask in [0, 1] out, condensed, stroke = stroke * height."""
    # OpenCV's pens differ between versions (1-px Hershey vectors in 4.x, an outline
    # font in 5.x), so glyphs are drawn with the thinnest pen and thickened to a measured
    # stroke width. The thickening kernel is wider than tall because the glyph is
    # squeezed horizontally afterwards, which would otherwise thin the vertical stems.
    cap, stem = native_stroke(font)
    grow_x = max(0, int(round(stroke * cap / CONDENSE)) - stem)
    grow_y = max(0, int(round(stroke * cap)) - stem)
    canvas = np.zeros((480, 480), np.uint8)
    if char in PLATE_GLYPHS:
        PLATE_GLYPHS[char](canvas, cap, stem)
    else:
        (tw, th), _ = cv2.getTextSize(char, font, GLYPH_SCALE, 1)
        cv2.putText(canvas, char, ((480 - tw) // 2, (480 + th) // 2), font, GLYPH_SCALE, 255, 1, cv2.LINE_AA)
    if grow_x or grow_y:
        # OpenCV's ellipse of height 1 or 2 is a single pixel wide, so thin kernels are rectangles.
        shape_kind = cv2.MORPH_ELLIPSE if min(grow_x, grow_y) >= 2 else cv2.MORPH_RECT
        kernel = cv2.getStructuringElement(shape_kind, (grow_x + 1, grow_y + 1))
        canvas = cv2.dilate(canvas, kernel)
    ys, xs = np.nonzero(canvas > 127)
    glyph = canvas[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    natural = glyph.shape[1] / glyph.shape[0]
    width = max(2, int(round(height * min(natural * CONDENSE, CHAR_MAX_ASPECT))))
    return cv2.resize(glyph, (width, height), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


def text_mask(text: str, height: int, font: int = cv2.FONT_HERSHEY_SIMPLEX, pen: int = 2) -> np.ndarray:
    """A short string and a pixel height in, its (height, w) float32 ink mask out (small plate lettering)."""
    scale = 2.0
    (tw, th), base = cv2.getTextSize(text, font, scale, pen)
    canvas = np.zeros((th + base + 2 * pen + 4, tw + 2 * pen + 4), np.uint8)
    cv2.putText(canvas, text, (pen + 2, th + pen + 2), font, scale, 255, pen, cv2.LINE_AA)
    ys, xs = np.nonzero(canvas > 127)
    glyphs = canvas[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    width = max(2, int(round(glyphs.shape[1] * height / glyphs.shape[0])))
    return cv2.resize(glyphs, (width, height), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


def paint(image: np.ndarray, mask: np.ndarray, colour: tuple[int, int, int], x: int, y: int) -> None:
    """Blend colour into image through a float mask placed at (x, y), clipped to the image (in place)."""
    h, w = mask.shape
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(image.shape[1], x + w), min(image.shape[0], y + h)
    if x1 <= x0 or y1 <= y0:
        return
    alpha = mask[y0 - y : y1 - y, x0 - x : x1 - x, None]
    region = image[y0:y1, x0:x1].astype(np.float32)
    image[y0:y1, x0:x1] = (region * (1 - alpha) + np.float32(colour) * alpha).astype(np.uint8)


def plate_background(style: PlateStyle, width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """Style and size in, the (height, width, 3) uint8 blank plate out: gradient, optional top band, border."""
    base = np.float32(style.background)
    # A soft vertical gradient, as printed reflective sheeting and uneven light give.
    ramp = np.linspace(1.0, 1.0 - rng.uniform(0.04, 0.14), height, dtype=np.float32)[:, None, None]
    if style.light_on_dark:
        ramp = 2.0 - ramp
    plate = np.clip(base[None, None, :] * ramp * np.ones((1, width, 1), np.float32), 0, 255)
    if style.band is not None:
        # A solid band behind the state word that fades out just above the characters.
        band_height = int(round(height * rng.uniform(0.2, 0.24)))
        solid = int(band_height * 0.8)
        fade = np.ones(band_height, np.float32)
        fade[solid:] = np.linspace(1.0, 0.0, band_height - solid, dtype=np.float32)
        fade = fade[:, None, None]
        plate[:band_height] = plate[:band_height] * (1 - fade) + np.float32(style.band) * fade
    plate = plate.astype(np.uint8)
    edge = tuple(int(v * 0.55) for v in style.ink) if not style.light_on_dark else style.ink
    thickness = max(2, height // 60)
    cv2.rectangle(plate, (thickness, thickness), (width - 1 - thickness, height - 1 - thickness), edge, thickness, cv2.LINE_AA)
    return plate


def render_plate(
    text: str,
    rng: np.random.Generator,
    size: tuple[int, int] = (240, 120),
    style: PlateStyle | None = None,
    rotation: float | None = None,
    blur: float | None = None,
    noise: float | None = None,
) -> np.ndarray:
    """Plate text (A-Z, 0-9) and an RNG in, a (size[1], size[0], 3) uint8 BGR photo-like plate out.

    rotation (degrees), blur (Gaussian sigma at the output size) and noise (pixel sigma)
    are drawn from the RNG when not given; style too.
    """
    if not text or not text.isalnum() or not text.isascii():
        raise ValueError(f"plate text must be letters and digits, got {text!r}")
    text = text.upper()
    style = style or random_style(rng)
    height = CANVAS_HEIGHT
    width = int(round(height * PLATE_ASPECT))
    plate = plate_background(style, width, height, rng)

    # Serial characters, centred slightly below the middle as on most US plates.
    char_height = int(round(height * CHAR_HEIGHT_FRACTION))
    glyphs = [glyph_mask(c, char_height) for c in text]
    gap = int(round(char_height * rng.uniform(0.08, 0.14)))
    total = sum(g.shape[1] for g in glyphs) + gap * (len(glyphs) - 1)
    room = int(width * 0.86)
    if total > room:  # long serials are squeezed, never cut
        squeeze = room / total
        glyphs = [cv2.resize(g, (max(2, int(g.shape[1] * squeeze)), char_height), interpolation=cv2.INTER_AREA) for g in glyphs]
        gap = int(gap * squeeze)
        total = sum(g.shape[1] for g in glyphs) + gap * (len(glyphs) - 1)
    x = (width - total) // 2 + int(rng.integers(-6, 7))
    y = int(round(height * rng.uniform(0.29, 0.34)))
    for glyph in glyphs:
        paint(plate, glyph, style.ink, x, y)
        x += glyph.shape[1] + gap

    # The state word on top, in the band when there is one.
    word = text_mask(style.state_word, int(round(height * STATE_HEIGHT_FRACTION)), cv2.FONT_HERSHEY_DUPLEX, 3)
    if word.shape[1] > width * 0.5:  # keep clear of the bolt holes
        word = cv2.resize(word, (int(width * 0.5), word.shape[0]), interpolation=cv2.INTER_AREA)
    word_colour = (245, 245, 245) if style.band is not None else style.ink
    paint(plate, word, word_colour, (width - word.shape[1]) // 2, int(height * 0.045))
    if style.slogan:
        slogan = text_mask(style.slogan, int(round(height * SLOGAN_HEIGHT_FRACTION)), cv2.FONT_HERSHEY_SIMPLEX, 2)
        if slogan.shape[1] > width * 0.5:  # keep clear of the bolt holes
            slogan = cv2.resize(slogan, (int(width * 0.5), slogan.shape[0]), interpolation=cv2.INTER_AREA)
        paint(plate, slogan, style.ink, (width - slogan.shape[1]) // 2, int(height * 0.85))

    # Bolt holes: two near the top, sometimes two near the bottom.
    radius = max(3, height // 28)
    holes = [(0.2, 0.14), (0.8, 0.14)] + ([(0.2, 0.86), (0.8, 0.86)] if rng.random() < 0.5 else [])
    for fx, fy in holes:
        centre = (int(width * fx), int(height * fy))
        cv2.circle(plate, centre, radius + 2, (170, 170, 170), -1, cv2.LINE_AA)
        cv2.circle(plate, centre, radius, (45, 45, 45), -1, cv2.LINE_AA)

    angle = float(rng.uniform(-3.0, 3.0)) if rotation is None else float(rotation)
    if angle:
        matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
        plate = cv2.warpAffine(plate, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    plate = cv2.resize(plate, size, interpolation=cv2.INTER_AREA)
    sigma = float(rng.uniform(0.4, 0.9)) if blur is None else float(blur)
    if sigma > 0:
        plate = cv2.GaussianBlur(plate, (0, 0), sigma)
    spread = float(rng.uniform(2.0, 6.0)) if noise is None else float(noise)
    if spread > 0:
        plate = np.clip(plate.astype(np.float32) + rng.normal(0, spread, plate.shape).astype(np.float32), 0, 255).astype(np.uint8)
    return plate


def textured(shape: tuple[int, int], rng: np.random.Generator, mean: float, grain: float, smooth: float) -> np.ndarray:
    """(H, W), an RNG, mean level, grain sigma and smoothing sigma in, an (H, W) float32 texture out."""
    texture = rng.normal(0.0, grain, shape).astype(np.float32)
    if smooth > 0:
        texture = cv2.GaussianBlur(texture, (0, 0), smooth) * np.float32(np.sqrt(smooth) * 2)
    return texture + np.float32(mean)


def render_scene(
    text: str,
    rng: np.random.Generator,
    size: tuple[int, int] = SCENE_SIZE,
    plate_size: tuple[int, int] = SCENE_PLATE_SIZE,
    style: PlateStyle | None = None,
) -> tuple[np.ndarray, Box]:
    """Plate text and an RNG in, (a (H, W, 3) uint8 road scene holding that plate on a car, the plate's true Box) out."""
    width, height = size
    # Asphalt: gray with fine grain and a brightness ramp towards the camera.
    ramp = np.linspace(0.85, 1.1, height, dtype=np.float32)[:, None]
    asphalt = textured((height, width), rng, rng.uniform(85, 115), 10.0, 1.2) * ramp
    scene = np.repeat(np.clip(asphalt, 0, 255).astype(np.uint8)[:, :, None], 3, axis=2)

    # Lane markings and kerb: long light bars that a plate finder must not mistake for plates.
    for _ in range(int(rng.integers(2, 5))):
        x0 = int(rng.integers(0, width))
        dx = int(rng.integers(-250, 250))
        cv2.line(scene, (x0, height), (x0 + dx, int(height * rng.uniform(0.2, 0.5))), (205, 205, 200), int(rng.integers(6, 14)), cv2.LINE_AA)
    # Clutter: signs, shadows and boxes of assorted tones.
    for _ in range(int(rng.integers(4, 9))):
        cx, cy = int(rng.integers(0, width)), int(rng.integers(0, height))
        colour = tuple(int(v) for v in rng.integers(20, 230, 3))
        if rng.random() < 0.5:
            cv2.rectangle(scene, (cx, cy), (cx + int(rng.integers(20, 160)), cy + int(rng.integers(20, 120))), colour, -1)
        else:
            cv2.circle(scene, (cx, cy), int(rng.integers(10, 60)), colour, -1, cv2.LINE_AA)
    # A sign with short text, the kind of clutter that looks like writing.
    sx, sy = int(rng.integers(20, width // 4)), int(rng.integers(20, height // 3))
    cv2.rectangle(scene, (sx, sy), (sx + 150, sy + 60), (40, 120, 30), -1)
    cv2.putText(scene, "EXIT 12", (sx + 12, sy + 42), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (240, 240, 240), 2, cv2.LINE_AA)

    # The car: a body with a bumper and lights, its rear facing the camera.
    car_w = int(rng.integers(int(plate_size[0] * 4.5), int(plate_size[0] * 6)))
    car_h = int(car_w * rng.uniform(0.55, 0.7))
    car_x = int(rng.integers(width // 5, width - width // 5 - car_w))
    car_y = int(rng.integers(height // 4, height - car_h - 20))
    body = np.float32(CAR_COLOURS[int(rng.integers(len(CAR_COLOURS)))])
    shade = np.linspace(1.15, 0.8, car_h, dtype=np.float32)[:, None, None]
    patch = np.clip(body[None, None, :] * shade * np.ones((1, car_w, 1), np.float32), 0, 255).astype(np.uint8)
    shadow = (car_x - 10, car_y + car_h - 10, car_x + car_w + 10, car_y + car_h + 18)
    cv2.rectangle(scene, shadow[:2], shadow[2:], (30, 30, 30), -1)
    scene[car_y : car_y + car_h, car_x : car_x + car_w] = patch
    glass = (car_x + car_w // 8, car_y + car_h // 14, car_x + car_w - car_w // 8, car_y + car_h * 3 // 8)
    cv2.rectangle(scene, glass[:2], glass[2:], (70, 60, 50), -1)
    bumper_y = car_y + car_h * 3 // 4
    for wx in (car_x + car_w // 12, car_x + car_w - car_w // 12 - car_w // 6):
        cv2.rectangle(scene, (wx, car_y + car_h - 4), (wx + car_w // 6, car_y + car_h + 16), (18, 18, 18), -1)
    cv2.rectangle(scene, (car_x, bumper_y), (car_x + car_w, car_y + car_h), (35, 35, 35), -1)
    for lx in (car_x + car_w // 20, car_x + car_w - car_w // 20 - car_w // 7):
        cv2.rectangle(scene, (lx, car_y + car_h * 9 // 20), (lx + car_w // 7, car_y + car_h * 12 // 20), (30, 30, 190), -1)

    # The plate, centred on the trunk just above the bumper.
    plate = render_plate(text, rng, (plate_size[0] * 3, plate_size[1] * 3), style, rotation=0.0, blur=0.8, noise=2.0)
    plate = cv2.resize(plate, plate_size, interpolation=cv2.INTER_AREA)
    px = car_x + (car_w - plate_size[0]) // 2 + int(rng.integers(-10, 11))
    py = bumper_y - plate_size[1] - int(rng.integers(4, 14))
    scene[py : py + plate_size[1], px : px + plate_size[0]] = plate

    # Camera softness and sensor noise over the whole frame.
    scene = cv2.GaussianBlur(scene, (0, 0), 0.6)
    scene = np.clip(scene.astype(np.float32) + rng.normal(0, 1.5, scene.shape).astype(np.float32), 0, 255).astype(np.uint8)
    return scene, Box(px, py, plate_size[0], plate_size[1])


def encode(image: np.ndarray, suffix: str) -> bytes:
    """(H, W, 3) uint8 image and a file suffix (".png", ".jpg") in, the encoded bytes out."""
    params = [cv2.IMWRITE_JPEG_QUALITY, 80] if suffix.lower() in (".jpg", ".jpeg") else [cv2.IMWRITE_PNG_COMPRESSION, 9]
    ok, data = cv2.imencode(suffix, image, params)
    if not ok:
        raise ValueError(f"cannot encode an image as {suffix}")
    return data.tobytes()


def sample_set(seed: int, crops: int, scenes: int) -> dict[str, bytes]:
    """A seed and counts in, the files of a sample set out: relative path -> contents."""
    rng = np.random.default_rng(seed)
    files: dict[str, bytes] = {}
    rows = ["image,state,plate"]
    for i in range(crops):
        text = random_plate_text(rng)
        # Every third crop is light-on-dark so both polarities are shown.
        style = random_style(rng, light_on_dark=(i % 3 == 2))
        name = f"synthetic-{i + 1:02d}.png"
        files[f"crops/{name}"] = encode(render_plate(text, rng, (240, 120), style), ".png")
        rows.append(f"{name},us,{text}")
    files["crops/labels.csv"] = ("\n".join(rows) + "\n").encode()
    for i in range(scenes):
        text = random_plate_text(rng)
        image, box = render_scene(text, rng, style=random_style(rng, light_on_dark=False))
        name = f"scene-{i + 1:02d}.jpg"
        files[f"scenes/{name}"] = encode(image, ".jpg")
        files[f"scenes/scene-{i + 1:02d}.txt"] = f"{name}\t{box.x}\t{box.y}\t{box.w}\t{box.h}\t{text}\n".encode()
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a synthetic sample set: crops/ (labels.csv) and scenes/ (OpenALPR .txt).")
    parser.add_argument("out", type=Path, help="folder to write crops/ and scenes/ into")
    parser.add_argument("--crops", type=int, default=4, help="number of plate crops")
    parser.add_argument("--scenes", type=int, default=2, help="number of road scenes")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--force", action="store_true", help="overwrite files that already exist")
    args = parser.parse_args(argv)
    files = sample_set(args.seed, args.crops, args.scenes)
    existing = [name for name in files if (args.out / name).exists()]
    if existing and not args.force:
        print(f"error: {args.out / existing[0]} already exists (use --force to overwrite)", file=sys.stderr)
        return 1
    for name, data in files.items():
        path = args.out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    print(f"wrote {args.crops} crops and {args.scenes} scenes under {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
