"""Character segmentation: a plate image in, its characters (boxes, masks, gray pixels) in reading order out.

components: thresholding, connected components, bands and windows; rows: the character row
and the rules that edit it; plate: segment_plate, the algorithm that runs them; lines:
two-line plates read line by line.
"""

from .components import POLARITIES, Candidates, CharacterCrop, Segmentation, candidate_variants, threshold_settings
from .lines import is_stacked_shape, segment_stacked_plate
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
    "is_stacked_shape",
    "pooled_row",
    "segment_plate",
    "segment_stacked_plate",
    "select_row",
    "threshold_settings",
]
