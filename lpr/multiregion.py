"""Reading plates of several regions at once (--region auto): every region's Recognizer reads, the region identifier chooses per plate.

Each installed region model (models/us.npz, eu.npz, br.npz) reads the image; where the
readings of several models overlap, the one kept is the likeliest by the plate's look
(models/regions.npz, averaged over every model's box of it) times its reading
confidence. A plate's region is then that region's probability times the model's own
sub-region guess (a US state, a European country).
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .geometry import Box
from .identification import RegionIdentifier, plate_image, plate_look
from .model import REGIONS_IDENTIFIER, identifier_parts, load_identifier, load_model, read_identifier, shipped_model_path
from .pipeline import PlateReading, Recognizer, RecognizerSpec
from .records import RegionGuess

AUTO = "auto"
# Overlap above which two readings of different models are taken for one plate.
SAME_PLATE_IOU = 0.3


def installed_regions() -> list[str]:
    """The regions with a shipped model that the shipped region identifier tells apart, in its order."""
    if not shipped_model_path(REGIONS_IDENTIFIER).is_file():
        return []
    return [code for code in load_identifier(REGIONS_IDENTIFIER).classes if shipped_model_path(code).is_file()]


def _same_plate(first: Box, second: Box) -> bool:
    """Whether two plate boxes are one plate: they overlap by SAME_PLATE_IOU, or one holds the other's centre."""
    return first.iou(second) > SAME_PLATE_IOU or first.contains(second.centre) or second.contains(first.centre)


# A reading of a scene under --region auto: (index of the recognizer that read it, the plate, each region's probability at its box).
Judged = tuple[int, PlateReading, np.ndarray]


def _overlapping_groups(judged: list[Judged]) -> list[list[Judged]]:
    """Judged readings in, lists of them whose plates are one plate (see _same_plate) out, in first-seen order."""
    groups: list[list[Judged]] = []
    for item in judged:
        group = next((g for g in groups if any(_same_plate(item[1].box, other[1].box) for other in g)), None)
        if group is None:
            groups.append([item])
        else:
            group.append(item)
    return groups


@dataclass(frozen=True)
class MultiRegionSpec:
    """What a MultiRegionRecognizer is made of, picklable: each region's RecognizerSpec and the identifier file's bytes."""

    recognizers: tuple[RecognizerSpec, ...]
    identifier: bytes

    def build(self) -> MultiRegionRecognizer:
        """The MultiRegionRecognizer this spec describes."""
        return MultiRegionRecognizer([spec.build() for spec in self.recognizers], read_identifier(io.BytesIO(self.identifier), "identifier", _entry(self.identifier)))

    @property
    def key(self) -> str:
        """A text that is equal for two specs exactly when they build the same recognizer."""
        return json.dumps([hashlib.sha256(self.identifier).hexdigest(), [spec.key for spec in self.recognizers]])


def _entry(data: bytes) -> dict[str, Any]:
    """The bytes of an identifier .npz in, its metadata's "identifier" entry out."""
    with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
        return json.loads(str(arrays["metadata"].item()))["identifier"]


class MultiRegionRecognizer:
    """Recognizers of several regions and the identifier that tells their plates apart; reads like a Recognizer."""

    region = AUTO

    def __init__(self, recognizers: Sequence[Recognizer], identifier: RegionIdentifier):
        codes = [r.model.profile.code for r in recognizers]
        missing = [code for code in codes if code not in identifier.classes]
        if len(recognizers) < 2 or len(set(codes)) != len(codes) or missing:
            raise ValueError(f"--region auto needs models of at least two distinct regions the identifier knows ({', '.join(identifier.classes)}), got {codes}")
        self.recognizers = list(recognizers)
        self.identifier = identifier
        self._columns = [identifier.classes.index(code) for code in codes]

    @classmethod
    def installed(cls, overrides: Mapping[str, Any] | None = None) -> MultiRegionRecognizer:
        """The shipped region models and identifier in, a recognizer of all of them out (overrides apply to each); ValueError when fewer than two are installed."""
        regions = installed_regions()
        if len(regions) < 2:
            raise ValueError("--region auto needs models/regions.npz and at least two region models")
        return cls([Recognizer(load_model(code), overrides=overrides) for code in regions], load_identifier(REGIONS_IDENTIFIER))

    @property
    def model(self):
        """The first region's model (what a single-region caller shows as 'the model')."""
        return self.recognizers[0].model

    @property
    def config(self):
        """The first region's settings (the pictures of debug output use its localization)."""
        return self.recognizers[0].config

    @property
    def spec(self) -> MultiRegionSpec:
        """The picklable description from which another process builds this same recognizer."""
        arrays, entry = identifier_parts(self.identifier)
        buffer = io.BytesIO()
        np.savez(buffer, **arrays, metadata=np.array(json.dumps({"identifier": entry})))
        return MultiRegionSpec(tuple(r.spec for r in self.recognizers), buffer.getvalue())

    def region_probabilities(self, plate: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 BGR plate in, the (len(recognizers),) probability that each recognizer's region issued it out."""
        return self.identifier.look_probabilities(plate_look(plate, self.identifier.config)[None])[0, self._columns]

    def recognize(self, image: np.ndarray, cropped: bool = False) -> list[PlateReading]:
        """(H, W, 3) uint8 BGR image in, the plates of every region read from it out, best first, each with its region.

        A cropped plate is read by the region its look is likeliest from (the next
        likeliest when that one reads nothing); in a scene every region reads, and of
        overlapping readings the one with the most region probability (its look averaged
        over the boxes of all of them) times reading confidence is kept.
        """
        if cropped:
            probabilities = self.region_probabilities(image)
            for index in np.argsort(-probabilities, kind="stable"):
                found = self.recognizers[index].recognize(image, cropped=True)
                if found:
                    return [self._with_region(found[0], probabilities[index])]
            return []
        judged: list[Judged] = []
        for index, recognizer in enumerate(self.recognizers):
            for plate in recognizer.recognize(image):
                pixels = plate_image(image, tuple(plate.box.to_list()))
                shares = np.zeros(len(self.recognizers)) if pixels is None else self.region_probabilities(pixels)
                judged.append((index, plate, shares))
        kept: list[PlateReading] = []
        for group in _overlapping_groups(judged):
            # Each region model frames a plate its own way: the look in every frame has a say.
            shares = np.mean([item[2] for item in group], axis=0)
            index, plate, _ = max(group, key=lambda item: shares[item[0]] * item[1].confidence)
            kept.append(self._with_region(plate, shares[index]))
        return sorted(kept, key=lambda plate: -plate.confidence)

    @staticmethod
    def _with_region(plate: PlateReading, share: float) -> PlateReading:
        """A plate with its model's sub-region guess in, the same with that guess's score times its region's share out."""
        guess = plate.region or RegionGuess("", 1.0)
        return replace(plate, region=RegionGuess(guess.code, float(np.clip(share * guess.score, 0.0, 1.0))))
