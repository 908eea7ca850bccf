"""Every setting of the recognition pipeline: one frozen dataclass per stage, each holding only what that stage reads.

A model records the settings it was trained with (Config.to_dict) and a Recognizer reads
with them unless the caller overrides a field explicitly ("stage.field" = value, see
with_overrides). Why each default is what it is, with the measurements, is in
docs/experiments/; each field's comment here says what it is for. Region data (plate
geometry, alphabet, layouts, look-alikes) is not here: it is in the model's RegionProfile.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, is_dataclass, replace
from typing import Any


def _require(condition: bool, stage: str, message: str) -> None:
    """Raise a one-line ValueError naming the stage unless condition holds."""
    if not condition:
        raise ValueError(f"{stage} settings: {message}")


def _finite_numbers(settings: Any, stage: str) -> None:
    """Raise ValueError when a number of a settings dataclass (or of its tuples) is NaN or infinite."""
    for f in fields(settings):
        value = getattr(settings, f.name)
        values = value if isinstance(value, tuple) else (value,)
        for v in values:
            for number in v if isinstance(v, tuple) else (v,):
                _require(not isinstance(number, float) or math.isfinite(number), stage, f"{f.name} must be finite, got {value!r}")


def _pair(value: tuple, positive: bool = True) -> bool:
    """Whether value is two numbers, both > 0 (or >= 0 when not positive)."""
    return len(value) == 2 and all(v > 0 if positive else v >= 0 for v in value)


@dataclass(frozen=True)
class LocalizationConfig:
    """Plate candidates in a scene by morphology (lpr.localization); plate aspect limits come from the region."""

    # Each working scale finds plates of a limited size range: several cover 50-260 px plates.
    scales: tuple[float, ...] = (1.0, 0.5)
    # Larger frames are shrunk to this long side (px, 0 = never) before the search: the kernels suit 720p-1080p.
    max_side: int = 1920
    # Blackhat kernel (width, height): a bit wider than a stroke gap, so dark characters stand out.
    blackhat_kernel: tuple[int, int] = (13, 5)
    # Closing kernel (width, height) that joins the characters of one plate into one blob.
    closing_kernel: tuple[int, int] = (11, 5)
    # Multiples of the gradient's Otsu level thresholded; a later level only adds blobs where earlier ones found none.
    gradient_levels: tuple[float, ...] = (1.0, 1.5)
    # Kernel that closes the light-region mask (plate backgrounds are light).
    light_kernel: tuple[int, int] = (3, 3)
    # CLAHE clip limit (0 = off): plates in shadow have a fraction of the frame's brightest contrast.
    clahe_clip: float = 2.0
    # CLAHE tile grid (columns, rows).
    clahe_grid: tuple[int, int] = (8, 8)
    # Neighbourhood (px) of the light-region test (0 = global Otsu instead).
    light_window: int = 81
    # A pixel is light when it reaches this times its neighbourhood's mean.
    light_ratio: float = 0.9
    # Erode passes that clean the blob mask of thin links.
    erode_iterations: int = 2
    # Dilate passes that restore the blobs' size after eroding.
    dilate_iterations: int = 2
    # Narrowest plate blob at a working scale (px).
    min_width: int = 30
    # Widest plate blob at a working scale (px): wider ones are caught at the next scale down.
    max_width: int = 200
    # Lowest plate blob at a working scale (px); also the smallest working image side.
    min_height: int = 10
    # Two blobs of one row join when their heights are within this ratio...
    join_height_ratio: float = 1.6
    # ...they overlap vertically by this fraction of the lower one...
    join_overlap: float = 0.6
    # ...and their gap is at most this times the taller height (a plate's logo or bolt).
    join_gap: float = 1.0
    # Candidates overlapping more than this IoU are one plate seen twice.
    nms_iou: float = 0.7

    def __post_init__(self) -> None:
        stage = "localization"
        _finite_numbers(self, stage)
        _require(bool(self.scales) and all(v > 0 for v in self.scales), stage, f"scales must be positive, got {self.scales}")
        _require(bool(self.gradient_levels) and all(v > 0 for v in self.gradient_levels), stage, f"gradient_levels must be positive, got {self.gradient_levels}")
        for name in ("blackhat_kernel", "closing_kernel", "light_kernel", "clahe_grid"):
            _require(_pair(getattr(self, name)), stage, f"{name} must be two positive sizes, got {getattr(self, name)}")
        _require(self.max_side >= 0 and self.clahe_clip >= 0 and self.light_ratio > 0, stage, "max_side and clahe_clip must be >= 0, light_ratio > 0")
        _require(self.light_window == 0 or (self.light_window >= 3 and self.light_window % 2 == 1), stage, f"light_window must be 0 or odd >= 3, got {self.light_window}")
        _require(self.erode_iterations >= 0 and self.dilate_iterations >= 0, stage, "erode and dilate iterations must be >= 0")
        _require(0 < self.min_width <= self.max_width and self.min_height > 0, stage, "plate blob sizes must be positive, min_width <= max_width")
        _require(self.join_height_ratio >= 1 and self.join_overlap >= 0 and self.join_gap >= 0, stage, "join settings out of range")
        _require(0 <= self.nms_iou <= 1, stage, f"nms_iou must be in [0, 1], got {self.nms_iou}")


@dataclass(frozen=True)
class VerifierConfig:
    """The learned plate scores (lpr.verification): descriptor shape, fixed by the trained weights, and thresholds."""

    # (width, height) a character band is resized to before HOG: about a row of 5-8 characters.
    window: tuple[int, int] = (96, 32)
    # HOG cell size (px); blocks are 2x2 cells.
    hog_cell: int = 8
    # HOG orientation bins.
    hog_bins: int = 9
    # The band is grown by these fractions of (width, height): the plate's border is evidence too.
    band_margin: tuple[float, float] = (0.1, 0.3)
    # (width, height) the whole plate box is resized to: border, state name and slogan tell a plate from a sign.
    plate_window: tuple[int, int] = (96, 48)
    # The plate box is grown by these fractions of (width, height) before its HOG.
    plate_margin: tuple[float, float] = (0.05, 0.05)
    # Localization candidates the verifier ranks per scene before the best are read.
    search_candidates: int = 30
    # Candidates scoring below this are never read: most plate-free frames then cost only their localization.
    min_candidate_score: float = -0.5
    # A scene reading is reported when its plate score reaches this (0 = the SVM's boundary).
    min_score: float = 0.2

    # Fields that shape the descriptor: the trained weights fit only these values.
    DESCRIPTOR = ("window", "hog_cell", "hog_bins", "band_margin", "plate_window", "plate_margin")

    def __post_init__(self) -> None:
        stage = "verifier"
        _finite_numbers(self, stage)
        _require(_pair(self.window) and _pair(self.plate_window), stage, "windows must be two positive sizes")
        _require(self.hog_cell > 0 and self.hog_bins > 0, stage, "hog_cell and hog_bins must be positive")
        _require(_pair(self.band_margin, False) and _pair(self.plate_margin, False), stage, "margins must be two numbers >= 0")
        _require(self.search_candidates >= 1, stage, f"search_candidates must be at least 1, got {self.search_candidates}")


@dataclass(frozen=True)
class IdentificationConfig:
    """Where a plate was issued, from its look (lpr.identification): descriptor shape, fixed by the trained weights, and the layout's weight."""

    # (width, height) the plate is resized to: about 2:1, as most plates in the world are between 2:1 and 5:1.
    window: tuple[int, int] = (128, 64)
    # (columns, rows) of cells whose colours are described: the state name, band and slogan stand in their own cells.
    colour_grid: tuple[int, int] = (4, 4)
    # Hue histogram bins per colour cell, each pixel weighted by its saturation and value (grey pixels have no hue).
    hue_bins: int = 12
    # HOG cell size (px) and orientation bins over the gray plate: the print of the state name and the emblems.
    hog_cell: int = 8
    hog_bins: int = 9
    # How much the reading's letter/digit layout counts against the look: the power of P(layout | region).
    # 0: on US states the look alone identifies as well (docs/experiments/2026-12-03-region-identification.md).
    layout_weight: float = 0.0
    # Pseudo-count of plates spread over every layout a region has not been seen to issue.
    layout_smoothing: float = 1.0

    # Fields that shape the descriptor: the trained weights fit only these values.
    DESCRIPTOR = ("window", "colour_grid", "hue_bins", "hog_cell", "hog_bins")

    def __post_init__(self) -> None:
        stage = "identification"
        _finite_numbers(self, stage)
        _require(_pair(self.window) and _pair(self.colour_grid), stage, "window and colour_grid must be two positive sizes")
        _require(all(w >= g for w, g in zip(self.window, self.colour_grid)), stage, "every colour cell needs at least one pixel")
        _require(self.hue_bins > 0 and self.hog_bins > 0, stage, "hue_bins and hog_bins must be positive")
        _require(0 < self.hog_cell <= min(self.window) // 2, stage, f"hog_cell must be 1..{min(self.window) // 2}, got {self.hog_cell}")
        _require(self.layout_weight >= 0 and self.layout_smoothing > 0, stage, "layout_weight must be >= 0 and layout_smoothing > 0")


@dataclass(frozen=True)
class SegmentationConfig:
    """Characters of one plate by thresholding and connected components, and the row they form (lpr.segmentation)."""

    # Plates are resized to this height (px) first; every size below is relative to it.
    plate_height: int = 120
    # Adaptive threshold neighbourhood (odd, px).
    block_size: int = 41
    # Offsets below the local mean tried for dark characters on a light plate (empty: none).
    dark_offsets: tuple[int, ...] = (5, 10, 20, 35, 50, 70)
    # Offsets above the local mean tried for light characters on a dark plate (empty: none).
    light_offsets: tuple[int, ...] = (20,)
    # Narrowest character box (width / height): a thin "1".
    min_aspect: float = 0.08
    # Widest character box (width / height): an M or W with some blur.
    max_aspect: float = 1.2
    # Least ink in a character's box (thin diagonal edges fill little).
    min_fill: float = 0.12
    # Most ink in a character's box.
    max_fill: float = 1.0
    # Row members have heights within this fraction of each other...
    height_tolerance: float = 0.25
    # ...and vertical centres within this fraction of the height.
    center_tolerance: float = 0.3
    # Candidates overlapping more than this fraction of the narrower width are rival cuts of one character.
    max_horizontal_overlap: float = 0.3
    # One font per plate: a member this far (fraction) from the row's median height is a logo or sticker.
    row_height_spread: float = 0.2
    # A member wider than this times the row's median width is a logo or merged characters.
    max_width_ratio: float = 1.4
    # Windows of this many median character widths are cut from too-wide components (0 = off).
    split_width: float = 1.1
    # Windows are this many median widths apart.
    split_step: float = 0.2
    # A window's ink must span this fraction of the row's median height.
    min_split_height: float = 0.8
    # Windows are only sought in gaps of at least this many pitches between row characters.
    split_gap: float = 1.6
    # Beyond the row's ends, windows only within this many pitches of the next character's place (0 = off).
    end_split_tolerance: float = 0.25
    # Rows of characters lower than this (px, in the image given; 0 = never) also get windows cut from every binary's band.
    max_band_window_height: int = 24
    # Once a row is found, binaries are cut to its band grown by this times the character height (None = no such pass).
    band_margin: float | None = 0.15
    # Rowless plates are searched again without horizontal runs longer than this times the plate height (0 = off).
    line_length: float = 0.6
    # Candidates whose "not a character" probability reaches this never enter the row.
    max_not_character: float = 0.8
    # An end member scoring below this leaves the row (logos and stickers at the ends).
    min_end_score: float = 0.3
    # An end member sitting one pitch from its neighbour needs only this score (a narrow "1").
    min_fitting_end_score: float = 0.1
    # One pitch means within this fraction of the row's median pitch.
    row_pitch_tolerance: float = 0.15
    # Of the row's line means height and centre within this fraction of its median height.
    row_line_tolerance: float = 0.08
    # A middle member alone in a gap scoring below this leaves the row (a logo between groups).
    min_lonely_score: float = 0.5
    # A doubtful member whose ink colour is farther than this (CIELAB) from the row's leaves it (None = never).
    max_ink_colour_distance: float | None = 60.0
    # Doubtful, for the colour test: scoring below this.
    max_off_colour_score: float = 0.8
    # Rows of characters lower than this (px) skip the colour test: JPEG smears thin strokes' colour.
    min_colour_character_height: int = 16
    # Junk-rated candidates that fit the row join it with at least this score (a thin "T").
    min_rescue_score: float = 0.02
    # A window joins the row only with at least this score.
    min_split_score: float = 0.5
    # Rounds of window search: each round's windows make room for the next (several merged characters).
    split_rounds: int = 3
    # A country band's columns are this fraction blue (its white letters and stars are the rest).
    band_blue_fraction: float = 0.4
    # A band starts within this fraction of the plate's width from its end...
    band_edge: float = 0.08
    # ...and is at most this fraction of its width (wider blue is plate or ink).
    band_max_width: float = 0.3
    # In a region with two-line plates, a plate image narrower than this times its height is read as two lines (stacked about 1.4:1, one line 3:1 and wider).
    stacked_aspect: float = 2.5
    # The gap between a stacked plate's lines is sought within these fractions of its height (the lines differ in size).
    line_gap_range: tuple[float, float] = (0.3, 0.7)
    # Each line is cut this fraction of the plate's height past the gap, so a gap found a little off clips no character.
    line_overlap: float = 0.06

    def __post_init__(self) -> None:
        stage = "segmentation"
        _finite_numbers(self, stage)
        _require(self.plate_height >= 8, stage, f"plate_height must be at least 8 px, got {self.plate_height}")
        _require(self.block_size >= 3 and self.block_size % 2 == 1, stage, f"block_size must be odd and at least 3, got {self.block_size}")
        _require(bool(self.dark_offsets or self.light_offsets), stage, "dark_offsets and light_offsets cannot both be empty")
        _require(all(o >= 0 for o in (*self.dark_offsets, *self.light_offsets)), stage, "threshold offsets must be >= 0")
        _require(0 < self.min_aspect <= self.max_aspect and 0 <= self.min_fill <= self.max_fill <= 1, stage, "character aspect or fill range out of order")
        tolerances = (self.height_tolerance, self.center_tolerance, self.max_horizontal_overlap, self.row_height_spread, self.row_pitch_tolerance, self.row_line_tolerance)
        _require(all(t >= 0 for t in tolerances) and self.max_width_ratio > 0, stage, "row tolerances must be >= 0")
        _require(self.split_width >= 0 and self.split_step > 0 and self.min_split_height >= 0, stage, "split window sizes out of range")
        _require(self.split_gap >= 0 and self.end_split_tolerance >= 0 and self.max_band_window_height >= 0, stage, "split places out of range")
        _require(0 < self.band_blue_fraction <= 1 and 0 < self.band_edge <= 1 and 0 < self.band_max_width <= 1, stage, "country band fractions must be in (0, 1]")
        _require(self.stacked_aspect > 0 and self.line_overlap >= 0, stage, "stacked_aspect must be > 0 and line_overlap >= 0")
        _require(len(self.line_gap_range) == 2 and 0 < self.line_gap_range[0] <= self.line_gap_range[1] < 1, stage, "line_gap_range must be two fractions 0 < low <= high < 1")
        _require(self.band_margin is None or self.band_margin >= 0, stage, "band_margin must be >= 0 or null")
        _require(self.line_length >= 0 and self.split_rounds >= 0 and self.min_colour_character_height >= 0, stage, "line_length, split_rounds and colour height must be >= 0")
        _require(self.max_ink_colour_distance is None or self.max_ink_colour_distance >= 0, stage, "max_ink_colour_distance must be >= 0 or null")


@dataclass(frozen=True)
class FeatureConfig:
    """The character descriptor (lpr.features), fixed by the trained weights."""

    # A character is padded to this aspect and resized to (height, width) px.
    char_size: tuple[int, int] = (32, 16)
    # Each (height, width) block's ink fraction is one feature (BBPS); sizes must divide char_size.
    block_sizes: tuple[tuple[int, int], ...] = ((2, 2), (4, 4), (8, 8), (16, 8))
    # HOG cell (px) of the mask: stroke directions tell 8/B and 0/D/Q apart.
    hog_cell: int = 4
    # HOG bins of the mask (0 = off).
    hog_bins: int = 9
    # HOG cell (px) of the character's shading: a blurred mask loses strokes its shading keeps.
    gray_hog_cell: int = 4
    # HOG bins of the shading (0 = off).
    gray_hog_bins: int = 9


@dataclass(frozen=True)
class DecodingConfig:
    """Per-character guesses to plate texts, ranked by the region's layouts (lpr.decoding)."""

    # Alternative texts reported per plate ("candidates" in the JSON).
    top_n: int = 5
    # Guesses per character combined into texts.
    alternatives_per_character: int = 3
    # Pseudo-count added to every layout of a sub-region (us-va): small trusts its layouts more.
    format_smoothing: float = 0.05
    # Pseudo-count for a region pooling its sub-regions' layouts (us): they rank more gently.
    general_format_smoothing: float = 0.5
    # Share of a look-alike group's probability spread evenly over its members, so a layout can pick O or 0.
    lookalike_share: float = 0.05
    # A row end is dropped when the rest reads in a layout this much commoner (times its doubt; 0 = never).
    dropped_end_weight: float = 0.1
    # The same for the line ends of a two-line plate, where the country band, a seal or the frame stands beside short lines.
    dropped_line_end_weight: float = 10.0

    def __post_init__(self) -> None:
        stage = "decoding"
        _finite_numbers(self, stage)
        _require(self.top_n >= 1 and self.alternatives_per_character >= 1, stage, "top_n and alternatives_per_character must be at least 1")
        _require(self.format_smoothing > 0 and self.general_format_smoothing > 0, stage, "format smoothings must be positive")
        _require(0 <= self.lookalike_share <= 1, stage, "lookalike_share must be in [0, 1]")
        _require(self.dropped_end_weight >= 0 and self.dropped_line_end_weight >= 0, stage, "dropped end weights must be >= 0")


@dataclass(frozen=True)
class SceneConfig:
    """Which candidates of a scene are read and which readings are reported (lpr.pipeline, lpr.scene)."""

    # Candidates read per scene (the verifier's best, or the best-filled blobs without one).
    read_candidates: int = 4
    # When those give no sure plate, up to this many more of the verifier's next best are read.
    fallback_candidates: int = 16
    # A candidate is grown by this fraction of its size before reading: tight blobs cut characters.
    crop_margin: float = 0.15
    # Without a verifier, a plate is reported when its confidence reaches this...
    min_confidence: float = 0.5
    # ...and its weakest character's confidence reaches this.
    min_character_confidence: float = 0.15
    # Readings of at most this many characters are far likelier part of a plate or a sign...
    short_reading_characters: int = 4
    # ...so they need the verifier's min_score plus this.
    short_reading_margin: float = 0.5
    # A reading is read again from the plate box grown from its characters: blobs cut plates short.
    reread_plate_box: bool = True
    # Readings whose boxes overlap more than this IoU are one plate: they vote on its text.
    duplicate_iou: float = 0.2
    # A plate read with at least this confidence is sure: sure plates come first and end the fallback.
    sure_confidence: float = 0.5
    # A short reading gives way to a longer one of its place that the verifier scores at least this.
    whole_plate_score: float = 0.0
    # Candidates centred on a sure plate already read are read too (their votes rarely change a sure text, and cost a read each).
    reread_sure_plates: bool = True
    # Once a plate is read surely, a further candidate is read only when its candidate score reaches this (None = always): most frames hold one plate.
    other_plate_score: float | None = None
    # A plate box is read again only when the first reading's plate evidence reaches this (None = always): junk read again is junk.
    reread_score: float | None = -0.5

    def __post_init__(self) -> None:
        stage = "scene"
        _finite_numbers(self, stage)
        _require(self.read_candidates >= 1 and self.fallback_candidates >= 0, stage, "read_candidates must be at least 1, fallback_candidates >= 0")
        _require(self.crop_margin >= 0 and self.short_reading_characters >= 0, stage, "crop_margin and short_reading_characters must be >= 0")
        _require(0 <= self.duplicate_iou <= 1, stage, f"duplicate_iou must be in [0, 1], got {self.duplicate_iou}")
        confidences = (self.min_confidence, self.min_character_confidence, self.sure_confidence)
        _require(all(c >= 0 for c in confidences), stage, "confidence thresholds must be >= 0")
        for name in ("other_plate_score", "reread_score"):
            value = getattr(self, name)
            _require(value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)), stage, f"{name} must be a number or null, got {value!r}")


STAGES = {
    "localization": LocalizationConfig,
    "verifier": VerifierConfig,
    "segmentation": SegmentationConfig,
    "features": FeatureConfig,
    "decoding": DecodingConfig,
    "scene": SceneConfig,
}


# Settings that take null to turn their pass off.
OPTIONAL = frozenset({"segmentation.band_margin", "segmentation.max_ink_colour_distance", "scene.other_plate_score", "scene.reread_score"})


@dataclass(frozen=True)
class Config:
    """The settings of every stage of recognition."""

    localization: LocalizationConfig = field(default_factory=LocalizationConfig)
    verifier: VerifierConfig = field(default_factory=VerifierConfig)
    segmentation: SegmentationConfig = field(default_factory=SegmentationConfig)
    features: FeatureConfig = field(default_factory=FeatureConfig)
    decoding: DecodingConfig = field(default_factory=DecodingConfig)
    scene: SceneConfig = field(default_factory=SceneConfig)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """The settings as JSON-ready {stage: {field: value}} (tuples as lists)."""
        return json.loads(json.dumps(asdict(self)))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Config:
        """{stage: {field: value}} in (stages or fields missing keep their defaults), the Config out; ValueError on unknown names or types."""
        if not isinstance(data, Mapping):
            raise ValueError("settings must be an object of stages")
        unknown = set(data) - set(STAGES)
        if unknown:
            raise ValueError(f"unknown settings stage(s): {', '.join(sorted(unknown))}")
        config = cls()
        for stage, values in data.items():
            if not isinstance(values, Mapping):
                raise ValueError(f"settings of {stage!r} must be an object")
            config = with_overrides(config, {f"{stage}.{name}": value for name, value in values.items()})
        return config


def setting_names(config: Config | None = None) -> list[str]:
    """Every "stage.field" name a Config has."""
    config = config or Config()
    return [f"{stage}.{f.name}" for stage in STAGES for f in fields(getattr(config, stage))]


def _typed(value: Any, current: Any, name: str) -> Any:
    """A value (e.g. parsed from JSON) and the setting's current value in, the value in the current value's type out; ValueError when it does not fit."""
    if isinstance(current, tuple):
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"setting {name} takes a list, got {value!r}")
        if not current:
            return tuple(value)
        return tuple(_typed(v, current[0], name) for v in value)
    if value is None:
        if name not in OPTIONAL:
            raise ValueError(f"setting {name} cannot be null")
        return None
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise ValueError(f"setting {name} takes true or false, got {value!r}")
        return value
    if isinstance(current, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"setting {name} takes a whole number, got {value!r}")
        return value
    if isinstance(current, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"setting {name} takes a number, got {value!r}")
        return float(value)
    return value


def with_overrides(config: Config, overrides: Mapping[str, Any]) -> Config:
    """A Config and {"stage.field": value} in, a copy with those fields changed out; ValueError naming any unknown field or bad value.

    A stage's fields change together, so a pair of settings may move past each other.
    """
    changes: dict[str, dict[str, Any]] = {}
    for name, value in overrides.items():
        stage, _, field_name = name.partition(".")
        section = getattr(config, stage, None) if stage in STAGES else None
        if section is None or not is_dataclass(section) or field_name not in {f.name for f in fields(section)}:
            raise ValueError(f"no setting {name!r} (settings are STAGE.FIELD with STAGE one of {', '.join(STAGES)})")
        # Optional fields (None = off) keep the type of their default.
        current = getattr(section, field_name)
        changes.setdefault(stage, {})[field_name] = _typed(value, getattr(STAGES[stage](), field_name) if current is None else current, name)
    return replace(config, **{stage: replace(getattr(config, stage), **values) for stage, values in changes.items()})


def fixed_by_training(name: str) -> bool:
    """A "stage.field" name in, whether the trained weights fix it (the features, the verifier's descriptor) out."""
    stage, _, field_name = name.partition(".")
    return stage == "features" or (stage == "verifier" and field_name in VerifierConfig.DESCRIPTOR)


def parse_override(assignment: str) -> tuple[str, Any]:
    """"stage.field=JSON value" in, (name, value) out; ValueError with a one-line reason when malformed."""
    name, equals, text = assignment.partition("=")
    if not equals or not name:
        raise ValueError(f"{assignment!r}: a setting is STAGE.FIELD=VALUE, e.g. scene.sure_confidence=0.6")
    try:
        value = json.loads(text)
    except ValueError:
        raise ValueError(f"{assignment!r}: the value must be JSON (e.g. 120, [5, 10], true, null)") from None
    return name.strip(), value
