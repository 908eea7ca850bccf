"""The whole pipeline: a BGR image in, plate readings (text, confidence, boxes) out, best first.

Recognizer orchestrates the stages around one model: localization -> verification of the
candidates -> segmentation -> features and classification -> decoding, and the scene
rules over the readings. RecognizerSpec is its picklable description, from which a worker
process or a Dask worker builds exactly the same Recognizer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .classification import CharacterPrediction
from .config import Config, IdentificationConfig, fixed_by_training, with_overrides
from .decoding import decode_row, kept_line_starts, layout_prior
from .geometry import Box, non_max_suppression, union_box
from .identification import layout_guesses, plate_image
from .localization import PlateCandidate, plate_candidates, to_gray
from .model import Model, load_model, model_from_bytes, model_to_bytes
from .records import CharacterRead, PlateRead, RegionGuess
from .region import RegionProfile, region_code
from .scene import agreed_reading, required_plate_score, sure_first, whole_plate_reading
from .segmentation import CharacterCrop, Segmentation, candidate_score, is_stacked_shape, segment_plate, segment_stacked_plate
from .verification import PlateVerifier, ReadingEvidence


@dataclass(frozen=True)
class PlateReading(PlateRead):
    """A plate read by the pipeline: the PlateRead, plus its chosen segmentation and the image area segmented (for pictures)."""

    segmentation: Segmentation
    # The image area that was segmented: segmentation.binary is this area resized.
    area: Box


@dataclass(frozen=True)
class RecognizerSpec:
    """What a Recognizer is made of, picklable: the model file's bytes, the region and the explicit setting overrides."""

    model: bytes
    model_name: str = "model"
    region: str | None = None
    # ("stage.field", JSON value) pairs, in the order they were given.
    overrides: tuple[tuple[str, Any], ...] = ()

    def build(self) -> Recognizer:
        """The Recognizer this spec describes (the model is checked like any model file)."""
        return Recognizer(model_from_bytes(self.model, self.model_name), self.region, dict(self.overrides))

    @property
    def key(self) -> str:
        """A text that is equal for two specs exactly when they build the same Recognizer."""
        digest = hashlib.sha256(self.model).hexdigest()
        return json.dumps([digest, self.region, [list(pair) for pair in self.overrides]])


class Recognizer:
    """The stages tied together around one model, for one region, with the model's settings and any explicit overrides."""

    def __init__(self, model: Model | str | None = None, region: str | None = None, overrides: Mapping[str, Any] | None = None):
        self.model = model if isinstance(model, Model) else load_model(model)
        self.overrides = dict(overrides or {})
        fixed = [name for name in self.overrides if fixed_by_training(name)]
        if fixed:
            raise ValueError(f"setting {fixed[0]} is fixed by the model's trained weights: train a model with it instead")
        self.config: Config = with_overrides(self.model.config, self.overrides)
        # The region read for: the model's own unless given; a sub-region the model learned
        # no layouts for is read with the region's profile (region_known tells).
        self.region = region_code(region) if region else self.model.region
        try:
            self.profile: RegionProfile = self.model.profile.select(self.region)
            self.region_known = True
        except KeyError:
            if not self.region.startswith(f"{self.model.profile.code}-"):
                raise ValueError(f"the model reads region {self.model.profile.code!r} and its sub-regions, not {self.region!r}") from None
            self.profile, self.region_known = self.model.profile, False
        # The model's verifier, with this recognizer's thresholds; without one, scene
        # plates are gated by character confidence alone.
        verifier = self.model.verifier
        self.verifier: PlateVerifier | None = None if verifier is None else replace(verifier, config=self.config.verifier)

    @property
    def spec(self) -> RecognizerSpec:
        """The picklable description from which another process builds this same Recognizer."""
        return RecognizerSpec(model_to_bytes(self.model), self.model.source or "model", self.region, tuple(self.overrides.items()))

    def layout_prior_counts(self) -> tuple[Mapping[str, int] | None, float]:
        """The {layout: count} that re-rank this recognizer's candidates and their pseudo-count out.

        A sub-region's own layouts, more strongly (format_smoothing); a region's pooled
        layouts, more gently (general_format_smoothing); or None when it has none.
        """
        settings = self.config.decoding
        if not self.profile.layouts:
            return None, settings.format_smoothing
        return self.profile.layouts, settings.format_smoothing if self.profile.parent else settings.general_format_smoothing

    def read_plate(self, plate: np.ndarray, origin: tuple[int, int] = (0, 0), in_scene: bool = False) -> PlateReading | None:
        """(H, W, 3) uint8 plate image in, its best reading out (boxes shifted by origin), or None.

        A two-line plate (see is_stacked_shape) reads top line first as one text. in_scene: the image was cut from a scene, so it may be no plate at all and its row
        needs the region's scene_characters; a cropped plate's row needs cropped_characters.
        """
        geometry, settings = self.profile.geometry, self.config.segmentation
        # A region with two-line plates reads a squarish plate line by line, top line first.
        segment = segment_stacked_plate if is_stacked_shape(plate, settings, geometry) else segment_plate
        segmented = segment(plate, self._predictor(), settings, geometry, in_scene)
        if segmented is None:
            return None
        layouts, smoothing = self.layout_prior_counts()
        fewest = (geometry.scene_characters if in_scene else geometry.cropped_characters)[0]
        scores = [candidate_score(p) for p in segmented.predictions]
        found = segmented.segmentation
        decoded = decode_row(segmented.predictions, scores, layouts, smoothing, self.profile.lookalikes, self.config.decoding, fewest, found.line_starts)
        crops = tuple(found.characters[i] for i in decoded.kept)
        best = decoded.candidates[0]
        characters = tuple(
            CharacterRead(char, confidence, crop.box.shifted(*origin)) for char, confidence, crop in zip(best.plate, decoded.confidences, crops)
        )
        box = Box(origin[0], origin[1], plate.shape[1], plate.shape[0])
        segmentation = replace(found, characters=crops, line_starts=kept_line_starts(found.line_starts, decoded.kept))
        return PlateReading(best.plate, best.confidence, box, characters, decoded.candidates, segmentation, box)

    def _predictor(self) -> Callable[[Sequence[CharacterCrop]], list[CharacterPrediction]]:
        """A classifier for the candidate characters of one plate: masks and gray pixels in, predictions out, each distinct crop classified once.

        Neighbouring threshold offsets and the passes over one plate cut many identical
        crops; their features are the costliest part of reading a plate.
        """
        known: dict[tuple, CharacterPrediction] = {}

        def predict(crops: Sequence[CharacterCrop]) -> list[CharacterPrediction]:
            keys = [(c.mask.shape, c.mask.tobytes(), c.gray.tobytes()) for c in crops]
            new = {key: crop for key, crop in zip(keys, crops) if key not in known}
            if new:
                found = self.model.classifier.predict(
                    [c.mask for c in new.values()], self.config.decoding.alternatives_per_character, [c.gray for c in new.values()]
                )
                known.update(zip(new, found))
            return [known[key] for key in keys]

        return predict

    def recognize(self, image: np.ndarray, cropped: bool = False) -> list[PlateReading]:
        """(H, W, 3) uint8 BGR image in, plates read from it out, best first.

        Each candidate read gives its best reading that passes; readings of one plate vote
        on its text (agreed_reading), and a short one gives way to a longer reading of the
        same place (whole_plate_reading). Best first: the plates read with at least
        sure_confidence, then the others, each group in the order of its plate score (the
        verifier's, or without one the confidence). With cropped=True the whole image is
        one plate and localization is skipped.
        """
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3 or image.size == 0:
            raise ValueError(f"expected a (H, W, 3) uint8 BGR image, got {image.dtype} shape {image.shape}")
        if cropped:
            reading = self.read_plate(image)
            return [self.identified(image, reading)] if reading is not None else []
        gray = to_gray(image)
        scored: list[tuple[float, PlateReading]] = []
        everything_judged: list[tuple[float, PlateReading]] = []
        rules = self.config.scene
        for rank, (candidate, plate_likeness) in enumerate(self.scored_candidates(image, gray)):
            sure = any(r.confidence >= rules.sure_confidence for _, r in scored)
            if sure and rank >= rules.read_candidates:
                break
            # Once a plate is read surely, only likely plates elsewhere are still worth a read.
            if sure and rules.other_plate_score is not None and plate_likeness < rules.other_plate_score:
                continue
            if not rules.reread_sure_plates and any(self._is_sure(r) and r.box.contains(candidate.box.centre) for _, r in scored):
                continue
            judged = self.judged_readings(image, gray, candidate)
            if not judged:
                continue
            everything_judged.extend(judged)
            # The best of the readings that pass, not the best one if it passes: a
            # 4-character part of the plate can outscore the whole and still fall short
            # of the higher score short readings need.
            accepted = [(score, reading) for score, reading in judged if self._accepted(score, reading)]
            if accepted:
                scored.append(max(accepted, key=lambda pair: pair[0]))
        kept = non_max_suppression([r.box for _, r in scored], [s for s, _ in scored], rules.duplicate_iou)
        plates = [whole_plate_reading(agreed_reading(scored, i, rules.duplicate_iou), everything_judged, rules) for i in kept]
        return [self.identified(image, plate) for plate in sure_first(plates, rules.sure_confidence)]

    def identified(self, image: np.ndarray, plate: PlateReading) -> PlateReading:
        """(H, W, 3) uint8 BGR image and a plate read from it in, the plate with its likeliest region out (see region_guesses)."""
        return replace(plate, region=self.region_guesses(image, plate)[0])

    def region_guesses(self, image: np.ndarray, plate: PlateRead) -> tuple[RegionGuess, ...]:
        """(H, W, 3) uint8 BGR image and a plate read from it in, the sub-regions it may be from out, likeliest first.

        The model's identifier judges the plate's look and layout; without one, the
        sub-regions' layouts alone rank them; a region without sub-regions is the only guess.
        """
        profile = self.model.profile
        # A sub-region named like its region (models trained on labels giving "br" as the state) is the region itself.
        layouts = {f"{profile.code}-{sub}": counts for sub, counts in profile.subregions.items() if sub != profile.code}
        identifier = self.model.identifier
        pixels = plate_image(image, tuple(plate.box.to_list()))
        if identifier is not None and pixels is not None:
            return identifier.identify(pixels, plate.text, layouts)
        if layouts:
            return layout_guesses(plate.text, layouts, IdentificationConfig().layout_smoothing)
        return (RegionGuess(profile.code, 1.0),)

    def candidates_to_read(self, image: np.ndarray, gray: np.ndarray) -> list[PlateCandidate]:
        """(H, W, 3) uint8 BGR scene and its gray copy in, the localization candidates worth reading out, best first (see scored_candidates)."""
        return [candidate for candidate, _ in self.scored_candidates(image, gray)]

    def scored_candidates(self, image: np.ndarray, gray: np.ndarray) -> list[tuple[PlateCandidate, float]]:
        """(H, W, 3) uint8 BGR scene and its gray copy in, (candidate, plate score) of the localization candidates worth reading out, best first.

        With a verifier, search_candidates are scored and the most plate-like
        read_candidates + fallback_candidates are returned (recognize reads the fallback
        ones only until a plate is read with sure_confidence); without one, the
        read_candidates best-filled blobs are, scored by their fill.
        """
        localization, rules, geometry = self.config.localization, self.config.scene, self.profile.geometry
        if self.verifier is None:
            return [(c, c.score) for c in plate_candidates(image, localization, geometry, rules.read_candidates)]
        settings = self.verifier.config
        candidates = plate_candidates(image, localization, geometry, settings.search_candidates)
        scores = self.verifier.candidate_scores(gray, candidates)
        order = [i for i in np.argsort(-scores, kind="stable") if scores[i] >= settings.min_candidate_score]
        return [(candidates[i], float(scores[i])) for i in order[: rules.read_candidates + rules.fallback_candidates]]

    def read_candidate(self, image: np.ndarray, candidate: PlateCandidate) -> PlateReading | None:
        """(H, W, 3) uint8 BGR scene and a localization candidate in, the reading of the candidate's region (plate box grown from its characters) out, or None."""
        margin = self.config.scene.crop_margin
        return self.read_region(image, candidate.box.expanded(margin, margin, image.shape[1], image.shape[0]))

    def read_region(self, image: np.ndarray, region: Box) -> PlateReading | None:
        """(H, W, 3) uint8 BGR scene and a region of it in, the region's reading with scene boxes (plate box grown from its characters) out, or None."""
        if region.w < 8 or region.h < 8:
            return None
        reading = self.read_plate(image[region.y : region.y + region.h, region.x : region.x + region.w], (region.x, region.y), in_scene=True)
        return None if reading is None else self._with_plate_box(reading, image.shape[1], image.shape[0])

    def judged_readings(self, image: np.ndarray, gray: np.ndarray, candidate: PlateCandidate) -> list[tuple[float, PlateReading]]:
        """(H, W, 3) uint8 BGR scene, its gray copy and a localization candidate in, its (plate evidence, reading) pairs out: none, the candidate's, and its plate box's.

        A candidate blob often holds part of a plate, or a plate and its surroundings; the
        plate box grown from the characters found is cut the way a plate is, so reading it
        again (reread_plate_box) recovers characters the blob cut off and steadies their
        scale. It is read again only when the first reading's evidence reaches reread_score.
        """
        first = self.read_candidate(image, candidate)
        if first is None:
            return []
        judged = [(self._plate_evidence(gray, first), first)]
        rules = self.config.scene
        if rules.reread_plate_box and (rules.reread_score is None or judged[0][0] >= rules.reread_score):
            again = self.read_region(image, first.box)
            if again is not None:
                judged.append((self._plate_evidence(gray, again), again))
        return judged

    def _plate_evidence(self, gray: np.ndarray, reading: PlateReading) -> float:
        """A scene reading in, how much it looks like a plate (higher is more) out: the verifier's score, or without one the reading's confidence."""
        if self.verifier is None:
            return reading.confidence
        return self.verifier.reading_score(gray, self.reading_evidence(reading))

    def detection_score(self, gray: np.ndarray, plate: PlateRead) -> float:
        """A scene's (H, W) uint8 gray copy and a plate read from it in, how plate-like it is in (0, 1) out: the verifier's score through a logistic (0.5 at its zero), or without one the confidence."""
        if self.verifier is None:
            return plate.confidence
        return float(1.0 / (1.0 + np.exp(-self.verifier.reading_score(gray, self.reading_evidence(plate)))))

    def _is_sure(self, reading: PlateReading) -> bool:
        """Whether a scene reading is sure enough that candidates on it need no reading: sure_confidence, and longer than a short reading."""
        rules = self.config.scene
        return reading.confidence >= rules.sure_confidence and len(reading.text) > rules.short_reading_characters

    def _accepted(self, evidence: float, reading: PlateReading) -> bool:
        """A scene reading and its _plate_evidence in, whether it is reported out."""
        rules = self.config.scene
        if self.verifier is not None:
            return evidence >= required_plate_score(len(reading.characters), self.verifier.config.min_score, rules)
        return reading.confidence >= rules.min_confidence and min(c.confidence for c in reading.characters) >= rules.min_character_confidence

    def reading_evidence(self, reading: PlateRead) -> ReadingEvidence:
        """A scene reading in, what the plate verifier judges it by out (its layout's share among this recognizer's layouts included)."""
        layouts, smoothing = self.layout_prior_counts()
        return ReadingEvidence(
            tuple(c.box for c in reading.characters),
            tuple(c.confidence for c in reading.characters),
            reading.confidence,
            reading.box,
            layout_prior(layouts, reading.text, smoothing) if layouts else 1.0,
        )

    def _with_plate_box(self, reading: PlateReading, width: int, height: int) -> PlateReading:
        """The reading with its box grown from the character band to the whole plate."""
        band = union_box([c.box for c in reading.characters])
        pad_x, pad_y = self.profile.geometry.plate_box_padding
        return replace(reading, box=band.expanded(pad_x, pad_y, width, height))
