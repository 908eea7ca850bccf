"""Rows of characters: scored candidate boxes in, the plate's character row out, and the rules that edit it.

A plate's characters share one line, one height and one pitch. The row is the
best-scoring group of aligned candidates (pooled_row); its ends, lonely middle members
and members of another colour are dropped (trim_row_ends, lonely_members,
off_colour_members); candidates the classifier rated junk but that sit where a character
would join it (rescued_members); and the places the row's pitch leaves for a lost
character are where windows are cut (window_places, pitch_spots). Training and
recognition both use these (training.samples labels a plate by select_row).
"""

from __future__ import annotations

from collections.abc import Sequence
from statistics import median
from typing import TYPE_CHECKING

import cv2
import numpy as np

from ..config import SegmentationConfig
from ..geometry import Box
from .components import Candidates, CharacterCrop, horizontal_overlap

if TYPE_CHECKING:
    from ..classification import CharacterPrediction


def row_group(boxes: Sequence[Box], config: SegmentationConfig, weights: Sequence[float] | None = None) -> list[int]:
    """Boxes (and optional weights) in, indices of the heaviest group sharing one text row out.

    A group is every box of similar height with its centre aligned to a reference box;
    without weights the group with most boxes wins, ties going to the taller group.
    """
    if not boxes:
        return []
    weights = np.ones(len(boxes)) if weights is None else np.asarray(weights, dtype=np.float64)
    heights = np.array([b.h for b in boxes], dtype=np.float64)
    centres = np.array([b.y + b.h / 2 for b in boxes], dtype=np.float64)
    # members[r, i]: box i belongs to the group of reference box r.
    members = (np.abs(heights[None, :] - heights[:, None]) <= config.height_tolerance * heights[:, None]) & (
        np.abs(centres[None, :] - centres[:, None]) <= config.center_tolerance * heights[:, None]
    )
    totals = members @ weights
    mean_heights = (members @ heights) / members.sum(axis=1)
    # The heaviest group, ties going to the taller one, then to the first reference.
    best = int(np.lexsort((-np.arange(len(boxes)), mean_heights, totals))[-1])
    if totals[best] <= 0:
        return []
    return np.flatnonzero(members[best]).tolist()


def character_row(boxes: Sequence[Box], config: SegmentationConfig) -> list[int]:
    """Boxes of one threshold setting in, indices of the largest row group without nested boxes out."""
    best = row_group(boxes, config)
    # Drop boxes nested inside another of the row (holes, broken strokes).
    return [
        i
        for i in best
        if not any(
            j != i
            and boxes[j].x <= boxes[i].x
            and boxes[j].x + boxes[j].w >= boxes[i].x + boxes[i].w
            and boxes[j].area > boxes[i].area
            for j in best
        )
    ]


def pooled_row(boxes: Sequence[Box], scores: Sequence[float], config: SegmentationConfig, max_characters: int) -> tuple[int, ...]:
    """Candidate boxes of several threshold settings, a score each and the most characters a plate has in, indices of the best row left to right out.

    The row is the best-scoring group of aligned boxes; inside it, the best-scoring box
    wins every place along the row, so each character comes from whichever threshold
    cut it out most convincingly.
    """
    if len(boxes) != len(scores):
        raise ValueError(f"{len(scores)} scores for {len(boxes)} boxes")
    group = row_group(boxes, config, scores)
    if not group:
        return ()
    # One font per plate: boxes much wider or of another height than the row's median
    # are logos, stickers or small text that happen to line up with the characters.
    median_height = float(median([boxes[i].h for i in group]))
    median_width = float(median([boxes[i].w for i in group]))
    group = [
        i
        for i in group
        if abs(boxes[i].h - median_height) <= config.row_height_spread * median_height
        and boxes[i].w <= config.max_width_ratio * median_width
    ]
    group.sort(key=lambda i: -scores[i])
    chosen: list[int] = []
    for i in group:
        if all(horizontal_overlap(boxes[i], boxes[j]) <= config.max_horizontal_overlap for j in chosen):
            chosen.append(i)
    return tuple(sorted(chosen, key=lambda i: boxes[i].x)[:max_characters])


def select_row(candidates: Candidates, config: SegmentationConfig, max_characters: int) -> tuple[int, ...]:
    """Candidates of one threshold setting and the most characters a plate has in, indices of their character row left to right out."""
    row = character_row([c.box for c in candidates.characters], config)
    return tuple(sorted(row)[:max_characters])


def candidate_score(prediction: CharacterPrediction) -> float:
    """A segmentation candidate's prediction in, the probability that it is a character and read right out."""
    return prediction.confidence * (1.0 - prediction.not_character)


def without_members(row: Sequence[int], members: Sequence[int], min_characters: int) -> tuple[int, ...]:
    """Row indices, positions in the row to drop and the row's minimum length in, the row without them out; the whole row when fewer would be left."""
    if len(row) - len(members) < min_characters:
        return tuple(row)
    return tuple(i for k, i in enumerate(row) if k not in members)


def row_pitch(centres: Sequence[float]) -> float:
    """At least two x centres of a row left to right in, its pitch (the median distance between neighbours) out."""
    return float(median([right - left for left, right in zip(centres, centres[1:])]))


def trim_row_ends(
    row: tuple[int, ...], scores: Sequence[float], boxes: Sequence[Box], config: SegmentationConfig, min_characters: int
) -> tuple[int, ...]:
    """Row indices left to right, candidate scores and boxes, and the fewest characters a plate has in, the row without weak end members out.

    Logos, stickers and frame pieces that line up with the text sit at the ends of the
    row and read as doubtful characters: an end member scoring below min_end_score goes
    (weakest first) while the row keeps min_characters. A narrow "1" reads as doubtfully,
    so an end member that sits one pitch from its neighbour with the row's height
    (fits_row) only needs min_fitting_end_score. In the middle, only doubtful members
    alone in a gap (lonely_members) go: logos between the groups of characters.
    """
    lonely = lonely_members([boxes[i] for i in row], [scores[i] for i in row], config)
    row = list(without_members(row, lonely, min_characters))
    while len(row) > min_characters:
        failing = [
            end
            for end in (0, len(row) - 1)
            if scores[row[end]] < (config.min_fitting_end_score if fits_row([boxes[i] for i in row], end, config) else config.min_end_score)
        ]
        if not failing:
            break
        row.pop(min(failing, key=lambda end: scores[row[end]]))
    return tuple(row)


def lonely_members(row: Sequence[Box], scores: Sequence[float], config: SegmentationConfig) -> list[int]:
    """A row's boxes left to right and their scores in, indices of the middle members scoring below min_lonely_score that sit alone in a gap out.

    Alone: more than (1 + row_pitch_tolerance) x pitch (the median centre distance) from
    both neighbours. A logo between two groups of characters sits so; a character sits
    one pitch from at least one neighbour. Rows of fewer than five have no such gaps.
    """
    if len(row) < 5:
        return []
    centres = [b.x + b.w / 2 for b in row]
    pitch = row_pitch(centres)
    reach = (1.0 + config.row_pitch_tolerance) * pitch
    return [
        k
        for k in range(1, len(row) - 1)
        if scores[k] < config.min_lonely_score and centres[k] - centres[k - 1] > reach and centres[k + 1] - centres[k] > reach
    ]


def fits_row(row: Sequence[Box], member: int, config: SegmentationConfig) -> bool:
    """A row's boxes left to right and the index of one member in, whether it sits like one more character of the row out.

    It must lie one pitch (the median centre distance of the others) from a neighbour
    within row_pitch_tolerance x pitch (an end: from its only neighbour), with their
    median height and vertical centre within row_line_tolerance x that height. The
    others must be at least three.
    """
    others = [*row[:member], *row[member + 1 :]]
    if len(others) < 3:
        return False
    centres = [b.x + b.w / 2 for b in others]
    pitch = row_pitch(centres)
    height = median([b.h for b in others])
    middle = median([b.y + b.h / 2 for b in others])
    box = row[member]
    centre = box.x + box.w / 2
    distances = []
    if member > 0:
        distances.append(centre - centres[member - 1])
    if member < len(others):
        distances.append(centres[member] - centre)
    return (
        min(abs(d - pitch) for d in distances) <= config.row_pitch_tolerance * pitch
        and abs(box.h - height) <= config.row_line_tolerance * height
        and abs(box.y + box.h / 2 - middle) <= config.row_line_tolerance * height
    )


def ink_colours(plate: np.ndarray, crops: Sequence[CharacterCrop]) -> np.ndarray:
    """(H, W, 3) uint8 BGR or (H, W) gray plate and n characters cut from it in, (n, 3) float64 mean 8-bit CIELAB colour of each one's ink out (a gray plate's: lightness only)."""
    colours = np.zeros((len(crops), 3))
    if not crops:
        return colours
    # Only the pixels under the row are converted (the conversion is per pixel).
    x0, y0 = min(c.box.x for c in crops), min(c.box.y for c in crops)
    under = plate[y0 : max(c.box.y + c.box.h for c in crops), x0 : max(c.box.x + c.box.w for c in crops)]
    if under.size == 0:
        return colours
    lab = cv2.cvtColor(under if under.ndim == 3 else cv2.cvtColor(under, cv2.COLOR_GRAY2BGR), cv2.COLOR_BGR2Lab)
    for i, crop in enumerate(crops):
        box = crop.box
        area = lab[box.y - y0 : box.y - y0 + box.h, box.x - x0 : box.x - x0 + box.w]
        if area.size == 0:
            continue
        ink = cv2.resize(crop.mask, (area.shape[1], area.shape[0]), interpolation=cv2.INTER_NEAREST) > 0
        colours[i] = area[ink].mean(axis=0) if ink.any() else area.reshape(-1, 3).mean(axis=0)
    return colours


def off_colour_members(plate: np.ndarray, row: Sequence[CharacterCrop], scores: Sequence[float], config: SegmentationConfig) -> list[int]:
    """(H, W, 3) uint8 BGR plate, its row's characters and their scores in, indices of the doubtful members not of the row's colour out.

    Not of the row's colour: ink farther than max_ink_colour_distance from the members'
    median ink colour (see ink_colours). Doubtful: scoring below max_off_colour_score.
    Rows of characters below min_colour_character_height have none: their colours are not
    to be trusted.
    """
    doubtful = any(score < config.max_off_colour_score for score in scores)
    if config.max_ink_colour_distance is None or not doubtful or median(c.box.h for c in row) < config.min_colour_character_height:
        return []
    colours = ink_colours(plate, row)
    distances = np.linalg.norm(colours - np.median(colours, axis=0), axis=1)
    return [
        k for k, (distance, score) in enumerate(zip(distances.tolist(), scores))
        if distance > config.max_ink_colour_distance and score < config.max_off_colour_score
    ]


def rescued_members(
    row: Sequence[Box], candidates: Sequence[Box], scores: Sequence[float], config: SegmentationConfig, max_characters: int
) -> list[int]:
    """A row's boxes, other candidates' boxes, their scores and the most characters a plate has in, indices of the candidates that join the row out, best first.

    The classifier takes a narrow "1" or a thin "T" for a frame post or bolt. A candidate
    scoring at least min_rescue_score joins when it fits the row (fits_row) without
    overlapping any member, best first, while the row is shorter than max_characters.
    """
    members = sorted(row, key=lambda b: b.x)
    joined: list[int] = []
    for i in sorted(range(len(candidates)), key=lambda i: -scores[i]):
        if len(members) >= max_characters:
            break
        box = candidates[i]
        if scores[i] < config.min_rescue_score:
            break
        if any(horizontal_overlap(box, b) > config.max_horizontal_overlap for b in members):
            continue
        trial = sorted([*members, box], key=lambda b: b.x)
        if fits_row(trial, trial.index(box), config):
            members = trial
            joined.append(i)
    return joined


def window_places(centres: list[float], config: SegmentationConfig) -> dict[int, tuple[float, float]]:
    """Sorted x centres of a row's characters in, {gap index: (lowest, highest) centre} of the places a lost character may sit out.

    Gap i lies between centres[i - 1] and centres[i] (0: before the first, len: after the
    last). A gap between two characters at least split_gap x the median pitch apart is a
    place; beyond each end, only the next place of the row's pitch is (windows elsewhere
    past the ends are mostly frame, bolts and artwork).
    """
    if len(centres) < 2:
        return {}
    pitch = row_pitch(centres)
    places = {
        gap: (centres[gap - 1], centres[gap])
        for gap in range(1, len(centres))
        if centres[gap] - centres[gap - 1] >= config.split_gap * pitch
    }
    if config.end_split_tolerance > 0:
        reach = config.end_split_tolerance * pitch
        places[0] = (centres[0] - pitch - reach, centres[0] - pitch + reach)
        places[len(centres)] = (centres[-1] + pitch - reach, centres[-1] + pitch + reach)
    return places


def pitch_spots(centres: list[float], places: dict[int, tuple[float, float]], tolerance: float) -> dict[int, list[float]]:
    """Sorted x centres of a row's characters, its window places (see window_places) and a pitch tolerance in, {gap index: x centres where the row's pitch puts a lost character} out.

    Beyond an end, the spot is one pitch out; between two characters, one pitch from
    either, if they are about two pitches apart (a wider gap is a logo or the plate's
    spacing). Each spot is also tried tolerance x pitch to either side.
    """
    if len(centres) < 2:
        return {}
    pitch = row_pitch(centres)
    spots: dict[int, list[float]] = {}
    for gap, (low, high) in places.items():
        if gap in (0, len(centres)):
            expected = [(low + high) / 2]
        elif high - low >= (2 - tolerance) * pitch:
            expected = [low + pitch, high - pitch]
        else:
            continue
        spots[gap] = list(dict.fromkeys(spot + shift * pitch for spot in expected for shift in (-tolerance, 0.0, tolerance)))
    return spots

