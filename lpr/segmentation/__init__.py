"""Character segmentation: a plate image in, its characters (boxes, masks, gray pixels) in reading order out.

components: thresholding, connected components, bands and windows; rows: the character row
and the rules that edit it; plate: segment_plate, the algorithm that runs them.
"""

from .components import POLARITIES, Candidates, CharacterCrop, Segmentation, candidate_variants, threshold_settings
from .plate import SegmentedPlate, segment_plate
from .rows import candidate_score, pooled_row, select_row

__all__ = [
    "POLARITIES",
    "Candidates",
    "CharacterCrop",
    "Segmentation",
    "SegmentedPlate",
    "candidate_score",
    "candidate_variants",
    "pooled_row",
    "segment_plate",
    "select_row",
    "threshold_settings",
]
