"""Hotlists: plates to watch for, read from CSV files, and matching a read's texts against them.

A hotlist file has rows `plate,list,note` (the header row is optional, the note may be
left out). A read matches an entry exactly, after folding OCR look-alikes (0/O/D/Q,
1/I/L, 8/B, 5/S, 2/Z, 6/G), or within one edit; every lookup is a few dictionary probes,
so a hotlist of 100,000 plates costs the same per read as one of ten.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .records import MATCH_KINDS, HotlistMatch

# Characters OCR confuses on plates; each folds to its group's first character.
LOOKALIKE_GROUPS = ("0ODQ", "1IL", "8B", "5S", "2Z", "6G")
_FOLD = str.maketrans({c: group[0] for group in LOOKALIKE_GROUPS for c in group[1:]})
_PLATE = re.compile(r"[A-Z0-9]+")
_HEADER = ("plate", "list", "note")


@dataclass(frozen=True)
class HotlistEntry:
    """One plate to watch for (upper case, no spaces or dashes), the list it is on and a note for whoever gets the alert."""

    plate: str
    list: str
    note: str


def normalize_plate(text: str) -> str:
    """A plate as people write it ("abc-123", "AB 123") in, upper case without spaces and dashes out."""
    return text.upper().replace(" ", "").replace("-", "")


def fold_lookalikes(text: str) -> str:
    """A plate in, the same with every OCR look-alike replaced by its group's first character ("B0S" -> "805") out."""
    return text.translate(_FOLD)


def deletions(text: str) -> set[str]:
    """A text in, every text made by deleting one of its characters out."""
    return {text[:i] + text[i + 1 :] for i in range(len(text))}


def within_one_edit(a: str, b: str) -> bool:
    """Whether two texts differ by at most one substituted, inserted or deleted character."""
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) <= 1
    if abs(len(a) - len(b)) != 1:
        return False
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = next((i for i, (x, y) in enumerate(zip(short, long)) if x != y), len(short))
    return short[i:] == long[i + 1 :]


def is_near_plate(query: str, plate: str) -> bool:
    """Whether plate is query up to OCR look-alikes or within one edit of it (what `reads --near` finds)."""
    return fold_lookalikes(query) == fold_lookalikes(plate) or within_one_edit(query, plate)


def _parse_row(row: list[str], where: str) -> HotlistEntry:
    """A CSV row in, its HotlistEntry out; ValueError starting with where ("hotlist.csv line 4") when malformed."""
    # A fourth column is most likely a note with an unquoted comma, whose rest would silently vanish.
    if len(row) > 3:
        raise ValueError(f"{where}: {len(row)} columns, expected plate,list,note (quote a note that has commas)")
    plate, name, note = (field.strip() for field in [*row, "", ""][:3])
    normalized = normalize_plate(plate)
    if not normalized:
        raise ValueError(f"{where}: the plate is empty")
    if not _PLATE.fullmatch(normalized):
        raise ValueError(f"{where}: plate {plate!r} has characters other than A-Z and 0-9")
    if not name:
        raise ValueError(f"{where}: plate {plate!r} has no list name (rows are plate,list,note)")
    return HotlistEntry(normalized, name, note)


def load_hotlist(path: str | Path) -> tuple[list[HotlistEntry], list[str]]:
    """A hotlist CSV in, its entries and one error line per malformed row (skipped) out; ValueError when the file cannot be read."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as error:
        raise ValueError(f"{path}: cannot read hotlist ({error.strerror or error})") from None
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: hotlist is not UTF-8 text (byte {error.start})") from None
    return parse_hotlist(text, str(path))


def parse_hotlist(text: str, name: str) -> tuple[list[HotlistEntry], list[str]]:
    """A hotlist CSV's text and its name (for messages) in, its entries and one error line per malformed row (skipped) out."""
    path = name
    entries: list[HotlistEntry] = []
    errors: list[str] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    first = True
    while True:
        # Stepping by hand so that a csv.Error (an over-long field; a NUL byte before Python 3.11) spoils its row, not the file.
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            errors.append(f"{path} line {reader.line_num}: {error}")
            continue
        if not any(field.strip() for field in row):
            continue
        if first:
            first = False
            if tuple(field.strip().lower() for field in row) in (_HEADER, _HEADER[:2]):
                continue
        try:
            entries.append(_parse_row(row, f"{path} line {reader.line_num}"))
        except ValueError as error:
            errors.append(str(error))
    return entries, errors


def _entry_order(entry: HotlistEntry) -> tuple[str, str, str]:
    return entry.plate, entry.list, entry.note


class Hotlist:
    """Hotlist entries indexed so that matching a read's texts is O(plate length) dictionary probes, whatever the number of entries."""

    def __init__(self, entries: Iterable[HotlistEntry]) -> None:
        # Sorted so that, of equally good matches, the same entry always wins.
        self.entries = tuple(sorted(entries, key=_entry_order))
        self._by_plate: dict[str, list[HotlistEntry]] = {}
        for entry in self.entries:
            self._by_plate.setdefault(entry.plate, []).append(entry)
        self._folded: dict[str, list[str]] = {}
        # Every plate under each one-character deletion of it: two texts within one edit are equal, or
        # one is a deletion of the other, or they share a deletion, so a lookup probes len(text) + 1 keys.
        # Most keys belong to one plate, and a list for each would cost most of the build time, so
        # _deleted holds a key's first plate and _shared the keys that several plates have.
        self._deleted: dict[str, str] = {}
        self._shared: dict[str, list[str]] = {}
        for plate in self._by_plate:
            self._folded.setdefault(fold_lookalikes(plate), []).append(plate)
            for i in range(len(plate)):
                key = plate[:i] + plate[i + 1 :]
                first = self._deleted.setdefault(key, plate)
                if first is not plate:
                    self._shared.setdefault(key, [first]).append(plate)

    def __len__(self) -> int:
        return len(self.entries)

    def _one_edit(self, text: str) -> set[str]:
        """The hotlist's plates one substitution, insertion or deletion away from text."""
        found = set()
        for key in deletions(text) | {text}:
            if key in self._by_plate:
                found.add(key)
            found.update(self._shared.get(key) or ([self._deleted[key]] if key in self._deleted else ()))
        # Plates under a shared key are only candidates ("AB" and "BA" share "A"); within_one_edit decides.
        return {plate for plate in found if plate != text and within_one_edit(plate, text)}

    def _best(self, kind: str, text: str) -> tuple[HotlistEntry, int] | None:
        """The best entry matching text in one way (kind) and its distance, or None."""
        if kind == "exact":
            scored = [(0, text)] if text in self._by_plate else []
        elif kind == "lookalike":
            scored = [(sum(x != y for x, y in zip(plate, text)), plate) for plate in self._folded.get(fold_lookalikes(text), ()) if plate != text]
        else:
            scored = [(1, plate) for plate in self._one_edit(text)]
        if not scored:
            return None
        distance, plate = min(scored)
        return self._by_plate[plate][0], distance

    def match(self, texts: Sequence[str]) -> HotlistMatch | None:
        """A read's plate then its candidate texts (best first) in, the best HotlistMatch or None out.

        Exact beats lookalike beats edit whichever text it comes through (a candidate read
        exactly is stronger evidence than the best text read one character off); of one kind,
        the earlier text wins, then the smaller distance, then the entry first in (plate, list, note) order.
        """
        normalized = [(text, normalize_plate(text)) for text in texts if text]
        for kind in MATCH_KINDS:
            for text, plate in normalized:
                best = self._best(kind, plate)
                if best is not None:
                    entry, distance = best
                    return HotlistMatch(entry.plate, entry.list, entry.note, kind, distance, text)
        return None


def match_plate(texts: Sequence[str], entries: Iterable[HotlistEntry]) -> HotlistMatch | None:
    """A read's texts (plate first) and hotlist entries in, the best match or None out; builds the index each call, so reuse a Hotlist for many reads."""
    return Hotlist(entries).match(texts)


class HotlistWatcher:
    """A hotlist file, re-read when its modification time, size or inode changes; a failed re-read keeps the previous entries."""

    def __init__(self, path: str | Path, report: Callable[[str], None]) -> None:
        """Load path (ValueError when it cannot be read); report gets one line per malformed row or failed reload."""
        self.path = Path(path)
        self.report = report
        self._stamp = self._stat()
        entries, errors = load_hotlist(self.path)
        for error in errors:
            report(error)
        self._hotlist = Hotlist(entries)

    def _stat(self) -> tuple[int, int, int] | str:
        """The file's (mtime in ns, size, inode), or the reason it cannot be seen."""
        try:
            stat = os.stat(self.path)
        except OSError as error:
            return f"{self.path}: cannot read hotlist ({error.strerror or error})"
        return stat.st_mtime_ns, stat.st_size, stat.st_ino

    def current(self) -> Hotlist:
        """The hotlist as the file now is: re-read only when the file changed since the last look."""
        stamp = self._stat()
        if stamp == self._stamp:
            return self._hotlist
        # Remember the stamp even when the re-read fails, so a broken file is reported once, not on every read.
        self._stamp = stamp
        try:
            entries, errors = load_hotlist(self.path)
        except ValueError as error:
            self.report(f"{error}; keeping the previous {len(self._hotlist)} entries")
            return self._hotlist
        for error in errors:
            self.report(error)
        self._hotlist = Hotlist(entries)
        return self._hotlist
