"""Segmenting one plate: a plate image and a character classifier in, its row of characters out.

This is the one segmentation algorithm lpr reads with. Every threshold setting's
components are classified; each polarity's row is pooled from all its settings; cut to
the row's band (or, with no row, stripped of frame edges) the binaries free characters
that touched the frame, a bolt or the slogan; windows cut where the row's pitch leaves a
place fill in merged characters; junk-rated candidates that fit the row join it and
members of another colour leave it. The polarity whose row scores best is the plate's.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..classification import CharacterPrediction
from ..config import SegmentationConfig
from ..geometry import Box
from ..region import PlateGeometry
from .components import (
    Candidates,
    CharacterCrop,
    Segmentation,
    band_candidates,
    band_windows,
    candidate_variants,
    character_band,
    clear_of,
    in_line,
    split_windows,
    unlined_candidates,
    wide_members,
)
from .rows import (
    candidate_score,
    off_colour_members,
    pitch_spots,
    pooled_row,
    rescued_members,
    trim_row_ends,
    window_places,
    without_members,
)

# Candidate characters in, one prediction each out (the classifier, with its number of guesses).
Predict = Callable[[Sequence[CharacterCrop]], list[CharacterPrediction]]
Classified = list[tuple[CharacterCrop, CharacterPrediction]]


@dataclass(frozen=True)
class SegmentedPlate:
    """A plate's character row: the Segmentation, each member's prediction, and the row's mean candidate score."""

    segmentation: Segmentation
    predictions: tuple[CharacterPrediction, ...]
    score: float


def segment_plate(
    plate: np.ndarray, predict: Predict, config: SegmentationConfig, geometry: PlateGeometry, in_scene: bool = False
) -> SegmentedPlate | None:
    """(H, W, 3) uint8 plate image, a classifier, settings and the region's plate geometry in, its character row out, or None.

    in_scene: the image was cut from a scene, so its row needs geometry.scene_characters;
    a plate given cropped needs geometry.cropped_characters.
    """
    fewest, most = geometry.scene_characters if in_scene else geometry.cropped_characters
    rows = RowRules(config, fewest, most, geometry.max_characters)
    variants = candidate_variants(plate, config, geometry.character_height, geometry.country_band)
    by_polarity: dict[str, list[Candidates]] = {}
    for variant in variants:
        by_polarity.setdefault(variant.polarity, []).append(variant)
    classified = classify_by_polarity([(v.polarity, c) for v in variants for c in v.characters], predict)
    for polarity, pool in classify_by_polarity(freed_candidates(by_polarity, classified, rows), predict).items():
        classified.setdefault(polarity, []).extend(pool)
    best: SegmentedPlate | None = None
    for polarity, components in classified.items():
        # Candidates the classifier takes for junk (bolts, logos, edges) never enter the row.
        pool = rows.readable(components)
        row = rows.row(pool)
        crops = [c for c, _ in components]
        thresholded = by_polarity[polarity]
        # Each round fills the places the row's pitch leaves for one more character, so a
        # run of merged characters comes apart one by one from its neighbours inward.
        for _ in range(config.split_rounds):
            windows = split_candidates(crops, [pool[i][0].box for i in row], thresholded, config, predict)
            if not windows:
                break
            grown = rows.row(pool + windows)
            if not any(i >= len(pool) for i in grown):
                break
            pool, row = pool + windows, grown
        pool, row = rows.rescued(components, pool, row)
        off = off_colour_members(plate, [pool[i][0] for i in row], [candidate_score(pool[i][1]) for i in row], config)
        row = without_members(row, off, fewest)
        if not fewest <= len(row) <= most:
            continue
        score = float(np.mean([candidate_score(pool[i][1]) for i in row]))
        if best is None or score > best.score:
            first = thresholded[0]
            segmentation = Segmentation(tuple(pool[i][0] for i in row), polarity, first.offset, first.binary)
            best = SegmentedPlate(segmentation, tuple(pool[i][1] for i in row), score)
    return best


@dataclass(frozen=True)
class RowRules:
    """The row settings of one plate: segmentation settings and the fewest and most characters its row may have."""

    config: SegmentationConfig
    fewest: int
    most: int
    # The most characters any plate of the region has: pooled rows are cut to it.
    longest: int

    def readable(self, pool: Classified) -> Classified:
        """Classified candidates in, those the classifier does not take for junk out."""
        return [(c, p) for c, p in pool if p.not_character < self.config.max_not_character]

    def row(self, pool: Classified) -> tuple[int, ...]:
        """Classified candidates of one polarity in, the indices of the plate's character row, left to right, out."""
        scores = [candidate_score(p) for _, p in pool]
        boxes = [c.box for c, _ in pool]
        return trim_row_ends(pooled_row(boxes, scores, self.config, self.longest), scores, boxes, self.config, self.fewest)

    def rescued(self, components: Classified, pool: Classified, row: tuple[int, ...]) -> tuple[Classified, tuple[int, ...]]:
        """All classified candidates of one polarity, the readable pool and its row in, (pool, row) with the rescued junk-rated candidates (see rescued_members) added out."""
        junk = [(c, p) for c, p in components if p.not_character >= self.config.max_not_character]
        added = rescued_members([pool[i][0].box for i in row], [c.box for c, _ in junk], [candidate_score(p) for _, p in junk], self.config, self.most)
        if not added:
            return pool, row
        grown = pool + [junk[i] for i in added]
        return grown, tuple(sorted([*row, *range(len(pool), len(grown))], key=lambda i: grown[i][0].box.x))


def classify_by_polarity(crops: list[tuple[str, CharacterCrop]], predict: Predict) -> dict[str, Classified]:
    """(polarity, candidate) pairs in, {polarity: [(candidate, prediction), ...]} out, in one classifier call."""
    if not crops:
        return {}
    classified: dict[str, Classified] = {}
    for (polarity, crop), prediction in zip(crops, predict([c for _, c in crops])):
        classified.setdefault(polarity, []).append((crop, prediction))
    return classified


def freed_candidates(variants: dict[str, list[Candidates]], classified: dict[str, Classified], rows: RowRules) -> list[tuple[str, CharacterCrop]]:
    """Every threshold setting's candidates by polarity, their classification and the row rules in, (polarity, candidate) pairs freed from the frame, a bolt or the slogan out.

    Each polarity's first row gives the character band; cut to it, a binary frees the
    characters that touched the frame, a bolt or the slogan, and new candidates in line
    with the row are kept. When no polarity has a row of a plate's length (characters
    merged with a frame edge leave none), every binary's candidates with its frame edges
    removed (see unlined_candidates) are added as well.
    """
    settings = rows.config
    found: dict[str, list[Box]] = {}
    for polarity in variants:
        readable = rows.readable(classified.get(polarity, []))
        found[polarity] = [readable[i][0].box for i in rows.row(readable)]
    rowless = max(len(boxes) for boxes in found.values()) < rows.fewest
    freed: list[tuple[str, CharacterCrop]] = []
    for polarity, boxes in found.items():
        thresholded = variants[polarity]
        if rowless:
            freed.extend((polarity, c) for v in thresholded for c in unlined_candidates(v, settings, new_only=True).characters)
        if not boxes or settings.band_margin is None:
            continue
        band = character_band(boxes, settings)
        for variant in thresholded:
            cut = band_candidates(variant, band, settings, new_only=True).characters
            freed.extend((polarity, cut[i]) for i in in_line([c.box for c in cut], boxes, settings))
    return freed


def split_candidates(
    components: list[CharacterCrop], row: list[Box], variants: Sequence[Candidates], config: SegmentationConfig, predict: Predict
) -> Classified:
    """All components of one polarity, the boxes of their row and the polarity's threshold settings in, the best window for each place the row leaves for a character, classified, out.

    Windows are cut from too-wide components (a character merged with a logo, dash,
    frame post or neighbour) and, for small characters, from each binary's band (see
    band_windows). Each place (see window_places) gets one window at most.
    """
    centres = sorted(b.x + b.w / 2 for b in row)
    places = window_places(centres, config)
    if not places:
        return []
    wide, width, height = wide_members([c.box for c in components], row, config)
    found: list[tuple[int, CharacterCrop]] = []
    for i in wide:
        box = components[i].box
        # A window's centre lies inside its component: skip components reaching no place.
        if not any(low <= box.x + box.w and high >= box.x for low, high in places.values()):
            continue
        for window in split_windows(components[i], width, height, config):
            centre = window.box.x + window.box.w / 2
            gap = bisect.bisect(centres, centre)
            if gap in places and places[gap][0] <= centre <= places[gap][1]:
                found.append((gap, window))
    if height < config.max_band_window_height:
        band = character_band(row, config)
        for gap, spots in pitch_spots(centres, places, config.row_pitch_tolerance).items():
            found.extend((gap, window) for variant in variants for window in band_windows(variant, band, spots, width, height, config))
    found = [found[i] for i in np.flatnonzero(clear_of(np.array([w.box.to_list() for _, w in found]).reshape(-1, 4), row, config.max_horizontal_overlap))]
    if not found:
        return []
    best: dict[int, tuple[float, CharacterCrop, CharacterPrediction]] = {}
    for (gap, window), prediction in zip(found, predict([w for _, w in found])):
        score = candidate_score(prediction)
        if score >= config.min_split_score and score > best.get(gap, (-1.0,))[0]:
            best[gap] = (score, window, prediction)
    return [(window, prediction) for _, window, prediction in best.values()]
