"""Fuzzing every stage with hypothesis: random bytes and arrays in, results or only the documented errors out.

Documented errors: ImageReadError for bytes that are not a usable image; ValueError for
arrays of the wrong rank, dtype or size. Anything else is a bug in the stage.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lpr.config import Config, FeatureConfig
from lpr.errors import ImageReadError
from lpr.features import bbps_features
from lpr.imageio import decode_image, header_size
from lpr.localization import plate_candidates
from lpr.model import load_model
from lpr.pipeline import Recognizer
from lpr.segmentation import candidate_variants, segment_plate

CONFIG = Config()
# Bounded so the module stays within a few seconds per property on two cores.
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Sides from empty to long strips (1 x 5000); areas stay small so each example is fast.
SIDES = st.sampled_from([0, 1, 2, 3, 4, 5, 8, 13, 31, 64, 120])
LONG = st.sampled_from([0, 1, 4, 9, 700, 5000])
DTYPES = st.sampled_from([np.uint8, np.uint8, np.uint8, np.uint16, np.int32, np.float32, np.float64, np.bool_])


@st.composite
def images(draw, ndim: st.SearchStrategy[int] = st.sampled_from([1, 2, 3, 3, 3, 4])) -> np.ndarray:
    """Arrays of any rank 1-4, varied dtypes and shapes (including empty and 1 x 5000 strips), often uint8 BGR."""
    rank = draw(ndim)
    height, width = draw(st.one_of(st.tuples(SIDES, SIDES), st.tuples(SIDES, LONG), st.tuples(LONG, SIDES).filter(lambda s: s[0] * s[1] <= 5000 * 120)))
    channels = draw(st.sampled_from([3, 3, 3, 1, 4, 2]))
    shape = {1: (width,), 2: (height, width), 3: (height, width, channels), 4: (1, height, width, channels)}[rank]
    dtype = draw(DTYPES)
    kind = draw(st.sampled_from(["noise", "flat", "bars"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "flat":
        array = np.full(shape, draw(st.integers(0, 255)))
    elif kind == "bars" and rank >= 2:
        # Dark vertical bars on a light ground: character-like, so later stages get exercised.
        array = np.full(shape, 230)
        period = draw(st.integers(2, 12))
        array[..., :: period] = 20
        if rank >= 2 and shape[0 if rank < 4 else 1] > 4:
            array[(slice(None),) * (rank - 2) + (slice(0, 2),)] = 230
    else:
        array = rng.integers(0, 256, shape)
    return array.astype(dtype)


def is_bgr8(image: np.ndarray) -> bool:
    """Whether an array is a non-empty (H, W, 3) uint8 image, the input every stage documents."""
    return image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3 and image.size > 0


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return Recognizer(load_model())


@FUZZ
@given(st.binary(max_size=4096))
def test_decode_random_bytes(data: bytes):
    try:
        image = decode_image(data, "fuzz")
    except ImageReadError as error:
        assert str(error).startswith("fuzz: ") and "\n" not in str(error)
        return
    assert is_bgr8(image)


@FUZZ
@given(st.sampled_from([b"\x89PNG\r\n\x1a\n", b"\xff\xd8", b"BM", b"GIF89a", b"RIFF\x00\x00\x00\x00WEBPVP8X", b"II*\x00", b"MM\x00*"]), st.binary(max_size=512))
def test_decode_random_bytes_after_a_real_signature(signature: bytes, rest: bytes):
    data = signature + rest
    size = header_size(data)
    assert size is None or (len(size) == 2 and all(isinstance(v, int) and v >= 0 for v in size))
    try:
        assert is_bgr8(decode_image(data, "fuzz"))
    except ImageReadError:
        pass


@FUZZ
@given(images())
def test_plate_candidates(image: np.ndarray):
    try:
        candidates = plate_candidates(image, CONFIG.localization)
    except ValueError:
        assert not (image.dtype == np.uint8 and image.ndim in (2, 3) and image.size > 0 and (image.ndim == 2 or image.shape[2] == 3))
        return
    height, width = image.shape[:2]
    for candidate in candidates:
        box = candidate.box
        assert 0 <= box.x and 0 <= box.y and box.x + box.w <= width + 1 and box.y + box.h <= height + 1


@FUZZ
@given(images())
def test_segmentation(recognizer: Recognizer, image: np.ndarray):
    classifier = recognizer.model.classifier
    geometry = recognizer.profile.geometry

    def predict(crops):
        return classifier.predict([c.mask for c in crops], 3, [c.gray for c in crops])

    def segmented(im):
        plate = segment_plate(im, predict, CONFIG.segmentation, geometry)
        if plate is None:
            return []
        assert len(plate.predictions) == len(plate.segmentation.characters)
        return [plate.segmentation]

    for segment in (segmented, lambda im: candidate_variants(im, CONFIG.segmentation, geometry.character_height)):
        try:
            results = segment(image)
        except ValueError:
            continue
        for segmentation in results:
            for character in segmentation.characters:
                assert character.mask.ndim == 2 and character.mask.dtype == np.uint8


@FUZZ
@given(images(ndim=st.sampled_from([1, 2, 2, 2, 3])))
def test_bbps_features(mask: np.ndarray):
    try:
        vector = bbps_features(mask, FeatureConfig())
    except ValueError:
        assert mask.ndim != 2 or mask.size == 0
        return
    assert vector.dtype == np.float32 and vector.ndim == 1 and np.isfinite(vector).all()
    assert ((vector >= 0) & (vector <= 1)).all()


@FUZZ
@given(st.lists(images(ndim=st.just(2)), min_size=0, max_size=4))
def test_classifier_predict(recognizer: Recognizer, masks: list[np.ndarray]):
    classifier = recognizer.model.classifier
    try:
        predictions = classifier.predict(masks)
    except ValueError:
        assert any(m.size == 0 for m in masks)
        return
    assert len(predictions) == len(masks)
    for prediction in predictions:
        assert all(0.0 <= g.confidence <= 1.0 for g in prediction.guesses)


@FUZZ
@given(images(), st.booleans())
def test_recognize(recognizer: Recognizer, image: np.ndarray, cropped: bool):
    try:
        readings = recognizer.recognize(image, cropped=cropped)
    except ValueError:
        assert not is_bgr8(image) or (cropped and min(image.shape[:2]) < 4)
        return
    for reading in readings:
        assert 0.0 <= reading.confidence <= 1.0 and reading.text.isalnum()


@FUZZ
@given(images(ndim=st.just(3)))
def test_read_plate(recognizer: Recognizer, image: np.ndarray):
    try:
        reading = recognizer.read_plate(image)
    except ValueError:
        assert not is_bgr8(image) or min(image.shape[:2]) < 4
        return
    assert reading is None or 0.0 <= reading.confidence <= 1.0
