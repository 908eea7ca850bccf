"""lpr.tracking: vehicle passes over frames into tracks (position, prediction, text), one voted read per track, its confidence and candidates, memory."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from lpr.geometry import Box
from lpr.pipeline import PlateReading
from lpr.records import CharacterRead, PlateRead, TextCandidate
from lpr.segmentation import Segmentation
from lpr.tracking import FinishedTrack, Observation, Tracker, TrackingConfig, text_similarity, vote_text

FPS = 25.0
# Monotonic clock of the process at the file's first frame: unrelated to the offset into the file.
CLOCK_START = 5000.0


def plate(text: str, box: Box, confidences: list[float] | None = None, alternatives: tuple[TextCandidate, ...] = ()) -> PlateRead:
    """A read as the pipeline makes it: character boxes across the plate, confidence the product of the characters', the text as first candidate."""
    confidences = confidences or [0.9] * len(text)
    width = box.w * 0.8 / len(text)
    characters = tuple(
        CharacterRead(c, p, Box(round(box.x + 0.1 * box.w + i * width), box.y + box.h // 5, max(1, round(width)), max(1, box.h * 3 // 5)))
        for i, (c, p) in enumerate(zip(text, confidences))
    )
    confidence = math.prod(confidences)
    return PlateRead(text, confidence, box, characters, (TextCandidate(text, confidence), *alternatives))


def approach(i: int, frames: int, lane_x: float = 560.0) -> Box:
    """The plate's box in frame i of a pass of frames: far (small, high) to near (large, low), drifting right."""
    f = i / max(1, frames - 1)
    w = 60 + 140 * f
    cx, cy = lane_x + 40 * f, 300 + 300 * f
    return Box(round(cx - w / 2), round(cy - w / 6), round(w), round(w / 3))


def misread(truth: str, position: int, wrong: str, box: Box, rng: np.random.Generator) -> PlateRead:
    """truth read with wrong at position (a weak character), the truth as the runner-up candidate."""
    confidences = list(rng.uniform(0.8, 0.97, len(truth)))
    confidences[position] = 0.55
    text = truth[:position] + wrong + truth[position + 1 :]
    return plate(text, box, confidences, (TextCandidate(truth, math.prod(confidences) * 0.4 / 0.55),))


def good(truth: str, box: Box, rng: np.random.Generator) -> PlateRead:
    return plate(truth, box, list(rng.uniform(0.8, 0.97, len(truth))))


def run(frames: dict[int, list[PlateRead]], last: int, config: TrackingConfig | None = None) -> list[tuple[int | None, FinishedTrack]]:
    """Every frame 0..last through one Tracker (frames without reads too), then flush: (frame index it ended at, None for flush, track) in order."""
    tracker, ended = Tracker(config), []
    for i in range(last + 1):
        ended += [(i, t) for t in tracker.update(frames.get(i, []), CLOCK_START + i / FPS, i, offset_s=i / FPS)]
    return ended + [(None, t) for t in tracker.flush()]


TRUTH = "7BXK582"


@pytest.fixture()
def one_pass() -> dict[int, list[PlateRead]]:
    """30 frames of one approaching plate: three look-alike misreads, one frame missing a character, and a sign read once elsewhere."""
    rng = np.random.default_rng(7)
    frames = {i: [good(TRUTH, approach(i, 30), rng)] for i in range(30)}
    frames[4] = [misread(TRUTH, 1, "8", approach(4, 30), rng)]
    frames[11] = [misread(TRUTH, 5, "B", approach(11, 30), rng)]
    frames[19] = [misread(TRUTH, 4, "S", approach(19, 30), rng)]
    frames[15] = [plate("7BXK82", approach(15, 30), [0.9, 0.9, 0.85, 0.9, 0.8, 0.9])]
    frames[9].append(plate("0NEWAY", Box(1050, 120, 110, 30), [0.7, 0.6, 0.8, 0.5, 0.7, 0.6]))
    return frames


def test_one_pass_is_one_read_with_the_right_text(one_pass):
    ended = run(one_pass, 120)
    assert len(ended) == 1  # the sign, read once and weakly, is no vehicle
    at, track = ended[0]
    assert track.text == TRUTH
    assert track.frames_seen == 30
    assert (track.first_timestamp_s, track.last_timestamp_s) == (CLOCK_START, CLOCK_START + 29 / FPS)
    assert (track.first_offset_s, track.last_offset_s) == (0.0, 29 / FPS)
    # It ends the first frame more than max_gap_s after its last: a read within about 2 s of the vehicle's last frame.
    assert at == 29 + math.floor(1.5 * FPS) + 1
    best = max((r for i in range(30) for r in one_pass[i] if r.text != "0NEWAY"), key=lambda r: (r.confidence, r.box.area))
    assert track.best.read == best and track.best.read.box == best.box
    assert one_pass[track.best.frame_index][0] == best


def test_voting_beats_every_single_frame_when_errors_are_spread():
    rng = np.random.default_rng(3)
    wrongs = [(0, "1"), (1, "8"), (3, "X"), (4, "S"), (5, "B"), (6, "Z")]
    frames = {i: [misread("7BXK582".replace("7", "T"), p, w, approach(i, 6), rng)] for i, (p, w) in enumerate(wrongs)}
    truth = "TBXK582"
    assert all(frames[i][0].text != truth for i in frames)
    ((_, track),) = run(frames, 10)
    assert track.text == truth
    text, _, _ = vote_text([frames[i][0] for i in frames])
    assert text == truth


def test_two_vehicles_one_after_another_are_two_reads():
    rng = np.random.default_rng(4)
    frames = {i: [good("ABC1234", approach(i, 25), rng)] for i in range(25)}
    frames |= {75 + i: [good("XYZ9876", approach(i, 25), rng)] for i in range(25)}
    ended = run(frames, 99)
    assert [t.text for _, t in ended] == ["ABC1234", "XYZ9876"]
    assert ended[0][0] < 75 and ended[1][0] is None
    assert [t.frames_seen for _, t in ended] == [25, 25]


def test_the_next_vehicle_where_the_last_one_was_is_refused_by_its_text():
    """No gap: the second plate appears at the first's last place in the very next frame; only the text tells them apart."""
    rng = np.random.default_rng(5)
    frames = {i: [good("ABC1234", approach(i, 20), rng)] for i in range(20)}
    frames |= {20 + i: [good("XYZ9876", approach(19, 20).shifted(0, -i), rng)] for i in range(20)}
    ended = run(frames, 39)
    assert [(t.text, t.frames_seen) for _, t in ended] == [("ABC1234", 20), ("XYZ9876", 20)]


def test_two_plates_side_by_side_are_two_tracks_not_mixed():
    rng = np.random.default_rng(6)
    frames = {}
    for i in range(30):
        left, right = good("ABC1234", approach(i, 30, lane_x=300), rng), good("ABC1284", approach(i, 30, lane_x=900), rng)
        # The right plate goes unread now and then: its reads must not go to the left track, nor the left's to it.
        frames[i] = [right, left] if i % 7 else [left]
    ended = run(frames, 80)
    assert sorted((t.text, t.frames_seen) for _, t in ended) == [("ABC1234", 30), ("ABC1284", 30 - 5)]
    for _, track in ended:
        lane = 300 if track.text == "ABC1234" else 900
        assert abs(track.best.read.box.centre[0] - lane) < 100


def test_a_fast_plate_is_followed_by_its_predicted_box():
    """With text unable to help beyond the position gate, a plate unread for two frames is found where its velocity puts it."""
    config = TrackingConfig(text_match_distance=1.0, min_frames=1)
    step = 80  # px per frame, 0.76 box diagonals: near enough frame to frame, not three frames on
    frames = {i: [plate("ABC1234", Box(100 + step * i, 400, 100, 33))] for i in (0, 1, 4, 5)}
    assert [t.frames_seen for _, t in run(frames, 10, config)] == [4]
    # Without the second frame there is no velocity: the plate three frames on is too far for the same track.
    del frames[1]
    assert sorted(t.frames_seen for _, t in run(frames, 10, config)) == [1, 2]


def test_a_weak_single_read_is_no_read_but_a_sure_one_is():
    assert run({3: [plate("STOP", Box(900, 100, 80, 30), [0.8, 0.7, 0.8, 0.9])]}, 60) == []
    ((_, track),) = run({3: [plate("ABC1234", Box(500, 400, 120, 40), [0.99] * 7)]}, 60)
    assert track.text == "ABC1234" and track.frames_seen == 1
    assert [t.text for _, t in run({3: [plate("STOP", Box(900, 100, 80, 30))]}, 60, TrackingConfig(min_confidence_sum=1.0))] == []


def test_a_track_ends_after_the_gap_and_not_before():
    tracker = Tracker(TrackingConfig(max_gap_s=1.5))
    assert tracker.update([plate("ABC1234", Box(500, 400, 120, 40), [0.99] * 7)], 10.0, 0) == []
    for t in (10.5, 11.0, 11.5):
        assert tracker.update([], t, 1) == []
    (track,) = tracker.update([], 11.51, 2)
    assert track.text == "ABC1234"
    assert tracker.flush() == []


def test_flush_ends_every_live_track(one_pass):
    tracker = Tracker()
    for i in range(30):
        tracker.update(one_pass[i] + [plate("XYZ9876", approach(i, 30, lane_x=1000))], i / FPS, i)
    ended = tracker.flush()
    assert [t.text for t in ended] == [TRUTH, "XYZ9876"]
    assert tracker.flush() == [] and tracker.best_frame_indices() == set()


def test_candidates_are_the_voted_runner_ups_best_first(one_pass):
    ((_, track),) = run(one_pass, 100)
    texts = [c.plate for c in track.candidates]
    assert texts[0] == track.text and track.candidates[0].confidence == track.confidence
    assert len(texts) == len(set(texts)) == TrackingConfig().candidates
    assert all(len(t) == len(TRUTH) and sum(a != b for a, b in zip(t, TRUTH)) >= 1 for t in texts[1:])
    assert {"78XK582", "7BXK5B2", "7BXKS82"} <= set(texts)  # the misreads are the likeliest alternatives
    confidences = [c.confidence for c in track.candidates]
    assert confidences == sorted(confidences, reverse=True) and confidences[1] < track.confidence / 5


def test_alternatives_of_every_frame_become_candidates_when_all_frames_agree():
    alternative = (TextCandidate("7BXK5B2", 0.2),)
    reads = [plate(TRUTH, approach(i, 10), alternatives=alternative) for i in range(10)]
    text, _, candidates = vote_text(reads)
    assert text == TRUTH and candidates[1].plate == "7BXK5B2"


def test_confidence_grows_with_agreeing_frames_and_drops_with_a_split():
    box = Box(500, 400, 120, 40)
    one = vote_text([plate("ABC1234", box)])[1]
    ten = vote_text([plate("ABC1234", box)] * 10)[1]
    split = vote_text([plate("ABC1234", box)] * 5 + [plate("ABC1284", box)] * 5)[1]
    mostly = vote_text([plate("ABC1234", box)] * 8 + [plate("ABC1284", box)] * 2)[1]
    assert one == pytest.approx(0.9**7)  # one reading keeps its own confidence
    assert ten > 0.99 > one
    assert split < 0.51 and split < mostly < ten
    assert 0.0 <= split <= 1.0 and 0.0 <= ten <= 1.0


def test_a_reading_one_character_short_is_aligned_into_the_vote():
    box = Box(500, 400, 120, 40)
    right, wrong = plate("ABC1238", box, [0.8] * 7), plate("ABC1Z38", box, [0.85] * 7)
    assert vote_text([right, wrong])[0] == "ABC1Z38"
    # "ABC238" lost its "1": aligned with a gap there, its "2" settles position 4.
    assert vote_text([right, wrong, plate("ABC238", box)])[0] == "ABC1238"
    # A reading that aligns nowhere adds nothing.
    assert vote_text([right, wrong, plate("XYQ99", box, [0.99] * 5)])[0] == "ABC1Z38"
    # The length vote weighs characters, not products over them: the reading that lost a character does not win for having fewer.
    assert vote_text([plate("ABC1238", box), plate("ABC238", box)])[0] == "ABC1238"


def test_results_are_deterministic(one_pass):
    assert run(one_pass, 100) == run(dict(one_pass), 100)
    reads = [r for i in range(30) for r in one_pass[i]]
    assert vote_text(reads) == vote_text(list(reads))


def test_a_long_track_keeps_bounded_records_and_no_pictures():
    config = TrackingConfig(max_observations=50)
    tracker = Tracker(config)
    segmentation = Segmentation((), "dark", 0, np.zeros((60, 240), np.uint8))
    for i in range(1000):
        box = Box(400 + i % 7, 400, 120, 40)
        read = PlateReading("ABC1234", 0.5 + (i % 10) / 20, box, plate("ABC1234", box).characters, (), segmentation, box)
        assert tracker.update([read], i / FPS, i) == []
        assert len(tracker.best_frame_indices()) == 1

    def arrays(value, seen) -> int:
        """The numpy arrays reachable from value through objects, containers and dataclasses."""
        if id(value) in seen or isinstance(value, (str, int, float, type(None))):
            return 0
        seen.add(id(value))
        if isinstance(value, np.ndarray):
            return 1
        if isinstance(value, dict):
            return sum(arrays(v, seen) for v in value.values())
        if isinstance(value, (list, tuple, set)) or type(value).__name__ == "deque":
            return sum(arrays(v, seen) for v in value)
        if dataclasses.is_dataclass(value) or hasattr(value, "__dict__"):
            fields = vars(value) if hasattr(value, "__dict__") else {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
            return sum(arrays(v, seen) for v in fields.values())
        return 0

    assert arrays(tracker, set()) == 0
    (track,) = tracker._tracks
    assert len(track.kept) == 50 and all(type(o.read) is PlateRead for o in track.kept)
    assert min(o.read.confidence for o in track.kept) == pytest.approx(0.95)  # the most confident were kept
    (finished,) = tracker.flush()
    assert finished.frames_seen == 1000 and arrays(finished, set()) == 0
    assert type(finished.best) is Observation and finished.best.read.confidence == pytest.approx(0.95)


def test_text_similarity_counts_lookalikes_as_close():
    assert text_similarity("ABC1234", "ABC1234") == 1.0
    assert text_similarity("7BXK582", "78XK5B2") == pytest.approx(1 - 2 * 0.25 / 7)
    assert text_similarity("ABC1234", "ABC234") == pytest.approx(1 - 1 / 7)
    assert text_similarity("ABC1234", "XYZ9876") == 0.0
    assert text_similarity("", "") == 1.0 and text_similarity("", "A") == 0.0


def test_bad_input_raises():
    with pytest.raises(ValueError, match="at least one reading"):
        vote_text([])
    with pytest.raises(ValueError, match="at least one reading"):
        vote_text([PlateRead("", 0.5, Box(0, 0, 10, 10), (), ())])
    tracker = Tracker()
    tracker.update([], 2.0, 0)
    with pytest.raises(ValueError, match="never go back"):
        tracker.update([], 1.0, 1)
    with pytest.raises(ValueError, match="whole number"):
        tracker.update([], 3.0, 1.0)
    with pytest.raises(ValueError, match="PlateRead"):
        tracker.update(["ABC1234"], 3.0, 1)
    for bad in ({"max_gap_s": 0.0}, {"text_mismatch": 0.8, "text_match": 0.7}, {"min_frames": 0}, {"max_centre_distance": 5.0}):
        with pytest.raises(ValueError, match="tracking"):
            TrackingConfig(**bad)
