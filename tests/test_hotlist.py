"""lpr.hotlist: reading hotlist CSVs, matching reads against them (exact, OCR look-alike, one edit) and watching the file."""

from __future__ import annotations

import random
import string
from dataclasses import replace
from pathlib import Path

import pytest

import lpr.hotlist
from lpr.hotlist import (
    Hotlist,
    HotlistEntry,
    HotlistWatcher,
    fold_lookalikes,
    is_near_plate,
    load_hotlist,
    match_plate,
    normalize_plate,
    within_one_edit,
)
from lpr.records import MATCH_KINDS, HotlistMatch


def levenshtein(a: str, b: str) -> int:
    """The textbook dynamic program, as a reference independent of the index."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def reference_match(texts: list[str], entries: list[HotlistEntry]) -> HotlistMatch | None:
    """The documented preference by brute force over every entry: kind, then text order, then distance, then (plate, list, note)."""
    best = None
    for t, text in enumerate(texts):
        for e in entries:
            if e.plate == text:
                kind, distance = "exact", 0
            elif len(e.plate) == len(text) and fold_lookalikes(e.plate) == fold_lookalikes(text):
                kind, distance = "lookalike", sum(x != y for x, y in zip(e.plate, text))
            elif abs(len(e.plate) - len(text)) <= 1 and levenshtein(e.plate, text) == 1:
                kind, distance = "edit", 1
            else:
                continue
            key = (MATCH_KINDS.index(kind), t, distance, e.plate, e.list, e.note)
            if best is None or key < best[0]:
                best = (key, HotlistMatch(e.plate, e.list, e.note, kind, distance, text))
    return None if best is None else best[1]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


ENTRIES = [
    HotlistEntry("ABC1234", "stolen", "grey Honda Civic"),
    HotlistEntry("7XYZ123", "amber", "case 2291"),
    HotlistEntry("FGJ235", "stolen", ""),
    HotlistEntry("FGJ235", "expired", "registration lapsed 2024-01"),
]


def test_load_normalizes_plates_with_or_without_a_header(tmp_path):
    with_header = write(tmp_path / "hotlist.csv", 'plate,list,note\nabc-1234,stolen,grey Honda Civic\n7 xyz 123,amber,"case 2291, white van"\n\nFGJ235,stolen\n')
    entries, errors = load_hotlist(with_header)
    assert errors == []
    assert entries == [
        HotlistEntry("ABC1234", "stolen", "grey Honda Civic"),
        HotlistEntry("7XYZ123", "amber", "case 2291, white van"),
        HotlistEntry("FGJ235", "stolen", ""),
    ]
    without_header = write(tmp_path / "plain.csv", "ABC1234,stolen,grey Honda Civic\n")
    assert load_hotlist(without_header) == ([HotlistEntry("ABC1234", "stolen", "grey Honda Civic")], [])
    # Excel writes a byte-order mark and CRLF line ends.
    excel = tmp_path / "excel.csv"
    excel.write_bytes(b"\xef\xbb\xbfPlate,List,Note\r\nab-12 cd,bolo,\r\n")
    assert load_hotlist(excel) == ([HotlistEntry("AB12CD", "bolo", "")], [])


def test_malformed_rows_are_named_by_file_and_line_and_the_rest_loads(tmp_path):
    path = write(
        tmp_path / "hotlist.csv",
        "plate,list,note\n"
        "ABC1234,stolen,grey Honda Civic\n"
        ",stolen,no plate\n"
        "AB*123,stolen,\n"
        "KLM999\n"
        "FGJ235,stolen,unquoted, comma\n"
        "ÄBC123,stolen,\n"
        "7XYZ123,amber,case 2291\n",
    )
    entries, errors = load_hotlist(path)
    assert entries == [HotlistEntry("ABC1234", "stolen", "grey Honda Civic"), HotlistEntry("7XYZ123", "amber", "case 2291")]
    assert errors == [
        f"{path} line 3: the plate is empty",
        f"{path} line 4: plate 'AB*123' has characters other than A-Z and 0-9",
        f"{path} line 5: plate 'KLM999' has no list name (rows are plate,list,note)",
        f"{path} line 6: 4 columns, expected plate,list,note (quote a note that has commas)",
        f"{path} line 7: plate 'ÄBC123' has characters other than A-Z and 0-9",
    ]
    assert all("\n" not in error for error in errors)


def test_unreadable_files_are_one_line_value_errors(tmp_path):
    with pytest.raises(ValueError, match=r"missing\.csv: cannot read hotlist \(No such file or directory\)$"):
        load_hotlist(tmp_path / "missing.csv")
    with pytest.raises(ValueError, match=r"cannot read hotlist"):
        load_hotlist(tmp_path)
    binary = tmp_path / "hotlist.csv"
    binary.write_bytes(b"ABC1234,stolen,\n\xff\xd8\xff\xe0 JPEG")
    with pytest.raises(ValueError, match=r"hotlist\.csv: hotlist is not UTF-8 text \(byte 16\)$"):
        load_hotlist(binary)


@pytest.mark.parametrize(
    "texts, expected",
    [
        (["ABC1234"], HotlistMatch("ABC1234", "stolen", "grey Honda Civic", "exact", 0, "ABC1234")),
        (["abc-1234"], HotlistMatch("ABC1234", "stolen", "grey Honda Civic", "exact", 0, "abc-1234")),
        # B read as 8; B as 8, 1 as I and 2 as Z.
        (["A8C1234"], HotlistMatch("ABC1234", "stolen", "grey Honda Civic", "lookalike", 1, "A8C1234")),
        (["A8CIZ34"], HotlistMatch("ABC1234", "stolen", "grey Honda Civic", "lookalike", 3, "A8CIZ34")),
        (["7XYZ1Z3"], HotlistMatch("7XYZ123", "amber", "case 2291", "lookalike", 1, "7XYZ1Z3")),
        # One substitution (3 read as 9: not look-alikes), one insertion, one deletion.
        (["ABC1294"], HotlistMatch("ABC1234", "stolen", "grey Honda Civic", "edit", 1, "ABC1294")),
        (["ABC12347"], HotlistMatch("ABC1234", "stolen", "grey Honda Civic", "edit", 1, "ABC12347")),
        (["ABC124"], HotlistMatch("ABC1234", "stolen", "grey Honda Civic", "edit", 1, "ABC124")),
        (["XYZ123"], HotlistMatch("7XYZ123", "amber", "case 2291", "edit", 1, "XYZ123")),
        # Two edits away, and a look-alike fold plus an edit: no match.
        (["ABX1294"], None),
        (["ABC12"], None),
        (["A8C12345"], None),
        ([], None),
        ([""], None),
    ],
)
def test_match_kinds(texts, expected):
    assert match_plate(texts, ENTRIES) == expected
    assert reference_match([normalize_plate(t) for t in texts if t], ENTRIES) == (expected and replace(expected, read_text=normalize_plate(expected.read_text)))


def test_a_candidate_matches_when_the_plate_does_not():
    match = match_plate(["ABG1Z99", "ABC1234", "A8C1234"], ENTRIES)
    assert match == HotlistMatch("ABC1234", "stolen", "grey Honda Civic", "exact", 0, "ABC1234")


def test_preference_order_and_ties():
    # Exact through a candidate beats a look-alike of the plate, which beats an edit of the plate.
    assert match_plate(["A8C1234", "ABC1234"], ENTRIES).kind == "exact"
    assert match_plate(["ABC1294", "A8C1234"], ENTRIES) == HotlistMatch("ABC1234", "stolen", "grey Honda Civic", "lookalike", 1, "A8C1234")
    # Of one kind, the read's own plate beats a later candidate.
    assert match_plate(["FGJ235", "ABC1234"], ENTRIES).read_text == "FGJ235"
    # The same plate on two lists: the list first in alphabetical order, whatever the entries' order.
    assert match_plate(["FGJ235"], ENTRIES).list == "expired"
    assert match_plate(["FGJ235"], ENTRIES[::-1]).list == "expired"
    # Two look-alike entries: the fewer differing positions wins, then the plate first in order.
    entries = [HotlistEntry("SBO", "a", ""), HotlistEntry("580", "b", "")]
    assert match_plate(["S8O"], entries) == HotlistMatch("SBO", "a", "", "lookalike", 1, "S8O")
    assert match_plate(["5B0"], entries) == HotlistMatch("580", "b", "", "lookalike", 1, "5B0")
    # Two entries one edit away: the plate first in order.
    assert match_plate(["ABC124"], [HotlistEntry("ABC1245", "z", ""), HotlistEntry("ABC1244", "z", "")]).plate == "ABC1244"


def test_matching_agrees_with_brute_force_on_random_plates():
    rng = random.Random(7)
    alphabet = string.ascii_uppercase + string.digits
    entries = [HotlistEntry("".join(rng.choices("ABO08SL1", k=rng.randint(3, 5))), rng.choice(["stolen", "amber"]), "") for _ in range(150)]
    hotlist = Hotlist(entries)
    for _ in range(200):
        texts = ["".join(rng.choices("ABO08SL1" + alphabet[:4], k=rng.randint(2, 6))) for _ in range(rng.randint(1, 3))]
        assert hotlist.match(texts) == reference_match(texts, entries), texts


@pytest.fixture(scope="module")
def big_hotlist() -> tuple[list[HotlistEntry], Hotlist]:
    """100,000 distinct US-style plates ("ABC1234") without X or Y, so a text with two X's is far from all of them."""
    rng = random.Random(11)
    letters = string.ascii_uppercase.replace("X", "").replace("Y", "")
    # Distinct numbers, each spelling one plate: three letters, then four digits.
    numbers = rng.sample(range(len(letters) ** 3 * 10_000), 100_000)
    plates = [letters[n // 5_760_000] + letters[n // 240_000 % 24] + letters[n // 10_000 % 24] + f"{n % 10_000:04d}" for n in numbers]
    entries = [HotlistEntry(p, ("stolen", "amber", "bolo")[i % 3], f"case {i}") for i, p in enumerate(plates)]
    return entries, Hotlist(entries)


def test_a_100000_entry_hotlist_matches_1000_reads(big_hotlist):
    entries, hotlist = big_hotlist
    assert len(hotlist) == len({e.plate for e in entries}) == 100_000
    rng = random.Random(3)
    partners = {c: g.replace(c, "") for g in lpr.hotlist.LOOKALIKE_GROUPS for c in g}
    found = {kind: 0 for kind in (*MATCH_KINDS, None)}
    stored = set(entries)
    for entry in rng.sample(entries, 1000):
        plate, how = entry.plate, rng.choice(["exact", "lookalike", "substitute", "insert", "delete", "far"])
        i = rng.randrange(len(plate))
        if how == "lookalike" and plate[i] in partners:
            text, expected = plate[:i] + rng.choice(partners[plate[i]]) + plate[i + 1 :], "lookalike"
        elif how == "substitute":
            unlike = [c for c in "ACEFHJKMNPRTUVW3479" if fold_lookalikes(c) != fold_lookalikes(plate[i])]
            text, expected = plate[:i] + rng.choice(unlike) + plate[i + 1 :], "edit"
        elif how == "insert":
            text, expected = plate[:i] + rng.choice("ABC123") + plate[i:], "edit"
        elif how == "delete":
            text, expected = plate[:i] + plate[i + 1 :], "edit"
        elif how == "far":
            text, expected = "XX" + plate[2:], None
        else:
            text, expected = plate, "exact"
        match = hotlist.match([text])
        found[match and match.kind] += 1
        if expected is None:
            assert match is None, text
            continue
        # Another of the 100,000 plates may match as well or better; whatever matched must truly be that close.
        assert match is not None and MATCH_KINDS.index(match.kind) <= MATCH_KINDS.index(expected), (text, match)
        if match.kind == "exact":
            assert match.plate == text
        elif match.kind == "lookalike":
            assert fold_lookalikes(match.plate) == fold_lookalikes(text) and match.distance == sum(x != y for x, y in zip(match.plate, text)) > 0
        else:
            assert levenshtein(match.plate, text) == 1
        assert HotlistEntry(match.plate, match.list, match.note) in stored
    assert all(found[kind] > 50 for kind in found), found


def test_helpers():
    assert normalize_plate(" ab-12 3 ") == "AB123"
    assert fold_lookalikes("B0SLZGQD") == "80512600"
    assert within_one_edit("ABC", "ABC") and within_one_edit("ABC", "ABD") and within_one_edit("ABC", "AC") and within_one_edit("ABC", "ABCD")
    assert not within_one_edit("AB", "BA") and not within_one_edit("ABC", "A") and not within_one_edit("ABC", "BCA")
    assert is_near_plate("ABC1234", "A8C1Z34") and is_near_plate("ABC1234", "ABC123") and not is_near_plate("ABC1234", "A8C123")


def test_match_records_round_trip_and_refuse_malformed():
    match = HotlistMatch("ABC1234", "stolen", "grey Honda Civic", "lookalike", 1, "A8C1234")
    assert HotlistMatch.from_dict(match.to_dict()) == match
    for change, message in [({"kind": "fuzzy"}, "match kind"), ({"distance": -1}, "distance"), ({"distance": True}, "distance"), ({"note": None}, "note must be a text")]:
        with pytest.raises(ValueError, match=message):
            HotlistMatch.from_dict({**match.to_dict(), **change})
    with pytest.raises(ValueError, match="malformed hotlist match"):
        HotlistMatch.from_dict({"plate": "ABC1234"})


def test_the_watcher_reloads_a_changed_file_and_keeps_the_last_good_one(tmp_path, monkeypatch):
    path = write(tmp_path / "hotlist.csv", "plate,list,note\nABC1234,stolen,\n")
    messages: list[str] = []
    watcher = HotlistWatcher(path, report=messages.append)
    loads = []
    monkeypatch.setattr(lpr.hotlist, "load_hotlist", lambda p: loads.append(p) or load_hotlist(p))
    first = watcher.current()
    assert [e.plate for e in first.entries] == ["ABC1234"] and watcher.current() is first and loads == []

    write(path, "plate,list,note\nABC1234,stolen,\n7XYZ123,amber,case 2291\nAB*1,amber,\n")
    assert [e.plate for e in watcher.current().entries] == ["7XYZ123", "ABC1234"]
    assert messages == [f"{path} line 4: plate 'AB*1' has characters other than A-Z and 0-9"] and len(loads) == 1
    watcher.current()
    assert len(loads) == 1

    path.write_bytes(b"\xff\xfe\x00garbage")
    assert [e.plate for e in watcher.current().entries] == ["7XYZ123", "ABC1234"]
    assert messages[-1] == f"{path}: hotlist is not UTF-8 text (byte 0); keeping the previous 2 entries"
    # A broken file is reported once, not on every read.
    watcher.current()
    assert len(messages) == 2

    path.unlink()
    assert len(watcher.current()) == 2 and messages[-1] == f"{path}: cannot read hotlist (No such file or directory); keeping the previous 2 entries"
    write(path, "FGJ235,stolen,\n")
    assert [e.plate for e in watcher.current().entries] == ["FGJ235"]


def test_the_watcher_refuses_a_missing_file_at_start(tmp_path):
    with pytest.raises(ValueError, match="cannot read hotlist"):
        HotlistWatcher(tmp_path / "missing.csv", report=print)
