"""Every tunable parameter of the pipeline, grouped by stage, with defaults that explain themselves."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class LocalizationConfig:
    """Parameters of plate localization in a full scene (lpr.localization)."""

    # Plates span roughly 50-260 px in our frames; each working scale looks for plates
    # of a limited size range, so several scales are needed to cover all of them.
    scales: tuple[float, ...] = (1.0, 0.5)
    # Blackhat kernel (width, height): a bit wider than a character stroke gap, so dark
    # characters on a light plate stand out from the plate background.
    blackhat_kernel: tuple[int, int] = (13, 5)
    # Closing kernel (width, height) that joins the characters of one plate into one blob.
    closing_kernel: tuple[int, int] = (11, 5)
    # Kernel that closes the light-region mask (plate backgrounds are light).
    light_kernel: tuple[int, int] = (3, 3)
    # Light regions are Otsu-thresholded; this many erode/dilate passes clean the blob mask.
    erode_iterations: int = 2
    dilate_iterations: int = 2
    # Geometry of a plate blob at a working scale, in pixels and width/height ratio.
    # US plates are about 2:1; the character band alone is wider, up to about 5:1.
    min_width: int = 30
    max_width: int = 200
    min_height: int = 10
    min_aspect: float = 1.3
    max_aspect: float = 7.0
    # Candidates overlapping more than this (IoU) are the same plate seen twice.
    nms_iou: float = 0.3
    # At most this many candidates per image go on to segmentation (largest score first).
    max_candidates: int = 15
    # Margin added around a candidate before it is read, as a fraction of its size, so
    # characters cut by a tight blob are not lost.
    crop_margin: float = 0.15


@dataclass(frozen=True)
class SegmentationConfig:
    """Parameters of character segmentation on one plate image (lpr.segmentation)."""

    # Plates are resized to this height before thresholding, so every size below is
    # relative to a plate of this height.
    plate_height: int = 120
    # Adaptive threshold: neighbourhood size (odd, px) and offsets subtracted from the
    # local mean; several offsets are tried and the recognizer keeps the best reading.
    block_size: int = 31
    offsets: tuple[int, ...] = (10, 20)
    # Which polarities to try: "dark" = dark characters on a light plate, "light" = the reverse.
    polarities: tuple[str, ...] = ("dark", "light")
    # Character geometry relative to the plate height and to its own box.
    min_height_fraction: float = 0.25
    max_height_fraction: float = 0.95
    min_aspect: float = 0.08
    max_aspect: float = 1.2
    min_fill: float = 0.12
    max_fill: float = 0.95
    # Characters of one plate share a row: heights within this fraction of each other and
    # vertical centres within this fraction of the height.
    height_tolerance: float = 0.25
    center_tolerance: float = 0.3
    max_characters: int = 9


@dataclass(frozen=True)
class FeatureConfig:
    """Parameters of the Block Binary Pixel Sum descriptor (lpr.features)."""

    # A character is padded to this aspect and resized to (height, width) pixels...
    char_size: tuple[int, int] = (32, 16)
    # ...and the fraction of foreground pixels in every (height, width) block is one
    # feature; every block size must divide char_size.
    block_sizes: tuple[tuple[int, int], ...] = ((2, 2), (4, 4), (8, 8), (16, 8))


@dataclass(frozen=True)
class RecognitionConfig:
    """How character readings become plate readings (lpr.recognizer)."""

    min_characters: int = 4
    max_characters: int = 8
    # A plate is reported only when its confidence (mean character confidence) reaches this.
    min_confidence: float = 0.5
    # A scene plate is also dropped when its weakest character is below this.
    min_character_confidence: float = 0.15
    # Number of alternative readings per plate ("candidates" in the JSON output).
    top_n: int = 5
    # Alternatives per character considered when building the candidates.
    alternatives_per_character: int = 3
    # The character band is grown by these fractions of its (width, height) on each side
    # to give the plate's box: US characters fill about 80% of a plate's width, 45% of its height.
    plate_box_padding: tuple[float, float] = (0.12, 0.6)
    # Readings whose plate boxes overlap more than this (IoU) are one plate; the best is kept.
    duplicate_iou: float = 0.2


@dataclass(frozen=True)
class Config:
    """The whole pipeline's parameters."""

    localization: LocalizationConfig = field(default_factory=LocalizationConfig)
    segmentation: SegmentationConfig = field(default_factory=SegmentationConfig)
    recognition: RecognitionConfig = field(default_factory=RecognitionConfig)
