"""lpr.pipeline: Recognizer.read_plate on sample crops, readings re-ranked by the region's layouts, and the scene reading of candidates."""

from __future__ import annotations

import csv
import dataclasses

import cv2
import numpy as np

from lpr.datasets.synthetic import glyph_mask, paint
from lpr.geometry import Box
from lpr.model import load_model
from lpr.pipeline import PlateReading, Recognizer
from lpr.records import CharacterRead
from lpr.region import layout, pooled_layouts, state_region
from lpr.segmentation import CharacterCrop, Segmentation


def test_read_plate_reads_the_synthetic_samples(samples):
    recognizer = Recognizer()
    with open(samples / "crops" / "labels.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))
    for row in rows:
        reading = recognizer.read_plate(cv2.imread(str(samples / "crops" / row["image"])))
        assert reading is not None and len(reading.text) == len(row["plate"])
        assert reading.text == reading.candidates[0].plate and 0.0 < reading.confidence <= 1.0
        assert "".join(c.char for c in reading.characters) == reading.text


def with_layouts(model, layouts: dict, subregions: dict):
    """A model whose region profile has the given pooled layouts and {sub-region: layouts}."""
    return dataclasses.replace(model, profile=dataclasses.replace(model.profile, layouts=layouts, subregions=subregions))


def test_recognizer_uses_the_formats_stored_in_the_model(samples):
    model = load_model()
    # The reading by shapes alone, without any layouts.
    bare = with_layouts(model, {}, {})
    with open(samples / "crops" / "labels.csv", newline="") as stream:
        image = cv2.imread(str(samples / "crops" / next(csv.DictReader(stream))["image"]))
    plain = Recognizer(bare).read_plate(image)
    # A lesser candidate in another layout (e.g. DD3938 for DDB938), from a longer candidate list.
    many = Recognizer(bare, overrides={"decoding.top_n": 100})
    wanted = next(layout(c.plate) for c in many.read_plate(image).candidates if layout(c.plate) != layout(plain.text))
    # A state whose only layout is that of the lesser candidate: the reading must follow it.
    subregions = {"zz": {wanted: 10**6}}
    letters = with_layouts(model, pooled_layouts(subregions), subregions)
    reading = Recognizer(letters, region="us-zz").read_plate(image)
    assert layout(reading.text) == wanted and reading.text in [c.plate for c in reading.candidates]
    assert "".join(c.char for c in reading.characters) == reading.text
    # Another state, or none, falls back on the region's layouts, every state's together
    # (here only zz's; weighed as strongly as a state's own, the fallback follows them too)...
    decoding = model.config.decoding
    fallback = {"decoding.general_format_smoothing": decoding.format_smoothing}
    assert Recognizer(letters, region="us-md").layout_prior_counts()[0] == {wanted: 10**6}
    assert layout(Recognizer(letters, region="us-md", overrides=fallback).read_plate(image).text) == wanted
    assert layout(Recognizer(letters, overrides=fallback).read_plate(image).text) == wanted
    # ...unless the region has no layouts of its own to fall back on: then it reads as the shapes say.
    no_fallback = with_layouts(model, {}, subregions)
    assert Recognizer(no_fallback, region="us-md", overrides=fallback).read_plate(image).text == plain.text
    assert Recognizer(no_fallback, overrides=fallback).read_plate(image).text == plain.text


def test_trained_model_stores_each_states_layouts_and_keeps_them_when_saved(trained_model, tmp_path):
    from lpr.model import save_model

    formats = trained_model.profile.subregions
    assert formats and all(len(state) == 2 and state.islower() for state in formats)
    assert all(set(layout_) <= {"L", "D"} and count >= 1 for layouts in formats.values() for layout_, count in layouts.items())
    assert load_model(save_model(trained_model, tmp_path / "m.npz")).profile.subregions == formats
    state = next(iter(formats))
    known = Recognizer(trained_model, region=state_region(state.upper()))
    assert known.region_known and known.profile.layouts == formats[state]
    assert not Recognizer(trained_model, region="us-zz").region_known


def test_scene_candidates_come_most_plate_like_first_and_at_most_max_plus_fallback_candidates():
    from conftest import few_images

    import lpr
    from lpr.localization import to_gray

    recognizer = Recognizer()
    assert recognizer.verifier is not None
    settings = recognizer.verifier.config
    for path in few_images(4):
        image = lpr.read_image(path)
        gray = to_gray(image)
        chosen = recognizer.candidates_to_read(image, gray)
        rules = recognizer.config.scene
        assert len(chosen) <= rules.read_candidates + rules.fallback_candidates
        scores = recognizer.verifier.candidate_scores(gray, chosen)
        assert list(scores) == sorted(scores, reverse=True)
        assert all(s >= settings.min_candidate_score for s in scores)


def test_fallback_candidates_are_read_only_until_a_plate_is_read_surely(samples, shared_data):
    import lpr
    from lpr.localization import to_gray

    class CountingRecognizer(Recognizer):
        read = 0

        def judged_readings(self, image, gray, candidate):
            self.read += 1
            return super().judged_readings(image, gray, candidate)

    # A low candidate threshold lets many plate-free photos have more candidates than read_candidates.
    recognizer = CountingRecognizer(overrides={"verifier.min_candidate_score": -1.0})
    rules = recognizer.config.scene
    assert recognizer.recognize(lpr.read_image(samples / "scenes" / "scene-02.jpg"))[0].text == "BKK3953"
    assert recognizer.read <= rules.read_candidates
    # Plate-free photos with more plate-like candidates than read_candidates: all are read.
    cluttered = 0
    for path in sorted((shared_data / "negatives").glob("*.jpg"))[:30]:
        image = lpr.read_image(path)
        searched = len(recognizer.candidates_to_read(image, to_gray(image)))
        recognizer.read = 0
        if searched > rules.read_candidates and not recognizer.recognize(image):
            assert recognizer.read == searched
            cluttered += 1
    assert cluttered >= 3
    # The fallback also goes on while no plate is read surely enough: with a confidence no
    # reading reaches, every candidate of a scene with a plate is read.
    unsure = CountingRecognizer(overrides={"scene.sure_confidence": 1.01, "verifier.min_candidate_score": -1.0})
    many = 0
    for path in sorted((shared_data / "us-scenes").glob("*.jpg"))[:10]:
        image = lpr.read_image(path)
        searched = len(unsure.candidates_to_read(image, to_gray(image)))
        unsure.read = 0
        unsure.recognize(image)
        assert unsure.read == searched
        many += searched > rules.read_candidates
    assert many >= 3


def _scene_reading(text: str, box: Box) -> PlateReading:
    segmentation = Segmentation((), "dark", 0, np.zeros((box.h, box.w), np.uint8))
    step = box.w // max(1, len(text))
    characters = tuple(CharacterRead(c, 0.9, Box(box.x + i * step, box.y, step, box.h)) for i, c in enumerate(text))
    return PlateReading(text, 0.9, box, characters, (), segmentation, box)


def test_without_verifier_scene_plates_are_gated_by_confidence(samples):
    import lpr

    model = load_model()
    plain = Recognizer(dataclasses.replace(model, verifier=None))
    assert plain.verifier is None
    truth = (samples / "scenes" / "scene-02.txt").read_text().split("\t")[-1].strip()
    plates = plain.recognize(lpr.read_image(samples / "scenes" / "scene-02.jpg"))
    assert truth in [p.text for p in plates]
    assert all(p.confidence >= plain.config.scene.min_confidence for p in plates)


def paint_text(plate, text: str, x: int) -> int:
    """Dark 56 px characters painted on a plate from x (in place); the x after the last one out."""
    for char in text:
        glyph = glyph_mask(char, 56)
        paint(plate, glyph, (30, 30, 30), x, 28)
        x += glyph.shape[1] + 7
    return x


def plate_with_logo(left: str, right: str):
    """A light (110, 300, 3) plate reading left + right, with a dark round logo between them overlapping the first of right by a stroke."""
    plate = np.full((110, 300, 3), 230, np.uint8)
    x = paint_text(plate, left, 14)
    radius = 22
    centre = x + radius + 2
    cv2.circle(plate, (centre, 56), radius, (50, 50, 50), -1)
    paint_text(plate, right, centre + radius - 6)
    return plate


def plates_read_right(draw, change: dict, seed: int, count: int = 20) -> tuple[int, int]:
    """A synthetic plate drawer (text, rng -> BGR plate), a change to the segmentation settings and a seed in, how many of count plates read right with the model's settings and with the change out."""
    from lpr.datasets.synthetic import random_plate_text

    model = load_model()
    changed = {f"segmentation.{name}": value for name, value in change.items()}
    recognizers = (Recognizer(model), Recognizer(model, overrides=changed))
    rng = np.random.default_rng(seed)
    right = [0, 0]
    for _ in range(count):
        text = random_plate_text(rng)[:7]
        plate = draw(text, rng)
        for k, recognizer in enumerate(recognizers):
            readings = recognizer.recognize(plate, cropped=True)
            right[k] += bool(readings) and readings[0].text == text
    return right[0], right[1]


def test_characters_touching_a_logo_are_read_back_from_windows():
    def draw(text, rng):
        cut = int(rng.integers(2, len(text) - 1))
        return plate_with_logo(text[:cut], text[cut:])

    split, unsplit = plates_read_right(draw, {"split_width": 0}, seed=0)
    # The merged logo + character is too wide for one character: without windows it is lost.
    assert split >= 12 and split >= unsplit + 6, (split, unsplit)


def plate_with_frame_post(text: str):
    """A light (110, 330, 3) plate reading text whose first character is joined by a smear to a dark frame post, taller than the characters."""
    plate = np.full((110, 330, 3), 230, np.uint8)
    paint_text(plate, text, 30)
    cv2.rectangle(plate, (8, 8), (19, 102), (40, 40, 40), -1)
    cv2.rectangle(plate, (19, 52), (34, 58), (40, 40, 40), -1)
    return plate


def test_a_first_character_touching_the_frame_is_read_back_from_a_window():
    with_ends, without_ends = plates_read_right(lambda text, rng: plate_with_frame_post(text), {"end_split_tolerance": 0}, seed=1)
    assert with_ends >= 12 and with_ends >= without_ends + 6, (with_ends, without_ends)


def plate_on_frame_edge(text: str) -> np.ndarray:
    """A light plate reading text whose every character stands on a dark frame edge (a frame whose opening is too tight)."""
    plate = np.full((110, 330, 3), 230, np.uint8)
    end = paint_text(plate, text, 20)
    cv2.rectangle(plate, (6, 83), (end + 10, 90), (30, 30, 30), -1)
    return plate[:, : end + 20]


def test_characters_standing_on_the_frame_edge_are_read_once_the_edge_is_removed():
    unlined, lined = plates_read_right(lambda text, rng: plate_on_frame_edge(text), {"line_length": 0}, seed=0)
    # Characters and edge are one component: there is no row, so no band to cut to either.
    assert unlined >= 18 and lined <= 2, (unlined, lined)


def small_plate_with_dot(text: str, cut: int) -> np.ndarray:
    """A light plate reading text in 20 px characters, the ones before and after cut joined by a dark dot and a dash below them (a blurred sticker)."""
    plate = np.full((110, 400, 3), 230, np.uint8)
    gap = paint_text(plate, text[:cut], 20)
    end = paint_text(plate, text[cut:], gap)
    cv2.circle(plate, (gap - 3, 56), 9, (30, 30, 30), -1)
    cv2.rectangle(plate, (gap - 14, 80), (gap + 8, 84), (30, 30, 30), -1)
    return cv2.resize(plate[:, : end + 20], None, fx=0.35, fy=0.35, interpolation=cv2.INTER_AREA)


def test_small_characters_merged_with_a_dot_are_read_back_from_band_windows():
    def draw(text, rng):
        return small_plate_with_dot(text, int(rng.integers(2, len(text) - 1)))

    with_windows, without_windows = plates_read_right(draw, {"max_band_window_height": 0}, seed=0)
    # The two characters and the dot are one blob of no character's shape.
    assert with_windows >= 14 and with_windows >= without_windows + 3, (with_windows, without_windows)


def test_a_candidate_cutting_a_plate_is_read_again_from_the_plate_box(samples):
    import lpr
    from lpr.localization import PlateCandidate, to_gray

    recognizer = Recognizer()
    for name in ("scene-01", "scene-02"):
        _, x, y, w, h, truth = (samples / "scenes" / f"{name}.txt").read_text().split("\t")
        label = Box(int(x), int(y), int(w), int(h))
        image = lpr.read_image(samples / "scenes" / f"{name}.jpg")
        # The lower part of the plate and the bumper below it: the blob cuts the characters' tops.
        cut = PlateCandidate(Box(label.x, label.y + label.h // 4, label.w, label.h // 2), 1.0)
        gray = to_gray(image)
        (_, first), (_, again) = recognizer.judged_readings(image, gray, cut)
        assert again.text == truth.strip()
        assert again.box.iou(label) > 0.6 and first.box.iou(label) > 0.3
        once = Recognizer(recognizer.model, overrides={"scene.reread_plate_box": False})
        assert [r.text for _, r in once.judged_readings(image, gray, cut)] == [first.text]
        # A region of road reads as nothing, so there is nothing to read again.
        assert recognizer.judged_readings(image, gray, PlateCandidate(Box(0, image.shape[0] - 60, 120, 60), 1.0)) == []


def test_a_cropped_plate_of_three_characters_is_read_but_a_scene_row_needs_four(samples):
    recognizer = Recognizer()
    geometry = recognizer.profile.geometry
    model = recognizer.model
    # A region whose cropped plates have at least four characters.
    strict_geometry = dataclasses.replace(geometry, cropped_characters=(4, geometry.cropped_characters[1]))
    strict = Recognizer(dataclasses.replace(model, profile=dataclasses.replace(model.profile, geometry=strict_geometry)))
    with open(samples / "crops" / "labels.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))
    for row in rows:
        image = cv2.imread(str(samples / "crops" / row["image"]))
        characters = recognizer.read_plate(image).characters
        # Cut between the third and fourth characters: a plate of three.
        short = image[:, : (characters[2].box.x + characters[2].box.w + characters[3].box.x) // 2]
        assert recognizer.read_plate(short).text == row["plate"][:3]
        in_scene = recognizer.read_plate(short, in_scene=True)
        assert in_scene is None or len(in_scene.text) >= geometry.scene_characters[0]
        reading = strict.read_plate(short)
        assert reading is None or len(reading.text) >= 4


NAVY, ORANGE = (90, 30, 20), (0, 120, 255)


def plate_with_emblem(text: str, emblem_at: int, emblem: tuple[int, int, int]) -> tuple[np.ndarray, list[CharacterCrop]]:
    """Navy characters on a light plate with a filled oval of the given BGR colour before text[emblem_at] in, (plate, crops of the row left to right) out."""
    image = np.full((120, 420, 3), 235, np.uint8)
    crops, x = [], 20
    for i, char in enumerate(text):
        if i == emblem_at:
            oval = np.zeros((60, 40), np.uint8)
            cv2.ellipse(oval, (20, 30), (19, 29), 0, 0, 360, 255, -1)
            paint(image, oval / 255.0, emblem, x + 2, 30)
            crops.append(CharacterCrop(Box(x + 2, 30, 40, 60), oval, oval))
            x += 55
        mask = glyph_mask(char, 70)
        paint(image, mask, NAVY, x, 25)
        ink = np.where(mask > 0.5, 255, 0).astype(np.uint8)
        crops.append(CharacterCrop(Box(x, 25, mask.shape[1], mask.shape[0]), ink, ink))
        x += mask.shape[1] + 12
    return image, crops


def test_read_plate_leaves_out_an_emblem_not_of_the_characters_colour():
    colour_blind = Recognizer(overrides={"segmentation.max_ink_colour_distance": None})
    for text in ("ABC123", "BJL833"):
        image, _ = plate_with_emblem(text, 3, ORANGE)
        assert Recognizer().read_plate(image).text == text
        assert len(colour_blind.read_plate(image).text) == len(text) + 1  # the emblem read as a character


def test_a_candidate_reports_its_best_reading_that_passes():
    from lpr.localization import PlateCandidate

    partial = _scene_reading("13GD", Box(740, 490, 100, 50))
    whole = _scene_reading("133GZD", Box(735, 488, 140, 66))
    evidence = {"13GD": 0.4, "133GZD": 0.35}

    class ScriptedRecognizer(Recognizer):
        def scored_candidates(self, image, gray):
            return [(PlateCandidate(Box(732, 488, 166, 80), 1.0), 1.0)]

        def judged_readings(self, image, gray, candidate):
            return [(evidence[r.text], r) for r in (partial, whole)]

    recognizer = ScriptedRecognizer()
    rules, min_score = recognizer.config.scene, recognizer.verifier.config.min_score
    # The 4-character part scores higher but short of what short readings need; the whole
    # plate passes.
    assert evidence["133GZD"] >= min_score > evidence["13GD"] - rules.short_reading_margin
    assert [r.text for r in recognizer.recognize(np.zeros((720, 1280, 3), np.uint8))] == ["133GZD"]
    evidence["133GZD"] = min_score - 0.01
    assert recognizer.recognize(np.zeros((720, 1280, 3), np.uint8)) == []


def test_once_a_plate_is_sure_only_likely_plates_elsewhere_are_read():
    from lpr.localization import PlateCandidate

    plate, sign = _scene_reading("ABC1234", Box(100, 100, 140, 40)), _scene_reading("KEEPOUT", Box(600, 300, 140, 40))
    candidates = [
        (PlateCandidate(Box(100, 100, 140, 40), 1.0), 1.0),  # the plate, read surely (0.9)
        (PlateCandidate(Box(150, 105, 60, 30), 0.9), 0.8),  # a part of the same plate
        (PlateCandidate(Box(600, 300, 140, 40), 0.5), -0.2),  # a weak candidate elsewhere
    ]
    readings = {0: plate, 1: plate, 2: sign}

    class ScriptedRecognizer(Recognizer):
        def scored_candidates(self, image, gray):
            return candidates

        def judged_readings(self, image, gray, candidate):
            index = next(i for i, (c, _) in enumerate(candidates) if c is candidate)
            self.read.append(index)
            return [(1.0, readings[index])]

    def read_with(overrides):
        recognizer = ScriptedRecognizer(overrides=overrides)
        recognizer.read = []
        texts = [r.text for r in recognizer.recognize(np.zeros((720, 1280, 3), np.uint8))]
        return recognizer.read, texts

    # By default every one of the first read_candidates is read.
    assert read_with({}) == ([0, 1, 2], ["ABC1234", "KEEPOUT"])
    # other_plate_score: after the sure plate, only candidates scoring at least this are read.
    assert read_with({"scene.other_plate_score": 0.0}) == ([0, 1], ["ABC1234"])
    # reread_sure_plates off: a candidate centred on the sure plate is not read again.
    assert read_with({"scene.reread_sure_plates": False}) == ([0, 2], ["ABC1234", "KEEPOUT"])


def test_a_plate_box_is_read_again_only_when_the_first_reading_scores_enough(samples):
    import lpr
    from lpr.localization import PlateCandidate, to_gray

    _, x, y, w, h, _ = (samples / "scenes" / "scene-01.txt").read_text().split("\t")
    label = Box(int(x), int(y), int(w), int(h))
    image = lpr.read_image(samples / "scenes" / "scene-01.jpg")
    gray = to_gray(image)
    cut = PlateCandidate(Box(label.x, label.y + label.h // 4, label.w, label.h // 2), 1.0)
    always = Recognizer(overrides={"scene.reread_score": None})
    (evidence, first), (_, again) = always.judged_readings(image, gray, cut)
    assert again.box != first.box
    picky = Recognizer(always.model, overrides={"scene.reread_score": evidence + 0.01})
    assert [r.text for _, r in picky.judged_readings(image, gray, cut)] == [first.text]
    just = Recognizer(always.model, overrides={"scene.reread_score": evidence})
    assert len(just.judged_readings(image, gray, cut)) == 2
