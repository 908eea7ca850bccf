"""lpr.scene: the readings of one scene's candidates in, the plates reported out (vote, whole plate, sure first, short readings)."""

from __future__ import annotations

import dataclasses

import pytest

from lpr.config import Config
from lpr.geometry import Box
from lpr.records import CharacterRead, PlateRead
from lpr.scene import agreed_reading, holds_in_order, required_plate_score, sure_first, whole_plate_reading


def scene_reading(text: str, box: Box) -> PlateRead:
    """A reading of text read with confidence 0.9 in the given scene box, its characters side by side across it."""
    step = box.w // max(1, len(text))
    characters = tuple(CharacterRead(c, 0.9, Box(box.x + i * step, box.y, step, box.h)) for i, c in enumerate(text))
    return PlateRead(text, 0.9, box, characters, ())


def test_readings_of_one_plate_agree_on_the_text_with_the_most_evidence():
    plate, elsewhere = Box(100, 50, 80, 40), Box(400, 300, 80, 40)
    scored = [
        (1.0, scene_reading("UJ3E0J", plate)),
        (0.8, scene_reading("UJ3V0J", Box(104, 52, 76, 38))),
        (0.7, scene_reading("UJ3V0J", Box(98, 48, 84, 42))),
        (2.0, scene_reading("UJ3E0J", elsewhere)),
    ]
    agreed = agreed_reading(scored, 0, 0.2)
    # 0.8 + 0.7 outweighs 1.0; the far reading of the same text is another plate.
    assert agreed.text == "UJ3V0J" and agreed.box == Box(104, 52, 76, 38)
    assert agreed_reading(scored, 3, 0.2).text == "UJ3E0J"
    # A tie keeps the kept reading's text.
    tied = [(1.0, scene_reading("ABC123", plate)), (1.0, scene_reading("ABC128", plate))]
    assert agreed_reading(tied, 0, 0.2).text == "ABC123"
    assert agreed_reading(tied, 1, 0.2).text == "ABC128"


def test_sure_plates_come_before_doubtful_ones_each_in_plate_score_order():
    sign = dataclasses.replace(scene_reading("SIDHHC", Box(10, 10, 80, 40)), confidence=0.05)
    plate = dataclasses.replace(scene_reading("1AMW240", Box(300, 200, 80, 40)), confidence=0.94)
    other = dataclasses.replace(scene_reading("ABC123", Box(500, 200, 80, 40)), confidence=0.6)
    doubtful = dataclasses.replace(scene_reading("XYZ", Box(700, 200, 80, 40)), confidence=0.2)
    ordered = sure_first([sign, plate, doubtful, other], 0.5)
    assert [r.text for r in ordered] == ["1AMW240", "ABC123", "SIDHHC", "XYZ"]
    assert sure_first([sign, plate], 0.0) == [sign, plate]


def test_short_scene_readings_need_a_higher_plate_score():
    rules = Config().scene
    assert rules.short_reading_margin > 0
    short = required_plate_score(rules.short_reading_characters, 0.2, rules)
    assert short == pytest.approx(0.2 + rules.short_reading_margin)
    assert required_plate_score(rules.short_reading_characters + 1, 0.2, rules) == pytest.approx(0.2)
    assert required_plate_score(7, -1.0, rules) == pytest.approx(-1.0)


def test_holds_in_order():
    assert holds_in_order("RULZ", "FZRULZ") and holds_in_order("13GD", "133GZD") and holds_in_order("", "ABC")
    assert not holds_in_order("ZLUR", "FZRULZ") and not holds_in_order("AB", "A") and not holds_in_order("AA", "ABC")


def test_a_short_reading_gives_way_to_the_longer_reading_of_its_plate():
    rules = Config().scene
    partial = scene_reading("RULZ", Box(169, 332, 38, 22))
    whole = scene_reading("FZRULZ", Box(149, 331, 60, 24))
    judged = [
        (1.25, partial),
        (0.19, whole),  # below the reporting threshold, above the verifier's boundary
        (1.0, scene_reading("FZRULZ8", Box(600, 331, 60, 24))),  # elsewhere in the scene
        (-0.5, scene_reading("FZRULZQ", Box(149, 331, 62, 24))),  # not plate-like enough
        (0.9, scene_reading("RLUZXY", Box(150, 331, 60, 24))),  # other characters
    ]
    assert whole_plate_reading(partial, judged, rules) is whole
    assert whole_plate_reading(partial, judged[:1] + judged[2:], rules) is partial
    # Readings longer than short_reading_characters are plates of their own length.
    five = scene_reading("3127K", Box(149, 331, 50, 24))
    assert whole_plate_reading(five, [*judged, (0.5, scene_reading("3127K8", Box(149, 331, 60, 24)))], rules) is five
    # The longest reading holding the short one wins, then the best scored.
    longest = scene_reading("FZRULZ1", Box(147, 331, 64, 24))
    assert whole_plate_reading(partial, [*judged, (0.05, longest)], rules) is longest
