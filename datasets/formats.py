"""Loaders for the two label formats: a folder in, a Dataset of labeled images out.

* Plate crops: ``labels.csv`` with the header ``image,state,plate``; each image is one plate.
* OpenALPR scenes: ``X.txt`` beside ``X.jpg``, one line per plate:
  ``X.jpg<TAB>x<TAB>y<TAB>w<TAB>h<TAB>PLATE`` (axis-aligned box in pixels).
* Character tiles: ``labels.csv`` with the header ``image,char``; each image is one
  character (for training only).
* Rendered plates: a crop or scene folder with a ``rendered.json`` (what drew them) beside
  its labels, as ``lpr.training.rendered`` writes: drawn, not photographed.
* A folder of images with neither is a set of plate-free negatives, or, given as such
  (``lpr train --unlabeled``), plate crops whose text is not known.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass
from pathlib import Path

from lpr.errors import LabelError
from lpr.geometry import Box
from lpr.imageio import file_header_size, list_images

PLATE_TEXT = re.compile(r"^[A-Z0-9]+$")
KINDS = ("crops", "scenes", "negatives", "characters", "unlabeled")
# The file beside the labels that marks a crop or scene folder as rendered plates and says how they were drawn.
RENDERED_MARKER = "rendered.json"


@dataclass(frozen=True)
class PlateLabel:
    """The true text of one plate and, in a scene, its box."""

    text: str
    box: Box | None = None


@dataclass(frozen=True)
class LabeledImage:
    """An image file and the plates it holds (none for a negative)."""

    path: Path
    plates: tuple[PlateLabel, ...]
    state: str | None = None


@dataclass(frozen=True)
class SkippedRow:
    """A label row that was not used, and why."""

    file: Path
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass(frozen=True)
class Dataset:
    """Labeled images of one kind (KINDS: plate crops, scenes, plate-free negatives, character tiles or unlabeled crops) and the label rows skipped."""

    kind: str
    root: Path
    images: tuple[LabeledImage, ...]
    skipped: tuple[SkippedRow, ...] = ()
    # Drawn plates (RENDERED_MARKER): their layouts are what the renderer chose, not what is on the road.
    rendered: bool = False

    def __len__(self) -> int:
        return len(self.images)


def normalize_plate_text(text: str) -> str:
    """Plate text as compared everywhere: upper case, spaces and dashes removed."""
    return re.sub(r"[\s\-·.]", "", text).upper()


def load_plate_crops(folder: str | os.PathLike) -> Dataset:
    """Folder with labels.csv (image,state,plate, or image,char for character tiles) in, a "crops" (or "characters") Dataset out; bad rows are skipped with a reason."""
    root = Path(folder)
    labels = root / "labels.csv"
    if not labels.is_file():
        raise LabelError(f"{root}: no labels.csv")
    images: list[LabeledImage] = []
    skipped: list[SkippedRow] = []
    try:
        # utf-8-sig: spreadsheets often save CSV with a byte-order mark before the header.
        with open(labels, newline="", encoding="utf-8-sig") as stream:
            reader = csv.reader(stream)
            header = [h.strip().lower() for h in next(reader, [])]
            # A tile folder names its text column "char"; each of its images is one character.
            tiles = "char" in header and "plate" not in header
            text_column = "char" if tiles else "plate"
            missing = {"image", text_column} - set(header)
            if missing:
                raise LabelError(f"{labels}:1: header lacks column(s) {', '.join(sorted(missing))} (expected image,state,plate or image,char)")
            column = {name: header.index(name) for name in header}
            # Only the named columns must be present: a trailing empty header cell is no column.
            needed = 1 + max(column[name] for name in ("image", "state", text_column) if name in column)
            for row in reader:
                line = reader.line_num
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) < needed:
                    skipped.append(SkippedRow(labels, line, f"expected {needed} columns, found {len(row)}"))
                    continue
                if not row[column["image"]].strip():
                    skipped.append(SkippedRow(labels, line, "no image file name"))
                    continue
                text = normalize_plate_text(row[column[text_column]])
                if not PLATE_TEXT.match(text) or (tiles and len(text) != 1):
                    wanted = "one character A-Z/0-9" if tiles else "A-Z/0-9"
                    skipped.append(SkippedRow(labels, line, f"{text_column} text {row[column[text_column]]!r} is not {wanted}"))
                    continue
                path = root / row[column["image"]].strip()
                if not path.is_file():
                    skipped.append(SkippedRow(labels, line, f"image {path.name!r} not found"))
                    continue
                state = row[column["state"]].strip().lower() or None if "state" in column else None
                images.append(LabeledImage(path, (PlateLabel(text),), state))
    except UnicodeDecodeError:
        raise LabelError(f"{labels}: not a UTF-8 text file") from None
    except csv.Error as error:
        raise LabelError(f"{labels}:{reader.line_num}: malformed CSV ({error})") from None
    except OSError as error:
        raise LabelError(f"{labels}: cannot read ({error.strerror or error})") from None
    return Dataset("characters" if tiles else "crops", root, tuple(images), tuple(skipped), rendered=(root / RENDERED_MARKER).is_file())


def parse_openalpr_line(line: str, label_file: Path, number: int) -> tuple[str, PlateLabel]:
    """One OpenALPR label line in, (image file name, plate label) out; LabelError naming file and line if malformed."""
    fields = line.rstrip("\r\n").split("\t")
    if len(fields) < 6:
        raise LabelError(f"{label_file}:{number}: expected 6 tab-separated fields, found {len(fields)}")
    try:
        x, y, w, h = (int(round(float(v))) for v in fields[1:5])
    except ValueError:
        raise LabelError(f"{label_file}:{number}: box {fields[1:5]} is not numbers") from None
    if w <= 0 or h <= 0 or x < 0 or y < 0:
        raise LabelError(f"{label_file}:{number}: box {x},{y},{w},{h} is empty or negative")
    text = normalize_plate_text(fields[5])
    if not PLATE_TEXT.match(text):
        raise LabelError(f"{label_file}:{number}: plate text {fields[5]!r} is not A-Z/0-9")
    return fields[0].strip(), PlateLabel(text, Box(x, y, w, h))


def load_openalpr_scenes(folder: str | os.PathLike) -> Dataset:
    """Folder of X.jpg + X.txt (OpenALPR benchmark format) in, a "scenes" Dataset out; bad lines are skipped."""
    root = Path(folder)
    images: list[LabeledImage] = []
    skipped: list[SkippedRow] = []
    for label_file in sorted(root.glob("*.txt")):
        # Each line names its image; plates are kept per image, in order of first mention.
        plates: dict[Path, list[PlateLabel]] = {}
        try:
            lines = label_file.read_text(encoding="utf-8-sig").splitlines()
        except (UnicodeDecodeError, OSError) as error:
            skipped.append(SkippedRow(label_file, 0, f"unreadable label file ({type(error).__name__})"))
            continue
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                name, plate = parse_openalpr_line(line, label_file, number)
            except LabelError as error:
                skipped.append(SkippedRow(label_file, number, str(error).split(": ", 1)[-1]))
                continue
            path = root / name
            if not path.is_file():
                skipped.append(SkippedRow(label_file, number, f"image {name!r} not found"))
                continue
            size = file_header_size(path)
            if size is not None and (plate.box.x + plate.box.w > size[0] or plate.box.y + plate.box.h > size[1]):
                skipped.append(SkippedRow(label_file, number, f"box {plate.box.to_list()} lies outside the {size[0]}x{size[1]} image"))
                continue
            plates.setdefault(path, []).append(plate)
        images.extend(LabeledImage(path, tuple(found)) for path, found in plates.items())
    return Dataset("scenes", root, tuple(images), tuple(skipped), rendered=(root / RENDERED_MARKER).is_file())


def _unlabeled_images(folder: str | os.PathLike, kind: str) -> Dataset:
    """A folder of images without labels and what they are in, a Dataset of that kind with every image found out."""
    root = Path(folder)
    return Dataset(kind, root, tuple(LabeledImage(p, ()) for p in list_images([root])))


def load_negatives(folder: str | os.PathLike) -> Dataset:
    """Folder of images without any plate in, a "negatives" Dataset out."""
    return _unlabeled_images(folder, "negatives")


def load_unlabeled(folder: str | os.PathLike) -> Dataset:
    """Folder of plate crops whose text is not known in, an "unlabeled" Dataset out (for self-training)."""
    return _unlabeled_images(folder, "unlabeled")


def load_dataset(folder: str | os.PathLike) -> Dataset:
    """A labeled folder in, its Dataset out: labels.csv means crops (or character tiles), .txt labels mean scenes, neither means negatives."""
    root = Path(folder)
    if not root.is_dir():
        raise LabelError(f"{root}: not a folder")
    if (root / "labels.csv").is_file():
        dataset = load_plate_crops(root)
    elif any(root.glob("*.txt")):
        dataset = load_openalpr_scenes(root)
    else:
        dataset = load_negatives(root)
    if not dataset.images and dataset.kind != "negatives":
        reasons = "; ".join(str(s) for s in dataset.skipped[:3])
        raise LabelError(f"{root}: no usable labeled images" + (f" ({reasons})" if reasons else ""))
    if not dataset.images:
        raise LabelError(f"{root}: no images found")
    return dataset
