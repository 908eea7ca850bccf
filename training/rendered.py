"""Rendered training plates: character tiles of a plate font in, labeled plate crops in a region's format out.

No photographed Mercosul plate (Brazil's LLL-N-L-NN, since 2018) is in any data set, but its
font is the German FE-Schrift, whose sheet is among the European character tiles. Plates are
drawn from those tiles (white plate, blue band with the country's name, black or coloured
characters), then warped, blurred, noised and compressed like the crops of real plates, and
written as a crop folder (labels.csv image,state,plate) that `lpr train` learns from, with a
rendered.json saying how they were drawn: training learns their font from them, but not how
common their layout is on the road (TrainingConfig.format_rule_share).

Each character's tiles are split by their place in the sheet: a third of them (part "test")
are never drawn on training plates, so a test set rendered from them is read with glyphs the
model has not seen. Run from the repository root:

    python -m lpr.training.rendered ../shared/data/eu-chars --font germany --count 1500 --out /tmp/mercosul
    python -m lpr.training.rendered ../shared/data/eu-chars --font germany --count 300 --part test --seed 1 --out /tmp/mercosul-test

With --into SCENES the plates are drawn over the labeled plates of a scene folder instead,
as high as each one and centred on it: scenes of Mercosul plates to read end to end.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from lpr.datasets import RENDERED_MARKER, Dataset, load_dataset
from lpr.errors import LprError
from lpr.geometry import Box
from lpr.imageio import read_image

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGITS = "0123456789"
# Every third tile of a character (by its place in the sheet) is kept for test plates.
TEST_EVERY = 3


@dataclass(frozen=True)
class PlateDesign:
    """How a region's rendered plates are laid out, as fractions of the plate's height unless said otherwise."""

    # Mercosul plates are 400 x 130 mm.
    aspect: float = 400 / 130
    # The blue band across the top, with the country's name in white.
    band_height: float = 0.23
    band_colour: tuple[int, int, int] = (153, 51, 0)
    band_text: str = "BRASIL"
    # Characters about half the plate high, centred below the band.
    character_height: float = 0.5
    # The gap between characters, as a fraction of the character height.
    character_gap: float = 0.1
    # The most of the plate's width the characters span (a wider font is condensed to it), leaving room for the QR code.
    characters_width: float = 0.84
    # Letters (L) and digits (D) in the order the format puts them.
    layout: str = "LLLDLDD"
    # Character colours (BGR) and how often each is drawn: black on private cars, red on commercial ones,
    # blue on official ones, green on special ones.
    ink_colours: tuple[tuple[int, int, int], ...] = ((20, 20, 20), (30, 30, 170), (140, 60, 20), (40, 110, 30))
    ink_weights: tuple[float, ...] = (0.8, 0.12, 0.05, 0.03)


MERCOSUL = PlateDesign()
# Canvas height a plate is drawn at before it is warped and shrunk to the crop size (anti-aliased strokes).
CANVAS_HEIGHT = 260
# br-plates crops are scaled to 80 px high.
CROP_HEIGHT = 80


def font_tiles(folder: Path, font: str, part: str) -> dict[str, list[np.ndarray]]:
    """A character-tile folder (labels.csv image,char; sources.csv naming each tile's font), a font and a part ("train" or "test") in, {char: binary tiles (uint8 HxW, ink 255)} out."""
    if part not in ("train", "test"):
        raise ValueError(f"part is 'train' or 'test', got {part!r}")
    dataset = load_dataset(folder)
    if dataset.kind != "characters":
        raise ValueError(f"{folder}: not a character-tile folder (labels.csv image,char)")
    sources = folder / "sources.csv"
    if not sources.is_file():
        raise ValueError(f"{folder}: no sources.csv naming the tiles' fonts")
    with sources.open(newline="", encoding="utf-8") as handle:
        fonts = {row["image"]: row.get("font", "") for row in csv.DictReader(handle)}
    by_char: dict[str, list[Path]] = defaultdict(list)
    for image in dataset.images:
        if fonts.get(image.path.name) == font:
            by_char[image.plates[0].text].append(image.path)
    if not by_char:
        raise ValueError(f"{folder}: no tiles of font {font!r} in sources.csv")
    tiles: dict[str, list[np.ndarray]] = {}
    for char, paths in sorted(by_char.items()):
        chosen = [p for i, p in enumerate(sorted(paths)) if (i % TEST_EVERY == TEST_EVERY - 1) == (part == "test")]
        tiles[char] = [_ink(cv2.imread(str(p), cv2.IMREAD_GRAYSCALE)) for p in chosen]
    return tiles


def _ink(tile: np.ndarray) -> np.ndarray:
    """A font sheet's tile (uint8 HxW, dark ink on light paper) in, its ink as 255 on 0, cut to the ink's bounds, out."""
    # Dark is ink: a bold glyph cut tight can cover more of its tile than the paper does.
    _, binary = cv2.threshold(tile, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    ys, xs = np.nonzero(binary)
    return binary[ys.min():ys.max() + 1, xs.min():xs.max() + 1]


def random_text(layout: str, rng: np.random.Generator) -> str:
    """A layout ("LLLDLDD") and an RNG in, a plate text in it out."""
    return "".join(rng.choice(list(LETTERS if kind == "L" else DIGITS)) for kind in layout)


def draw_plate(text: str, tiles: Mapping[str, Sequence[np.ndarray]], design: PlateDesign, rng: np.random.Generator) -> np.ndarray:
    """A plate text, font tiles and a design in, the flat plate (uint8 HxWx3 BGR, CANVAS_HEIGHT high) out."""
    height = CANVAS_HEIGHT
    width = int(round(height * design.aspect))
    paper = int(rng.integers(225, 252))
    plate = np.full((height, width, 3), paper, np.uint8)
    band = int(round(height * design.band_height))
    plate[:band] = design.band_colour
    _draw_band(plate, band, design, rng)
    ink = design.ink_colours[rng.choice(len(design.ink_colours), p=np.array(design.ink_weights) / sum(design.ink_weights))]
    char_height = int(round(height * design.character_height))
    glyphs = []
    for char in text:
        choices = tiles.get(char)
        if not choices:
            raise ValueError(f"the font has no tile for {char!r}")
        tile = choices[int(rng.integers(len(choices)))]
        scale = char_height / tile.shape[0]
        # Upscaled smoothly and thresholded again: clean edges rather than the tile's pixel steps.
        glyph = cv2.resize(tile, (max(1, int(round(tile.shape[1] * scale))), char_height), interpolation=cv2.INTER_CUBIC)
        glyphs.append(glyph > 127)
    gap = int(round(char_height * design.character_gap))
    inked = sum(g.shape[1] for g in glyphs)
    room = int(width * design.characters_width) - gap * (len(glyphs) - 1)
    if inked > room:
        glyphs = [cv2.resize(g.astype(np.uint8), (max(1, g.shape[1] * room // inked), char_height)) > 0 for g in glyphs]
    total = sum(g.shape[1] for g in glyphs) + gap * (len(glyphs) - 1)
    x = (width - total) // 2
    top = band + (height - band - char_height) // 2
    for glyph in glyphs:
        region = plate[top:top + char_height, x:x + glyph.shape[1]]
        region[glyph] = ink
        x += glyph.shape[1] + gap
    _draw_qr(plate, band, top, rng)
    border = max(2, height // 60)
    cv2.rectangle(plate, (0, 0), (width - 1, height - 1), (40, 40, 40), border)
    return plate


def _draw_band(plate: np.ndarray, band: int, design: PlateDesign, rng: np.random.Generator) -> None:
    """Paints the band's country name (white, centred), the Mercosul emblem at its left and a flag at its right, in place."""
    width = plate.shape[1]
    scale = band * 0.6 / 22
    (text_width, text_height), _ = cv2.getTextSize(design.band_text, cv2.FONT_HERSHEY_SIMPLEX, scale, 3)
    origin = ((width - text_width) // 2, (band + text_height) // 2)
    cv2.putText(plate, design.band_text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (250, 250, 250), 3, cv2.LINE_AA)
    # The emblem: a white ring with a few dots; the flag: green with a yellow diamond and a blue disc.
    cx, cy, r = band, band // 2, band // 3
    cv2.circle(plate, (cx, cy), r, (230, 230, 230), 2, cv2.LINE_AA)
    flag = (width - 2 * band, band // 5, width - band // 2, band - band // 5)
    cv2.rectangle(plate, flag[:2], flag[2:], (60, 150, 30), -1)
    fx, fy = (flag[0] + flag[2]) // 2, (flag[1] + flag[3]) // 2
    half_w, half_h = (flag[2] - flag[0]) // 2 - 2, (flag[3] - flag[1]) // 2 - 2
    diamond = np.array([[fx - half_w, fy], [fx, fy - half_h], [fx + half_w, fy], [fx, fy + half_h]], np.int32)
    cv2.fillPoly(plate, [diamond], (20, 210, 240))
    cv2.circle(plate, (fx, fy), max(2, half_h // 2), (120, 40, 10), -1)


def _draw_qr(plate: np.ndarray, band: int, top: int, rng: np.random.Generator) -> None:
    """Paints the small QR code at the plate's left, between the band and the characters' top, in place."""
    size = max(6, int(plate.shape[0] * 0.14))
    cells = rng.integers(0, 2, (7, 7)).astype(np.uint8) * 255
    code = cv2.resize(cells, (size, size), interpolation=cv2.INTER_NEAREST)
    y = band + max(2, (top - band - size) // 2 + size // 3)
    x = max(4, plate.shape[0] // 20)
    plate[y:y + size, x:x + size] = np.where(code[..., None] > 0, 235, 30)


def photographed(plate: np.ndarray, rng: np.random.Generator, crop_height: int = CROP_HEIGHT) -> np.ndarray:
    """A flat plate (uint8 HxWx3) in, a crop as a camera would give it out: warped a little, with a margin of car, shrunk to crop_height, blurred, lit unevenly, noised and JPEG-compressed."""
    height, width = plate.shape[:2]
    margin = rng.uniform(0.0, 0.08, 4) * np.array([width, height, width, height])
    out_w, out_h = int(width + margin[0] + margin[2]), int(height + margin[1] + margin[3])
    corners = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    jitter = rng.normal(0, 0.015, (4, 2)) * np.array([width, height])
    angle = np.deg2rad(rng.normal(0, 2.0))
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    centre = np.array([width / 2, height / 2])
    placed = (corners - centre) @ rotation.T + centre + jitter + np.array([margin[0], margin[1]])
    warp = cv2.getPerspectiveTransform(corners, placed.astype(np.float32))
    car = tuple(int(c) for c in rng.integers(10, 220, 3))
    canvas = cv2.warpPerspective(plate, warp, (out_w, out_h), flags=cv2.INTER_LINEAR, borderValue=car)
    # Seen from further away: drawn smaller than the crop, then brought back to its size.
    seen_height = int(rng.uniform(0.3, 1.0) * crop_height)
    seen = cv2.resize(canvas, (max(8, int(out_w * seen_height / out_h)), seen_height), interpolation=cv2.INTER_AREA)
    crop = cv2.resize(seen, (int(round(out_w * crop_height / out_h)), crop_height), interpolation=cv2.INTER_LINEAR)
    sigma = rng.uniform(0.0, 1.2)
    if sigma > 0.3:
        crop = cv2.GaussianBlur(crop, (0, 0), sigma)
    light = crop.astype(np.float32) * rng.uniform(0.45, 1.05) + rng.uniform(-25, 25)
    gradient = np.linspace(rng.uniform(-30, 0), rng.uniform(0, 30), crop.shape[1], dtype=np.float32)
    light += gradient[None, :, None] + rng.normal(0, rng.uniform(1, 8), light.shape)
    crop = np.clip(light, 0, 255).astype(np.uint8)
    ok, encoded = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(35, 95))])
    return cv2.imdecode(encoded, cv2.IMREAD_COLOR) if ok else crop


def write_rendered_plates(
    tiles: Mapping[str, Sequence[np.ndarray]], out: Path, count: int, seed: int, design: PlateDesign = MERCOSUL, state: str = "br",
    drawn_from: Mapping[str, str] | None = None,
) -> list[str]:
    """Font tiles, an empty or new folder, a count and a seed in, that many rendered plate crops, their labels.csv and rendered.json (with drawn_from: the tiles' folder, font, part) written there; their texts out."""
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    out.mkdir(parents=True, exist_ok=True)
    if any(out.iterdir()):
        raise ValueError(f"{out}: not empty; rendered plates are written to a new folder")
    rng = np.random.default_rng(seed)
    texts = []
    with (out / "labels.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", "state", "plate"])
        for index in range(count):
            text = random_text(design.layout, rng)
            name = f"rendered-{index:05d}-{text}.jpg"
            cv2.imwrite(str(out / name), photographed(draw_plate(text, tiles, design, rng), rng))
            writer.writerow([name, state, text])
            texts.append(text)
    about = {"layout": design.layout, "state": state, "count": count, "seed": seed, **(drawn_from or {})}
    (out / RENDERED_MARKER).write_text(json.dumps(about, indent=2) + "\n", encoding="utf-8")
    return texts


def placed_in_scene(plate: np.ndarray, scene: np.ndarray, box: Box, rng: np.random.Generator) -> Box:
    """A flat plate (uint8 HxWx3), a scene (uint8 HxWx3, changed in place) and a plate's box in it in, the box the plate now covers out.

    The plate is drawn as high as the box and as wide as its own aspect makes it, centred on
    the box, so it covers the plate that was there; it is blurred and lit like a plate far away.
    """
    height = box.h
    width = int(round(height * plate.shape[1] / plate.shape[0]))
    x0 = max(0, box.x + box.w // 2 - width // 2)
    x1, y1 = min(scene.shape[1], x0 + width), min(scene.shape[0], box.y + height)
    small = cv2.resize(plate, (width, height), interpolation=cv2.INTER_AREA)[: y1 - box.y, : x1 - x0]
    sigma = rng.uniform(0.0, 0.8)
    if sigma > 0.3:
        small = cv2.GaussianBlur(small, (0, 0), sigma)
    scene[box.y:y1, x0:x1] = np.clip(small.astype(np.float32) * rng.uniform(0.6, 1.0), 0, 255).astype(np.uint8)
    return Box(x0, box.y, x1 - x0, y1 - box.y)


def write_rendered_scenes(
    tiles: Mapping[str, Sequence[np.ndarray]], scenes: Dataset, out: Path, count: int, seed: int, design: PlateDesign = MERCOSUL,
    drawn_from: Mapping[str, str] | None = None,
) -> list[str]:
    """Font tiles, a scene Dataset, an empty or new folder, a count and a seed in: its first count scenes with a rendered plate over each labeled one written there (OpenALPR format, and rendered.json); their texts out."""
    if scenes.kind != "scenes":
        raise ValueError(f"{scenes.root}: not a scene folder (X.jpg with X.txt labels)")
    out.mkdir(parents=True, exist_ok=True)
    if any(out.iterdir()):
        raise ValueError(f"{out}: not empty; rendered scenes are written to a new folder")
    rng = np.random.default_rng(seed)
    texts = []
    for labeled in scenes.images[:count]:
        scene = read_image(labeled.path)
        lines = []
        for plate in labeled.plates:
            text = random_text(design.layout, rng)
            box = placed_in_scene(draw_plate(text, tiles, design, rng), scene, plate.box, rng)
            lines.append("\t".join([f"{labeled.path.stem}.jpg", *map(str, box.to_list()), text]))
            texts.append(text)
        cv2.imwrite(str(out / f"{labeled.path.stem}.jpg"), scene, [cv2.IMWRITE_JPEG_QUALITY, 90])
        (out / f"{labeled.path.stem}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    about = {"layout": design.layout, "scenes": str(scenes.root), "count": len(scenes.images[:count]), "seed": seed, **(drawn_from or {})}
    (out / RENDERED_MARKER).write_text(json.dumps(about, indent=2) + "\n", encoding="utf-8")
    return texts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tiles", type=Path, help="a character-tile folder holding the font (labels.csv image,char and sources.csv with a font column)")
    parser.add_argument("--font", default="germany", help="the font's name in sources.csv (default germany: FE-Schrift, the Mercosul font)")
    parser.add_argument("--count", type=int, default=1500)
    parser.add_argument("--part", default="train", choices=("train", "test"), help="which tiles to draw with (test: the third never drawn on training plates)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True, help="a new or empty folder")
    parser.add_argument(
        "--into", type=Path, metavar="SCENES",
        help="draw the plates over the labeled plates of this scene folder (its first --count scenes) and write scenes, not crops",
    )
    args = parser.parse_args(argv)
    drawn_from = {"tiles": str(args.tiles), "font": args.font, "part": args.part}
    try:
        tiles = font_tiles(args.tiles, args.font, args.part)
        if args.into is None:
            write_rendered_plates(tiles, args.out, args.count, args.seed, drawn_from=drawn_from)
        else:
            written = len(write_rendered_scenes(tiles, load_dataset(args.into), args.out, args.count, args.seed, drawn_from=drawn_from))
    except (ValueError, OSError, LprError) as error:
        print(f"rendered: error: {error}", file=sys.stderr)
        return 1
    print(f"wrote {args.count} Mercosul plates to {args.out}" if args.into is None else f"wrote {written} Mercosul plates into scenes in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
