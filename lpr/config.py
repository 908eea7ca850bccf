"""Every tunable parameter of the pipeline, grouped by stage, with defaults that explain themselves."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class VerifierConfig:
    """Parameters of the plate/not-plate verifier of scene candidates and readings (lpr.verification)."""

    # A region is resized to this (width, height) before HOG: about the 3:1 shape of a row
    # of 5-8 characters, small enough that a 60 px scene plate is not upsampled much.
    window: tuple[int, int] = (96, 32)
    # HOG cell size (blocks are 2x2 cells, stride one cell) and orientation bins.
    hog_cell: int = 8
    hog_bins: int = 9
    # The region is grown by these fractions of its (width, height) so the plate border and
    # background around the characters are part of the evidence.
    band_margin: tuple[float, float] = (0.1, 0.3)
    # A reading is also judged by the HOG of its whole plate box (the band grown to the
    # plate, see RecognitionConfig.plate_box_padding), resized to plate_window (width,
    # height) after growing by plate_margin: plate border, state name and slogan tell a
    # plate from a sign or a grille. Held-out, with min_score 0: without it detection 79.3%
    # and 1.25% of negatives with a plate; 64x32 -> 83.6%, 1.0%; 96x48 -> 85.0%, 1.0%.
    plate_window: tuple[int, int] = (96, 48)
    plate_margin: tuple[float, float] = (0.05, 0.05)
    # LinearSVC regularization (C): small, since a few hundred plates must generalize.
    # Held-out (5 folds; scene detection, images of negatives with a plate) at min_score
    # 0.25: C 0.003 -> 85.0%, 0.5%; 0.01 -> 85.7%, 0.75%; 0.03 -> 82.9%, 0.75%.
    regularization: float = 0.003
    # Localization candidates considered per scene, before the verifier ranks them and
    # the best localization.max_candidates (and, when those give no sure plate, up to
    # localization.fallback_candidates more) are read; also the candidates used in training.
    search_candidates: int = 30
    # Training examples overlapping a labeled plate by more than positive_iou are plates,
    # those below negative_iou non-plates; the ones in between teach nothing clear.
    positive_iou: float = 0.4
    negative_iou: float = 0.1
    # Candidates scoring below min_candidate_score are not read, and a reading is reported
    # when its score reaches min_score (0 = the SVM's own boundary). Held-out sweep on
    # us-scenes / negatives (5 folds, C 0.01; detection, images of negatives with a plate):
    # min_score 0 -> 88.6%, 1.5%; 0.25 -> 85.7%, 0.75%; 0.5 -> 79.3%, 0.5%; 0.75 -> 70.0%,
    # 0.25%. min_candidate_score -1.5 and -1.0 gave the same figures (-1.0 reads fewer
    # regions), -0.75 lost 2 points of detection. With the gray HOG classifier (scenes
    # exact, detection, scenes with a false plate, negatives with a plate): min_score 0.25
    # -> 57.9%, 82.1%, 2.1%, 0.75%; 0.1 -> 60.0%, 85.0%, 2.9%, 1.25%; and with
    # recognition.max_not_character 0.8: 0.2 -> 59.3%, 83.6%, 1.4%, 0.5%; 0.1 -> 61.4%,
    # 85.7%, 2.1%, 0.5%; 0 -> 61.4%, 85.7%, 2.9%, 0.5%. With band windows (see
    # SegmentationConfig.max_band_window_height) and verifiers retrained for them: 0.1 ->
    # 72.1%, 89.3%, 4.3%, 1.0%; 0.15 -> the same but 3.6% of scenes with a false plate;
    # 0.2 -> 72.1%, 89.3%, 2.9%, 0.5%; 0.3 -> 70.7%, 87.9%, 2.1%, 0.5%. With fallback
    # candidates and the reading vote (kept verifiers): 0.1 -> 73.6%, 91.4%, 2.9%, 0.5%;
    # 0.15 -> 73.6%, 91.4%, 2.1%, 0.5%; 0.2 -> 73.6%, 91.4%, 1.4%, 0.0%.
    min_candidate_score: float = -1.0
    min_score: float = 0.2


@dataclass(frozen=True)
class LocalizationConfig:
    """Parameters of plate localization in a full scene (lpr.localization)."""

    # Plates span roughly 50-260 px in our frames; each working scale looks for plates
    # of a limited size range, so several scales are needed to cover all of them.
    scales: tuple[float, ...] = (1.0, 0.5)
    # Frames whose long side exceeds this (px) are shrunk to it before the candidate search
    # (0 = never): the kernels and sizes below are tuned for 720p-1080p frames, so in a 4K
    # frame plates would be too big for them, and the search would take four times as long.
    # Candidate boxes are mapped back to full resolution, where plates are read.
    max_side: int = 1920
    # Blackhat kernel (width, height): a bit wider than a character stroke gap, so dark
    # characters on a light plate stand out from the plate background.
    blackhat_kernel: tuple[int, int] = (13, 5)
    # Closing kernel (width, height) that joins the characters of one plate into one blob.
    closing_kernel: tuple[int, int] = (11, 5)
    # The closed text gradient is thresholded at each of these multiples of its Otsu level,
    # and each mask gives candidates. Otsu alone suits a frame with little clutter; in a busy
    # one (a white truck's lettering, a fence, a dark car over asphalt) it falls so low that
    # a plate's text merges with everything around it into one blob of no plate's shape,
    # while a higher level leaves the plate's own text blob standing. A later level only
    # adds blobs where the earlier ones have none overlapping by more than nms_iou: there
    # its tighter blob of a plate cuts characters. Localization alone on us-scenes (truth
    # among 30 candidates, IoU > 0.4): (1.0,) -> 132 of 140; (1.0, 1.5) -> 135; (1.0, 1.5,
    # 2.2) -> 135; (1.0, 0.7, 1.5) -> 137. Held-out, whole pipeline (fold models trained
    # for (1.0,); scenes right, detected, negatives with a plate): (1.0,) -> 103, 128, 2;
    # levels pooled before suppression: (1.0, 1.5) -> 105, 129, 2; (1.0, 1.5, 2.2) -> 104,
    # 131, 2; (1.0, 0.7, 1.5) -> 97, 131, 2 (the low level's big blobs read worse). With
    # the whole-plate and best-passing reading rules (lpr.recognizer) as well, (1.0, 1.5)
    # pooled -> 106, 129, 2; added only -> 107, 131, 2 (on fold models retrained for
    # pooled (1.0, 1.5): 106, 131, 1 -> 107, 133, 1).
    gradient_levels: tuple[float, ...] = (1.0, 1.5)
    # Kernel that closes the light-region mask (plate backgrounds are light).
    light_kernel: tuple[int, int] = (3, 3)
    # CLAHE clip limit (0 = off) and tile grid (columns, rows) applied to the gray scene.
    clahe_clip: float = 2.0
    clahe_grid: tuple[int, int] = (8, 8)
    # A pixel is "light" when it reaches light_ratio times the mean of its light_window
    # neighbourhood (0 = global Otsu instead).
    light_window: int = 81
    light_ratio: float = 0.9
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
    # Two blobs are also joined into one candidate when they share a row: heights within
    # join_height_ratio, vertical overlap at least join_overlap of the lower one, and a gap
    # of at most join_gap times the taller height (a plate's central logo or bolt).
    join_height_ratio: float = 1.6
    join_overlap: float = 0.6
    join_gap: float = 1.0
    # Candidates overlapping more than this (IoU) are the same plate seen twice. A loose
    # value keeps a whole plate beside the half of it that fills its box better (a plate
    # split by its logo, or its characters without the state name). Localization alone on
    # us-scenes (best of 30 candidates with IoU > 0.4 / > 0.6): 0.3 -> 91.4% / 70.7%;
    # 0.5 -> 94.3% / 74.3%; 0.7 -> 94.3% / 81.4%; 0.9 -> 95.0% / 84.3%. Held-out, whole
    # pipeline (5 fold models, verifiers retrained; scenes exact, detection, negatives with
    # a plate): 0.3 -> 62.1%, 84.3%, 0.5%; 0.7 -> 66.4%, 88.6%, 0.5%.
    nms_iou: float = 0.7
    # At most this many candidates per image go on to segmentation, which is most of a
    # frame's time: the verifier's best when the model has one, else the best-filled blobs.
    # Held-out detection with 3 / 4 / 5 / 6 / 8 read: 78.6% / 80.7% / 81.4% / 82.1% / 82.1%.
    # With seven threshold settings and the band pass (scene detection / exact, median ms
    # per 1280x720 frame on one core): 4 -> 84.3% / 55.0%, 35.4 ms; 5 -> 85.0% / 55.0%,
    # 38.0 ms; 6 -> 85.7% / 55.0%, 41.2 ms.
    max_candidates: int = 4
    # When none of those gives a sure plate (RecognitionConfig.sure_confidence), up to
    # this many more of the verifier's next best are read until one does: a plate whose
    # blob ranks low behind a grille or sign is still found, at the cost of reading more
    # of a plate-free frame. Held-out, read while no plate at all is found (5 fold
    # models; scenes right, detected, negatives with a plate; sum of times on 40 scenes
    # and 40 negatives against none): 0 -> 102, 126, 0; 10 -> 102, 127, 0; 16 -> 103,
    # 128, 0, 1.11x scenes, 1.54x negatives; 26 -> 103, 128, 0. Reading 20 every time
    # instead: 102, 129, 0 without the reading vote, 1.41x scenes.
    fallback_candidates: int = 16
    # Margin added around a candidate before it is read, as a fraction of its size, so
    # characters cut by a tight blob are not lost.
    crop_margin: float = 0.15
    # The learned plate/not-plate checks of scene candidates and of their readings.
    verifier: VerifierConfig = field(default_factory=VerifierConfig)


@dataclass(frozen=True)
class SegmentationConfig:
    """Parameters of character segmentation on one plate image (lpr.segmentation)."""

    # Plates are resized to this height before thresholding, so every size below is
    # relative to a plate of this height.
    plate_height: int = 120
    # Adaptive threshold: neighbourhood size (odd, px), and the offsets from the local mean
    # tried for dark characters on a light plate and for light ones on a dark plate (an
    # empty tuple skips that polarity); the recognizer pools the characters of all of them.
    # Each setting costs a thresholding and a labeling per candidate, most of a frame's time.
    # Light plates win about 1 reading in 16. High offsets thin the strokes, which parts
    # characters touching each other on small, blurred plates. 5-fold cross-validation with
    # one set of fold models (crops exact / characters, scenes exact): block 31, dark (5, 10,
    # 20, 30): 83.1% / 94.0%, 50.7%; dark (5, 10, 20, 35, 50): 85.3% / 95.1%, 53.6%; dark (5, 10,
    # 20, 35, 50, 70): 85.3% / 95.3%, 55.7%; light (10, 30, 50) added nothing; block 25, 41, 51,
    # 61 with the six dark offsets: 84.6%, 87.6%, 86.9%, 86.4% crops, 54.3%, 55.0%, 55.0%, 50.7%
    # scenes. Retrained for block 41 and the six offsets: 85.5% / 95.4%, 55.7% (C 0.3).
    # One light offset reads as well as two (light 20, 30 or (10, 30): 86.1% crops, 57.1%
    # scenes) and saves a seventh of segmentation's time.
    # A plate height of 80 instead of 120 lost 3 points of exact on crops.
    block_size: int = 41
    dark_offsets: tuple[int, ...] = (5, 10, 20, 35, 50, 70)
    light_offsets: tuple[int, ...] = (20,)
    # Character geometry relative to the plate height and to its own box.
    min_height_fraction: float = 0.25
    max_height_fraction: float = 0.95
    min_aspect: float = 0.08
    max_aspect: float = 1.2
    min_fill: float = 0.12
    max_fill: float = 1.0
    # Characters of one plate share a row: heights within this fraction of each other and
    # vertical centres within this fraction of the height.
    height_tolerance: float = 0.25
    center_tolerance: float = 0.3
    max_characters: int = 9
    # Characters of one row hardly overlap along x; candidates overlapping more than this
    # fraction of the narrower one's width are rival cuts of the same character.
    max_horizontal_overlap: float = 0.3
    # One font per plate: a row member whose height differs from the row's median by more
    # than this fraction, or wider than max_width_ratio x the median width (the widest
    # letters, M and W, stay well below it), is a logo, sticker or small text.
    row_height_spread: float = 0.2
    max_width_ratio: float = 1.4
    # A component of the row's height but too wide for one character is usually a character
    # touching a logo, dash or picture: windows of split_width x the row's median character
    # width, split_step of it apart, are cut from it and read as candidates of their own
    # (0 = off). A window's ink must span min_split_height of the row's median height.
    split_width: float = 1.1
    split_step: float = 0.2
    min_split_height: float = 0.8
    # Windows are only searched for in a gap between two row characters whose centres are
    # at least split_gap x the row's median pitch apart (room for the lost character).
    # 5-fold cross-validation on us-plates: off -> exact 78.8%, characters 92.89%; on ->
    # 79.2%, 93.00%; every gap (split_gap 0) -> 78.8%; row ends searched too -> 76.5%.
    split_gap: float = 1.6
    # Beyond the row's ends (a first or last character touching the frame or artwork),
    # windows are searched only where the row's next character would be: centre within
    # end_split_tolerance x pitch of one pitch past the end (0 = off). 5-fold, us-plates
    # exact: off -> 82.1%; 0.15 -> 83.3%; 0.2 and 0.25 -> 83.0%; 0.4 -> 82.3%.
    end_split_tolerance: float = 0.25
    # In rows of characters shorter than this (px, in the image given; 0 = never), windows
    # are also cut straight from every binary's band where the row's pitch puts a lost
    # character (see lpr.segmentation.band_windows and lpr.recognizer.pitch_spots): a small
    # blurred character merges with its neighbour, a dot or the frame into a blob of no
    # character's shape. Big characters seldom merge, and there the windows find logos in
    # the plate's spacing. Held-out (5 fold models, release verifiers; crops right,
    # characters; scenes right; negatives with a plate): off -> 560, 97.59%; 96; 2.
    # Between characters only, any height -> 553, 97.40%; 98; 2 (DC flags, New York's
    # state, dashes read as characters); under 24 px -> 560, 97.59%; 98; 2. Ends too:
    # under 20 / 24 / 32 px -> 560 / 560 / 559 crops, 101 scenes, 1 negative. A window's
    # score must reach recognition.min_split_score: 0.3 and 0.7 instead of 0.5 -> 97 / 100 scenes.
    max_band_window_height: int = 24
    # Once a row is found, every threshold setting's binary is cut to the row's band (its
    # median top and bottom grown by band_margin x the median character height) and its
    # components are found again: characters touching the frame, bolts or slogan come free
    # (None = no second pass).
    band_margin: float | None = 0.15
    # The band needs a row first; a plate whose characters all touch the frame's top or
    # bottom edge has none. When no polarity has a row of a plate's length, every binary is
    # searched again with its horizontal ink runs longer than line_length x the plate height
    # removed (frame edges, underlines; a character's widest run is about half that), which
    # frees such characters (0 = no such pass). Held-out (5 fold models, release verifiers;
    # crops right, characters; scenes right, detected; negatives with a plate): off -> 560,
    # 97.59%; 101, 125; 2. 0.6 -> 561, 97.75%; 101, 127; 2. Run on every plate, not only
    # rowless ones: 0.4 -> 563; 101, 126; 2. 0.5 -> 563; 101, 127; 2. 0.6 -> 562, 97.78%;
    # 102, 127; 2. 0.8 -> 561; 102, 125; 2; but 1.41x the crop time and 1.26x the scene time
    # (rowless only: 1.11x and 1.08x). Removing vertical runs (frame posts) too did no
    # better (101 scenes); training the classifier on the freed candidates did worse (96).
    line_length: float = 0.6


@dataclass(frozen=True)
class FeatureConfig:
    """Parameters of the Block Binary Pixel Sum descriptor (lpr.features)."""

    # A character is padded to this aspect and resized to (height, width) pixels...
    char_size: tuple[int, int] = (32, 16)
    # ...and the fraction of foreground pixels in every (height, width) block is one
    # feature; every block size must divide char_size.
    block_sizes: tuple[tuple[int, int], ...] = ((2, 2), (4, 4), (8, 8), (16, 8))
    # Histogram of oriented gradients of the same normalized character, appended to the
    # BBPS vector: stroke directions tell apart shapes with similar ink per block (8/B,
    # 0/D/Q). Cell size in pixels (must divide char_size; 2x2-cell blocks, stride one
    # cell) and orientation bins; 0 bins turns it off.
    hog_cell: int = 4
    hog_bins: int = 9
    # HOG of the character's shading (the gray pixels under its box, stretched from
    # background to ink): a small blurred character's mask loses strokes its shading keeps.
    # Same cell and bin rules as the mask's HOG; 0 bins turns it off. Held-out, 5 folds
    # (crops exact, characters, top 5; scenes exact, detection; scenes with a false plate;
    # negatives with a plate): mask HOG in 8 px cells, no gray HOG -> 85.5%, 95.4%, 89.3%;
    # 55.0%, 85.7%; 5.7%; 0.75%. 4 px cells -> 86.6%, 95.6%, 89.3%; 54.3%, 85.7%; 3.6%; 1.25%.
    # 4 px cells and gray HOG in 4 px cells -> 88.6%, 96.0%, 90.9%; 57.9%, 82.1%; 2.1%; 0.75%.
    gray_hog_cell: int = 4
    gray_hog_bins: int = 9


@dataclass(frozen=True)
class ClassifierConfig:
    """Parameters of the character classifier's training (lpr.classification, lpr.training)."""

    # LinearSVC regularization (C). 5-fold cross-validation on us-plates (exact, characters,
    # truth in the top 5): 0.1 -> 80.7%, 93.2%, 84.1%; 0.3 -> 80.7%, 93.4%, 84.3%;
    # 1 -> 80.3%, 93.3%, 82.6%; 3 -> 79.2%, 93.0%, 82.0%. With block 41, six dark offsets and
    # shrunk plates (more and thinner samples): 0.3 -> 85.3%, 95.3%, 88.9%, scenes exact 56.4%,
    # negatives with a plate 0.75%; 0.1 -> 86.1%, 95.3%, 89.9%, 55.0%, 0.25%.
    regularization: float = 0.1
    # Every training plate is also read shrunk to these heights (px): scene plates are
    # often 25-40 px high, and their characters, upscaled for segmentation, are blockier
    # than those of a sharp crop. Held-out (5 folds, classifier retrained; crops exact, the
    # labeled scene box read): (32,) -> 90.7%, 71.4%; (24, 32) -> 90.1%, 74.3% (40% more
    # samples), left out while it costs crops.
    shrunk_heights: tuple[int, ...] = (32,)


@dataclass(frozen=True)
class RecognitionConfig:
    """How character readings become plate readings (lpr.recognizer)."""

    # Characters a scene plate's row may have: in a scene, a row of three is far likelier a
    # sign, a grille or part of a plate than a whole plate.
    min_characters: int = 4
    max_characters: int = 8
    # A plate given cropped is a plate, so rows this short and this long are read from it
    # (3-character vanity, motorcycle and dealer plates; 9-character vanity plates).
    # Held-out on us-plates (5 fold models): 4-8 -> 91.1% exact; 3-8 -> 91.7% (4 more
    # plates right, none lost); 4-9 -> 91.6% (3 more, none lost); 3-9 -> 92.2%. On scenes,
    # rows of 3 cost 2 detections of 140 (a short row beating the whole plate), and 4-9
    # moved a retrained cross-validation by noise (scenes exact 69.3% -> 68.6%, negatives
    # with a plate 0.5% -> 0.75%): scenes keep 4-8.
    min_cropped_characters: int = 3
    max_cropped_characters: int = 9
    # A plate is reported only when its confidence (mean character confidence) reaches this.
    min_confidence: float = 0.5
    # A scene plate is also dropped when its weakest character is below this.
    min_character_confidence: float = 0.15
    # With a verifier, a scene reading of at most short_reading_characters characters needs
    # the verifier's min_score plus short_reading_margin: 4-character plates are rare (4% of
    # the US crops, none of the scenes), and a 4-character reading of a scene is far likelier
    # part of a longer plate, or a sign. Held-out (5 fold models; scenes right, detected,
    # with a false plate; negatives with a plate, of 140 and 400): 0 -> 101, 127, 3, 2;
    # 0.25 -> 101, 126, 3, 1; 0.5 -> 101, 126, 2, 0; 1 -> 101, 125, 2, 0; 2 -> 101, 124, 2, 0.
    # Not reading 4-character rows in scenes at all (min_characters 5) -> 103, 126, 4, 1.
    short_reading_characters: int = 4
    short_reading_margin: float = 0.5
    # Number of alternative readings per plate ("candidates" in the JSON output).
    top_n: int = 5
    # With the plates' state given, candidates are ranked by probability times the share
    # of their layout among the state's training plates, this pseudo-count added to every
    # layout (seen or not): larger trusts the character shapes more, smaller the layouts.
    # 5-fold cross-validation on us-plates, exact with the state given: 0.02 and 0.05 ->
    # 0.785, 0.1 -> 0.782, 0.5 -> 0.779, 1 -> 0.777 (0.775 without the state); a layout
    # always winning (no unseen layout allowed) fell to 0.714.
    format_smoothing: float = 0.05
    # Without a state (or for a state the model has no layouts for), the layouts of every
    # state together rank the candidates the same way, with this pseudo-count: US plates
    # share a handful of layouts. 5-fold cross-validation on us-plates without a state:
    # off -> exact 79.2%, characters 93.00%; 0.05 -> 79.8%, 93.07%; 0.5 -> 80.2%, 93.16%;
    # 2 -> 79.7%, 93.03%.
    general_formats: bool = True
    general_format_smoothing: float = 0.5
    # Alternatives per character considered when building the candidates.
    alternatives_per_character: int = 3
    # Groups of characters many states print alike. When layouts rank the candidates, a
    # group's members share lookalike_share of its pooled probability evenly (the rest
    # stays the classifier's), so a common layout can pick between them (see
    # lpr.plate_formats.lookalike_predictions). A small share is enough: it only has to
    # put O among the guesses for the layout to weigh. Held-out on us-plates (5 fold
    # models, no state; exact, truth in top 5): 0 -> 87.8%, 90.1%; 0.05 and 0.1 -> 88.6%,
    # 91.4%; 0.15 -> 87.9%; 0.2 -> 87.6%; 0.5 -> 86.1%; 1 -> 84.0%. Large shares lose the
    # vanity plates, which are labeled with 0 for the round glyph ("CHICAG0") where the
    # all-letter layout says O. Adding 1I, 8B, 5S or 2Z changed nothing; scenes unchanged.
    lookalikes: tuple[str, ...] = ("0O",)
    lookalike_share: float = 0.05
    # When layouts rank the candidates, a row end goes if the rest reads in a much commoner
    # layout: a logo the classifier reads as a sure character ("A100AJA": Maine's ribbon
    # before 100AJA). The whole row and the row less either end are scored by their
    # members' geometric mean score times their best reading's layout share; a dropped end
    # costs dropped_end_weight times its chance of not being read right. Held-out on
    # us-plates (5 fold models; exact without / with the state): 0 (never) -> 90.7% / 90.7%;
    # 0.1 -> 91.1% / 91.2%, no plate lost; 0.3 -> 91.1% / 91.1% (one lost with the state);
    # 1 -> 91.1% / 89.9%. Letting middle members go too won two more with the state but
    # lost one with and one without it.
    dropped_end_weight: float = 0.1
    # Segmentation candidates whose "not a character" probability reaches this are dropped
    # before the character row is chosen. Held-out with the gray HOG classifier (crops
    # exact; scenes exact, negatives with a plate at verifier min_score 0.1): 0.9 -> 88.6%;
    # 60.0%, 1.25%; 0.8 -> 87.8%; 61.4%, 0.5%; 0.7 -> 87.8%; 60.0%, 0.5%.
    max_not_character: float = 0.8
    # A first or last member of the row whose score (confidence x P(character)) is below
    # this is dropped while the row keeps min_characters (logos and stickers at the ends).
    # 5-fold cross-validation on us-plates: 0 (off) -> exact 0.775, 0.1 -> 0.780,
    # 0.15-0.25 -> 0.787, 0.35-0.5 -> 0.783. With the band pass and end windows (crops exact,
    # scenes exact / detection): 0.1 -> 85.6%, 52.9% / 84.3%; 0.2 -> 86.1%, 55.0% / 84.3%;
    # 0.3 -> 86.1%, 57.1% / 85.0%; 0.4 -> 85.5%, 57.9% / 83.6%.
    min_end_score: float = 0.3
    # An end member one pitch from its neighbour, of the row's height and line (see
    # lpr.recognizer.fits_row), needs only min_fitting_end_score: a narrow "1" reads as
    # doubtfully as a frame post but sits where a character would. Held-out on us-plates
    # (5 fold models): min_fitting_end_score 0.3 (off) -> exact 88.6%; 0.1, 0.05 and 0 ->
    # 89.1%, the same with row_pitch_tolerance 0.1-0.25 and row_line_tolerance 0.08-0.15.
    min_fitting_end_score: float = 0.1
    row_pitch_tolerance: float = 0.15
    row_line_tolerance: float = 0.08
    # A middle member more than (1 + row_pitch_tolerance) pitches from both neighbours (a
    # logo between two groups of characters) goes when it scores below this (see
    # lpr.recognizer.lonely_members). Held-out on us-plates (5 fold models, exact): off
    # -> 89.1%; 0.15 -> 89.1%; 0.3 and 0.5 -> 89.4%; 0.8 -> 89.6%; any score (always) ->
    # 89.1%. Scenes unchanged. A stricter score for end members off the row's line lost
    # 0.2-0.3% and was left out.
    min_lonely_score: float = 0.5
    # Emblems in line with the text (Georgia's peach, Utah's arch, a seal, a sticker, a
    # wheelchair) read as doubtful characters but are seldom the characters' colour: a row
    # member whose ink (mean 8-bit CIELAB under its mask) lies farther than
    # max_ink_colour_distance from the members' median ink colour, and which scores below
    # max_off_colour_score, goes while the row keeps its minimum length (None: never).
    # Only rows of characters at least min_colour_character_height px high: JPEG keeps
    # colour at half resolution, so the thin strokes of small characters take on the
    # background's. Held-out on all three sets (5 fold models; crops exact, characters;
    # scenes exact; negatives with a plate): off -> 558, 97.48%; 97; 2. Distance 60,
    # score 0.9, any height -> 560, 97.59%; 97; 3 (a 12 px "WATCHING" read as a plate).
    # With 16 px: distance 45 / 50 / 60 / 70 -> 558 / 559 / 560 / 559 crops, 97.58% /
    # 97.60% / 97.59% / 97.53%, scenes 96 / 97 / 97 / 97, negatives 2; at distance 60,
    # score 0.7 / 0.8 / 0.9 / 1 -> 560 / 560 / 560 / 559 crops. Distance 25 -> 500 crops.
    max_ink_colour_distance: float | None = 60.0
    max_off_colour_score: float = 0.8
    min_colour_character_height: int = 16
    # Candidates the classifier takes for junk (a narrow "1", a thin "T") join the row when
    # they fit it (one pitch from a neighbour, of its height and line; see
    # lpr.recognizer.rescued_members) and score at least this. Held-out on us-plates (5
    # fold models, exact): off -> 89.4%; 0 -> 90.1%; 0.01-0.03 -> 90.7%; 0.05 -> 90.4%.
    # Scenes exact unchanged, detection 85.7% -> 86.4%; negatives unchanged.
    min_rescue_score: float = 0.02
    # A window cut from a too-wide component (see SegmentationConfig.split_width) joins the
    # row only with at least this score. 5-fold, us-plates exact: 0.3 -> 82.8%, 0.5 and 0.7 -> 83.1%.
    min_split_score: float = 0.5
    # Rounds of window search: each round's windows may make room for the next round's
    # (several merged characters in a row).
    split_rounds: int = 3
    # The character band is grown by these fractions of its (width, height) on each side
    # to give the plate's box: US characters fill about 80% of a plate's width, 45% of its height.
    plate_box_padding: tuple[float, float] = (0.12, 0.6)
    # A scene candidate's reading is read again from its plate box (see plate_box_padding),
    # and the verifier keeps the more plate-like of the two (the confidence does without a
    # verifier). Blobs cut plates short or include the bumper around them. Held-out (5 fold
    # models with localization.nms_iou 0.7; scenes exact, detection, negatives with a
    # plate): off -> 66.4%, 88.6%, 0.5%; on -> 69.3%, 89.3%, 0.5%. With nms_iou 0.3, scenes
    # exact: off 62.1%, on 65.0%; the plate box grown by 15% instead 62.9%; both (a third
    # reading) 65.7%. A verifier also trained on the second readings did worse (68.6%,
    # 87.9%, 0.75%), so it learns from first readings only. Reading 6 candidates changed nothing.
    reread_plate_box: bool = True
    # Readings whose plate boxes overlap more than this (IoU) are one plate: the most
    # evident one is reported, with the text their evidence votes for (see
    # lpr.recognizer.agreed_reading). Held-out (5 fold models; scenes right, detected):
    # the best reading's own text -> 101, 126; the vote -> 102, 126.
    duplicate_iou: float = 0.2
    # A scene plate read with at least this confidence is sure. The fallback candidates
    # (LocalizationConfig.fallback_candidates) are read until a sure plate is found, and
    # sure plates are reported before doubtful ones: a sign or grille accepted as a
    # doubtful plate no longer hides the real one, nor comes first. Held-out (5 fold
    # models; scenes right, detected, negatives with a plate): fallback only while no plate
    # is found -> 103, 128, 0; while none is sure, for 0.1 / 0.3 / 0.5 / 0.8 -> 103, 129, 0
    # each; sure plates first too, 0.3 / 0.5 / 0.8 -> 104, 129, 0 each.
    sure_confidence: float = 0.5
    # A scene plate read as at most short_reading_characters characters is replaced by a
    # longer reading of the same place that holds its characters in order and that the
    # verifier scores at least this (0 = its own boundary, below the reporting threshold):
    # a partial reading can score higher than the whole plate's (lpr.recognizer.
    # whole_plate_reading). Replayed over the judged readings of two sets of fold models
    # (scenes right, detected, negatives with a plate): off -> 105, 129, 2 and 104, 130, 1;
    # on -> 106, 129, 2 and 105, 130, 1; the same for a floor of -0.2 or none. Applied to
    # 5-character readings too -> 106 and 106, by replacing a sign's reading; to 6 -> 104.
    whole_plate_score: float = 0.0


@dataclass(frozen=True)
class Config:
    """The whole pipeline's parameters."""

    localization: LocalizationConfig = field(default_factory=LocalizationConfig)
    segmentation: SegmentationConfig = field(default_factory=SegmentationConfig)
    classifier: ClassifierConfig = field(default_factory=ClassifierConfig)
    recognition: RecognitionConfig = field(default_factory=RecognitionConfig)
