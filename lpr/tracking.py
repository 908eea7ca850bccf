"""Plate readings across video frames into tracks, one per vehicle pass, and one voted read per track.

A reading joins the live track whose predicted box it is near (IoU, or centre distance in box
sizes, the box carried on at the track's last velocity), or whose recent text it closely
matches (OCR look-alikes count as close) even when the boxes barely overlap; clearly different
texts never join, however close the boxes. A track unseen for longer than the gap ends, and
yields one read when it was seen often or surely enough: a sign read once is not a vehicle.
Tracks keep plain records (no pictures), at most max_observations of them.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from .geometry import Box
from .hotlist import fold_lookalikes
from .records import PlateRead, TextCandidate

# Edit cost of substituting one OCR look-alike for another (0/O/D/Q, 1/I/L, 8/B, 5/S, 2/Z, 6/G): close, but not the same text.
LOOKALIKE_COST = 0.25
# Vote weight of a reading one character shorter or longer, aligned by guess: its characters are likelier off than a full reading's.
OFF_BY_ONE_WEIGHT = 0.5
# Vote weight of a reading's alternative text per unit of its confidence: it lends the runner-up characters a voice without outvoting reads.
CANDIDATE_WEIGHT = 0.25
# Recent texts of a track a reading is compared with, so that one misread frame does not break the track.
RECENT = 3
# The least weight a vote carries, so that readings of confidence 0 still make a defined share.
MIN_WEIGHT = 1e-6


@dataclass(frozen=True)
class TrackingConfig:
    """How readings are associated into tracks, when a track ends and when it yields a read (lpr.tracking)."""

    # Seconds a track survives unseen: long enough to bridge a few unread frames, short enough that a read follows its vehicle's last frame within about 2 s.
    max_gap_s: float = 1.5
    # IoU with the track's predicted box at which a reading is near enough to join on position alone.
    min_iou: float = 0.1
    # Centre distance from the predicted box, in predicted-box diagonals, at which a reading is near enough (a fast or jerky plate may not overlap).
    max_centre_distance: float = 1.0
    # Text similarity (1 - look-alike-aware edit distance / length) at which a reading joins a track even with weak box overlap.
    text_match: float = 0.7
    # The farthest, in predicted-box diagonals, a text match still joins: a same-looking text across the frame is another plate.
    text_match_distance: float = 4.0
    # Text similarity below which a reading never joins a track, however close the boxes (the next vehicle, a sign beside the plate).
    text_mismatch: float = 0.4
    # Frames a track needs to yield a read...
    min_frames: int = 2
    # ...or, seen in fewer frames, the summed confidence it needs: one sure read of a fast vehicle counts, one weak read of a sign does not.
    min_confidence_sum: float = 0.9
    # Readings a track keeps for the vote (the most confident): a parked car read in every frame of a busy street must not grow without bound.
    max_observations: int = 300
    # Voted texts reported per read, best first.
    candidates: int = 5

    def __post_init__(self) -> None:
        if not self.max_gap_s > 0.0:
            raise ValueError(f"tracking max_gap_s must be above 0, got {self.max_gap_s}")
        if not 0.0 <= self.min_iou <= 1.0 or not 0.0 <= self.text_mismatch <= self.text_match <= 1.0:
            raise ValueError(f"tracking min_iou and text_mismatch <= text_match must be in [0, 1], got {self.min_iou}, {self.text_mismatch}, {self.text_match}")
        if not 0.0 <= self.max_centre_distance <= self.text_match_distance:
            raise ValueError(f"tracking needs 0 <= max_centre_distance <= text_match_distance, got {self.max_centre_distance}, {self.text_match_distance}")
        if self.min_frames < 1 or self.max_observations < 1 or self.candidates < 1:
            raise ValueError(f"tracking min_frames, max_observations and candidates must be at least 1, got {self.min_frames}, {self.max_observations}, {self.candidates}")


@dataclass(frozen=True)
class Observation:
    """One plate read in one frame: the read as a plain record (no pictures), monotonic time in seconds, frame index and seconds into a file (None live)."""

    read: PlateRead
    timestamp_s: float
    frame_index: int
    offset_s: float | None = None


@dataclass(frozen=True)
class FinishedTrack:
    """One vehicle pass: the voted text, its confidence and voted texts best first (the text first), when it was seen, and its best observation (its frame's picture is the one to save)."""

    text: str
    confidence: float
    candidates: tuple[TextCandidate, ...]
    first_timestamp_s: float
    last_timestamp_s: float
    # Seconds into a video file of the first and last observation; None for a live stream.
    first_offset_s: float | None
    last_offset_s: float | None
    frames_seen: int
    # The most confident observation, ties to the larger box: its read's box and frame_index locate the picture.
    best: Observation


def text_similarity(a: str, b: str) -> float:
    """Two plate texts in, 1 - their edit distance / the longer length out, in [0, 1]; a look-alike substitution costs LOOKALIKE_COST."""
    if not a or not b:
        return 1.0 if a == b else 0.0
    fa, fb = fold_lookalikes(a), fold_lookalikes(b)
    previous = [float(j) for j in range(len(b) + 1)]
    for i in range(1, len(a) + 1):
        current = [float(i)]
        for j in range(1, len(b) + 1):
            cost = 0.0 if a[i - 1] == b[j - 1] else LOOKALIKE_COST if fa[i - 1] == fb[j - 1] else 1.0
            current.append(min(previous[j] + 1.0, current[j - 1] + 1.0, previous[j - 1] + cost))
        previous = current
    return 1.0 - previous[-1] / max(len(a), len(b))


def _character_weights(read: PlateRead) -> list[float]:
    """A read in, the vote weight of each character of its text out: the characters' confidences, else the read's spread evenly (their product is its confidence)."""
    if len(read.characters) == len(read.text):
        return [max(c.confidence, MIN_WEIGHT) for c in read.characters]
    return [max(read.confidence, MIN_WEIGHT) ** (1.0 / len(read.text))] * len(read.text)


def _alignment(text: str, consensus: str) -> list[int | None] | None:
    """A text one character shorter or longer than consensus in, the consensus position of each of its characters (None: dropped) out; None unless all but one aligned character agree."""

    def positions(k: int) -> list[int | None]:
        # A shorter text lost the character at k; a longer one has an extra character at k.
        if len(text) < len(consensus):
            return [j if j < k else j + 1 for j in range(len(text))]
        return [j if j < k else None if j == k else j - 1 for j in range(len(text))]

    def agreeing(k: int) -> int:
        return sum(1 for char, p in zip(text, positions(k)) if p is not None and char == consensus[p])

    # The earliest of equally good places, so that the vote is deterministic.
    best = max(range(max(len(text), len(consensus))), key=lambda k: (agreeing(k), -k))
    return positions(best) if agreeing(best) >= min(len(text), len(consensus)) - 1 else None


def _ranked(tally: dict[str, float]) -> list[tuple[str, float]]:
    """{char: weight} in, (char, weight) best first out; equal weights in character order, so votes are deterministic."""
    return sorted(tally.items(), key=lambda item: (-item[1], item[0]))


def vote_text(readings: Sequence[PlateRead], top_n: int = 5) -> tuple[str, float, tuple[TextCandidate, ...]]:
    """Readings of one plate in, (voted text, confidence in [0, 1], the top_n voted texts best first, the voted text first) out; ValueError without a reading with text.

    The length L wins a vote weighted by the readings' mean character confidence (ties to the longer). Each
    position then votes over the readings of length L, each character weighted by its
    CharacterRead.confidence; a reading's alternative texts of length L add CANDIDATE_WEIGHT times
    their confidence to the characters where they differ; readings one character shorter or
    longer join at OFF_BY_ONE_WEIGHT where their best alignment to the length-L consensus agrees
    in all but one character. With W_L / W the length's share of the length vote, w_i / W_i
    the winning character's share of position i's votes and c_r the confidence of each reading
    voting (an aligned one's times OFF_BY_ONE_WEIGHT):

        confidence = (W_L / W) * prod_i (w_i / W_i) * (1 - prod_r (1 - c_r))

    The shares measure agreement (a 50/50 split halves it); the last factor, the chance that
    at least one reading is right were they independent, grows with the frames seen: one
    reading keeps its own confidence, ten agreeing ones approach 1. A candidate's confidence is
    the same product with its own characters' shares.
    """
    reads = [r for r in readings if r.text]
    if not reads:
        raise ValueError("voting needs at least one reading with text")
    if top_n < 1:
        raise ValueError(f"top_n must be at least 1, got {top_n}")
    lengths: dict[int, float] = {}
    for read in reads:
        # The mean character weight, not the read's confidence: a product over fewer characters would favour the reads that lost one.
        weights = _character_weights(read)
        lengths[len(read.text)] = lengths.get(len(read.text), 0.0) + sum(weights) / len(weights)
    length = max(lengths, key=lambda n: (lengths[n], n))
    tallies: list[dict[str, float]] = [{} for _ in range(length)]
    unlikely = 1.0  # prod_r (1 - c_r)
    for read in (r for r in reads if len(r.text) == length):
        for tally, char, weight in zip(tallies, read.text, _character_weights(read)):
            tally[char] = tally.get(char, 0.0) + weight
        for candidate in read.candidates:
            if len(candidate.plate) == length and candidate.plate != read.text and candidate.confidence > 0.0:
                for tally, char, own in zip(tallies, candidate.plate, read.text):
                    if char != own:
                        tally[char] = tally.get(char, 0.0) + CANDIDATE_WEIGHT * candidate.confidence
        unlikely *= 1.0 - min(1.0, read.confidence)
    consensus = "".join(_ranked(t)[0][0] for t in tallies)
    for read in (r for r in reads if abs(len(r.text) - length) == 1):
        positions = _alignment(read.text, consensus)
        if positions is None:
            continue
        for char, weight, position in zip(read.text, _character_weights(read), positions):
            if position is not None:
                tallies[position][char] = tallies[position].get(char, 0.0) + OFF_BY_ONE_WEIGHT * weight
        unlikely *= 1.0 - OFF_BY_ONE_WEIGHT * min(1.0, read.confidence)
    scale = lengths[length] / sum(lengths.values()) * (1.0 - unlikely)
    options = [[(char, weight / sum(t.values())) for char, weight in _ranked(t)] for t in tallies]

    # Best-first search over one option per position: each step moves one position to its next option.
    def score(choice: tuple[int, ...]) -> float:
        return scale * math.prod(o[i][1] for o, i in zip(options, choice))

    start = (0,) * length
    heap, seen, found = [(-score(start), start)], {start}, []
    while heap and len(found) < top_n:
        negative, choice = heapq.heappop(heap)
        found.append(TextCandidate("".join(o[i][0] for o, i in zip(options, choice)), float(-negative)))
        for position in range(length):
            if choice[position] + 1 < len(options[position]):
                following = choice[:position] + (choice[position] + 1,) + choice[position + 1 :]
                if following not in seen:
                    seen.add(following)
                    heapq.heappush(heap, (-score(following), following))
    return found[0].plate, found[0].confidence, tuple(found)


class _Track:
    """A live track: the observations kept for the vote, the recent ones for association, its first and best, and counts."""

    def __init__(self, first: Observation) -> None:
        self.kept = [first]
        self.recent: deque[Observation] = deque([first], maxlen=RECENT)
        self.first = self.best = first
        self.frames_seen = 1
        self.confidence_sum = first.read.confidence

    def add(self, observation: Observation, max_observations: int) -> None:
        self.kept.append(observation)
        if len(self.kept) > max_observations:
            # The least confident goes (the oldest of equals): the vote loses the least.
            self.kept.pop(min(range(len(self.kept)), key=lambda i: self.kept[i].read.confidence))
        self.recent.append(observation)
        self.frames_seen += 1
        self.confidence_sum += observation.read.confidence
        read, best = observation.read, self.best.read
        if (read.confidence, read.box.area) > (best.confidence, best.box.area):
            self.best = observation

    def predicted_box(self, timestamp_s: float) -> Box:
        """Where the plate should be at timestamp_s: the last box carried on at the velocity and growth between the last two observations."""
        last = self.recent[-1]
        if len(self.recent) < 2 or last.timestamp_s <= self.recent[-2].timestamp_s:
            return last.read.box
        before = self.recent[-2]
        k = (timestamp_s - last.timestamp_s) / (last.timestamp_s - before.timestamp_s)
        a, b = before.read.box, last.read.box
        (ax, ay), (bx, by) = a.centre, b.centre
        w, h = max(1.0, b.w + (b.w - a.w) * k), max(1.0, b.h + (b.h - a.h) * k)
        return Box(round(bx + (bx - ax) * k - w / 2), round(by + (by - ay) * k - h / 2), round(w), round(h))

    def score(self, read: PlateRead, timestamp_s: float, config: TrackingConfig) -> float | None:
        """How well read continues this track (text similarity + closeness, higher better) out, or None when it may not join."""
        similarity = max(text_similarity(read.text, o.read.text) for o in self.recent)
        if similarity < config.text_mismatch:
            return None
        box = self.predicted_box(timestamp_s)
        iou = read.box.iou(box)
        (px, py), (rx, ry) = box.centre, read.box.centre
        distance = math.hypot(rx - px, ry - py) / max(1.0, math.hypot(box.w, box.h))
        near = iou >= config.min_iou or distance <= config.max_centre_distance
        if not near and not (similarity >= config.text_match and distance <= config.text_match_distance):
            return None
        return similarity + max(iou, 1.0 - distance / max(config.text_match_distance, 1e-9))


class Tracker:
    """The tracks of one camera or file: call update for every frame in order (with no reads when none were made, so tracks end on time), flush at the end."""

    def __init__(self, config: TrackingConfig | None = None) -> None:
        self.config = config or TrackingConfig()
        self._tracks: list[_Track] = []
        self._last_timestamp = -math.inf

    def update(self, reads: Sequence[PlateRead], timestamp_s: float, frame_index: int, offset_s: float | None = None) -> list[FinishedTrack]:
        """One frame's plate reads, its monotonic time in seconds, index and seconds into a file (None live) in, the tracks that ended and yield a read out, oldest first."""
        if not math.isfinite(timestamp_s) or timestamp_s < self._last_timestamp:
            raise ValueError(f"frame times must be finite and never go back, got {timestamp_s} after {self._last_timestamp}")
        if isinstance(frame_index, bool) or not isinstance(frame_index, int):
            raise ValueError(f"a frame index is a whole number, got {frame_index!r}")
        if offset_s is not None and not math.isfinite(offset_s):
            raise ValueError(f"a file offset is finite seconds or None, got {offset_s}")
        if not all(isinstance(r, PlateRead) for r in reads):
            raise ValueError(f"reads must be PlateReads, got {sorted({type(r).__name__ for r in reads if not isinstance(r, PlateRead)})}")
        self._last_timestamp = timestamp_s
        config = self.config
        ended = [t for t in self._tracks if timestamp_s - t.recent[-1].timestamp_s > config.max_gap_s]
        self._tracks = [t for t in self._tracks if t not in ended]
        # record() drops what the pipeline keeps for pictures (a PlateReading's segmentation); an empty text says nothing to vote on.
        observations = [Observation(r.record(), timestamp_s, frame_index, offset_s) for r in reads if r.text]
        pairs = []
        for t, track in enumerate(self._tracks):
            for o, observation in enumerate(observations):
                score = track.score(observation.read, timestamp_s, config)
                if score is not None:
                    pairs.append((-score, t, o))
        taken_tracks, taken_reads = set(), set()
        for _, t, o in sorted(pairs):
            if t not in taken_tracks and o not in taken_reads:
                taken_tracks.add(t)
                taken_reads.add(o)
                self._tracks[t].add(observations[o], config.max_observations)
        self._tracks.extend(_Track(observation) for o, observation in enumerate(observations) if o not in taken_reads)
        return [self._finished(t) for t in ended if self._yields(t)]

    def flush(self) -> list[FinishedTrack]:
        """Nothing in; every live track ended (the end of a file or stream) out, those that yield a read, oldest first."""
        ended, self._tracks = self._tracks, []
        return [self._finished(t) for t in ended if self._yields(t)]

    def best_frame_indices(self) -> set[int]:
        """Nothing in; the frame index of each live track's best observation so far out: the only pictures a caller must keep to save tracks' best frames."""
        return {t.best.frame_index for t in self._tracks}

    def _yields(self, track: _Track) -> bool:
        return track.frames_seen >= self.config.min_frames or track.confidence_sum >= self.config.min_confidence_sum

    def _finished(self, track: _Track) -> FinishedTrack:
        text, confidence, candidates = vote_text([o.read for o in track.kept], self.config.candidates)
        last = track.recent[-1]
        return FinishedTrack(text, confidence, candidates, track.first.timestamp_s, last.timestamp_s, track.first.offset_s, last.offset_s, track.frames_seen, track.best)
