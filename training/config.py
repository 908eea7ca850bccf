"""Settings read only while a model is trained; the model records them (Model.training)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TrainingConfig:
    """How the character classifier and the plate verifier are fitted (measurements in docs/experiments/)."""

    # LinearSVC regularization (C) of the character classifier: small generalizes across fonts.
    classifier_regularization: float = 0.1
    # Every training plate is also read shrunk to these heights (px): scene plates are 25-40 px high.
    shrunk_heights: tuple[int, ...] = (32,)
    # ...and degraded to these heights (px) as a distant camera sees them: blurred, low in contrast, JPEG-compressed.
    degraded_heights: tuple[int, ...] = ()
    # Character tiles are also learned shrunk to these heights (px): on scene and stacked plates characters are 12-20 px high.
    tile_heights: tuple[int, ...] = (16,)
    # Rounds of reading the training plates with the model and learning from its misreadings (emblems, band edges); 0 = none.
    hard_example_rounds: int = 0
    # A misreading teaches only within this many edits of the truth: a worse one is likelier cut wrong than read wrong.
    hard_example_edits: int = 2
    # Rounds of self-training on unlabeled crops (lpr train --unlabeled): read, keep the sure and consistent readings, retrain; 0 = none.
    self_training_rounds: int = 1
    # A self-training reading labels its crop only when every character is read at least this surely...
    self_training_confidence: float = 0.8
    # ...and the crop shrunk to these heights (px) reads the same text.
    self_training_check_heights: tuple[int, ...] = (32,)
    # The layouts of plates labeled without a state (scenes) count in the region's own layouts, not only its states'.
    scene_layouts: bool = False
    # Each format rule of the region's own (Brazil's two) counts as at least this share of its labeled plates' layouts:
    # rendered plates teach a format's font, not how common it is, and a newer format is on the road where no photo shows it.
    format_rule_share: float = 0.1
    # Fit the identifier of the region's sub-regions (US states) from crops labeled with one: a minute or more per model, so cross-validation of reading turns it off.
    identify_subregions: bool = True
    # LinearSVC regularization (C) of the identifier: each state has only a dozen crops or so.
    identifier_regularization: float = 0.01
    # LinearSVC regularization (C) of the verifier's two scores: a few hundred plates must generalize.
    verifier_regularization: float = 0.003
    # Verifier examples overlapping a labeled plate by more than this IoU are plates...
    positive_iou: float = 0.4
    # ...and those below this IoU non-plates; the ones in between teach nothing clear.
    negative_iou: float = 0.1
