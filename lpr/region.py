"""Region profiles: what the plates of a country or state look like, as data a model carries.

A profile gives the alphabet, the plate geometry the stages look for, the look-alike
characters a layout may choose between, the number of text lines, and the letter/digit
layouts ("LLLDDDD") its plates are issued in. A region ("us") holds the layouts of its
sub-regions ("us-va", "us-md"); a sub-profile shares the region's geometry and ranks
readings by its own layouts.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

# A region code: a country ("us", "br", "d") with an optional sub-region ("us-va").
CODE = re.compile(r"^[a-z]{1,3}(-[a-z0-9]{1,3})?$")


@dataclass(frozen=True)
class PlateGeometry:
    """The shape of a region's plates, as the stages measure it."""

    # Width / height of a plate's text blob at localization (US plates are 2:1, their character band up to 5:1).
    plate_aspect: tuple[float, float] = (1.3, 7.0)
    # Character height as a fraction of the plate image's height, lowest and highest.
    character_height: tuple[float, float] = (0.25, 0.95)
    # Characters a plate found in a scene may have: fewer are far likelier a sign or part of a plate.
    scene_characters: tuple[int, int] = (4, 8)
    # Characters a plate given cropped may have (short vanity and motorcycle plates, long vanity plates).
    cropped_characters: tuple[int, int] = (3, 9)
    # The character band grown by these fractions of its (width, height) on each side is the plate's box.
    plate_box_padding: tuple[float, float] = (0.12, 0.6)
    # Lines of text the region's plates have at most (2: stacked plates are read line by line).
    lines: int = 1
    # Character height as a fraction of one line's height, on a two-line plate.
    line_character_height: tuple[float, float] = (0.45, 0.98)
    # The plates carry a blue country band at an end (EU), which segmentation paints out.
    country_band: bool = False

    @property
    def max_characters(self) -> int:
        """The most characters any plate of the region has."""
        return max(self.scene_characters[1], self.cropped_characters[1])


@dataclass(frozen=True)
class RegionProfile:
    """A region's plates as data: code, alphabet, geometry, look-alikes, layouts and those of its sub-regions."""

    code: str
    alphabet: str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    geometry: PlateGeometry = field(default_factory=PlateGeometry)
    # Groups of characters printed alike, between which a common layout may choose ("0O").
    lookalikes: tuple[str, ...] = ("0O",)
    # {layout: plates seen} of this profile's own plates (a region pools its sub-regions').
    layouts: Mapping[str, int] = field(default_factory=dict)
    # {sub-region code: {layout: plates seen}}: each is a sub-profile of this one.
    subregions: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    # The region this is a sub-profile of, or None for a region.
    parent: str | None = None

    def __post_init__(self) -> None:
        if not CODE.match(self.code):
            raise ValueError(f"region code {self.code!r} is not like 'us' or 'us-va'")
        if not self.alphabet or len(set(self.alphabet)) != len(self.alphabet):
            raise ValueError(f"region {self.code}: the alphabet must be distinct characters, got {self.alphabet!r}")

    def select(self, code: str) -> RegionProfile:
        """A region code ("us", "us-va") in, this profile or one of its sub-profiles out; KeyError when the profile has no such sub-region."""
        code = region_code(code)
        if code == self.code:
            return self
        sub = code.split("-", 1)[1] if code.startswith(f"{self.code}-") else None
        if sub is None or sub not in self.subregions:
            raise KeyError(code)
        return replace(self, code=code, layouts=dict(self.subregions[sub]), subregions={}, parent=self.code)

    def accepts(self, text: str) -> bool:
        """A plate text in, whether every character is in the alphabet out."""
        return bool(text) and all(c in self.alphabet for c in text)

    def to_dict(self) -> dict[str, Any]:
        """The profile as JSON-ready data (what a model file stores)."""
        g = self.geometry
        return {
            "code": self.code,
            "alphabet": self.alphabet,
            "geometry": {
                "plate_aspect": list(g.plate_aspect),
                "character_height": list(g.character_height),
                "scene_characters": list(g.scene_characters),
                "cropped_characters": list(g.cropped_characters),
                "plate_box_padding": list(g.plate_box_padding),
                "lines": g.lines,
                "line_character_height": list(g.line_character_height),
                "country_band": g.country_band,
            },
            "lookalikes": list(self.lookalikes),
            "layouts": dict(sorted(self.layouts.items())),
            "subregions": {code: dict(sorted(layouts.items())) for code, layouts in sorted(self.subregions.items())},
            "parent": self.parent,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RegionProfile:
        """JSON data as written by to_dict in, the profile out; ValueError with the reason when malformed."""
        try:
            g = data["geometry"]
            geometry = PlateGeometry(
                plate_aspect=_pair(g["plate_aspect"], float),
                character_height=_pair(g["character_height"], float),
                scene_characters=_pair(g["scene_characters"], int),
                cropped_characters=_pair(g["cropped_characters"], int),
                plate_box_padding=_pair(g["plate_box_padding"], float),
                lines=int(g["lines"]),
                # Profiles written before two-line plates were read have no line geometry.
                line_character_height=_pair(g.get("line_character_height", PlateGeometry.line_character_height), float),
                country_band=bool(g.get("country_band", False)),
            )
            return cls(
                code=str(data["code"]),
                alphabet=str(data["alphabet"]),
                geometry=geometry,
                lookalikes=tuple(str(v) for v in data["lookalikes"]),
                layouts=_counts(data.get("layouts", {})),
                subregions={str(k): _counts(v) for k, v in dict(data.get("subregions", {})).items()},
                parent=None if data.get("parent") is None else str(data["parent"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ValueError(f"malformed region profile ({type(error).__name__}: {error})") from None


def _pair(values: Any, kind: type) -> tuple:
    """Two JSON numbers in, a (low, high) tuple of kind out; ValueError unless low <= high."""
    low, high = (kind(v) for v in values)
    if low > high:
        raise ValueError(f"range {low}..{high} is reversed")
    return low, high


def _counts(values: Any) -> dict[str, int]:
    """A JSON {layout: count} in, the same with checked types out."""
    counts = {str(k): int(v) for k, v in dict(values).items()}
    if any(v < 0 or not set(k) <= {"L", "D"} for k, v in counts.items()):
        raise ValueError("layouts must be L/D strings with counts of at least 0")
    return counts


def region_code(text: str) -> str:
    """A region as typed ("US-VA", "us") in, its code out; ValueError when it is not one."""
    code = str(text).strip().lower()
    if not CODE.match(code):
        raise ValueError(f"region {text!r} is not a code like 'us' or 'us-va'")
    return code


def state_region(state: str, country: str = "us") -> str:
    """A two-letter US state ("va") in, its region code ("us-va") out (the --state alias)."""
    return region_code(f"{country}-{state}")


def layout(text: str) -> str:
    """Plate text in, its layout out: "L" for each letter, "D" for each digit."""
    return "".join("D" if c.isdigit() else "L" for c in text)


def pooled_layouts(subregions: Mapping[str, Mapping[str, int]]) -> dict[str, int]:
    """{sub-region: {layout: count}} in, {layout: count} over all of them out."""
    merged: Counter = Counter()
    for layouts in subregions.values():
        merged.update(layouts)
    return dict(sorted(merged.items()))


# Old Brazilian plates (LLL-NNNN, grey or red) are about 3:1 with the city's name in small letters above
# the characters; the characters are about half the plate's height, so the name's letters are too small
# to be taken for characters. Every plate has 7 characters, but a scene's candidate often cuts one off at
# an end: a 6-character reading is kept so that its plate box, grown by a character's width on each side,
# is read again whole. Letters and digits stand where the layout says, so the layout may choose between
# the characters printed alike. Mercosul plates (since 2018: white, a blue band with "BRASIL" across the
# top, LLL-N-L-NN in FE-Schrift) have the same size and characters about half their height; both formats
# are the prior that training plates add their counts to.
BRAZIL_FORMATS = ("LLLDDDD", "LLLDLDD")
BRAZIL = RegionProfile(
    "br",
    geometry=PlateGeometry(plate_aspect=(1.5, 7.0), character_height=(0.3, 0.9), scene_characters=(6, 8), cropped_characters=(6, 8), plate_box_padding=(0.2, 0.55)),
    lookalikes=("0OD", "1I", "8B", "5S", "2Z", "6G"),
    layouts=dict.fromkeys(BRAZIL_FORMATS, 1),
)

def spelled_layouts(*runs: tuple[str, int, int], longest: int = 9) -> tuple[str, ...]:
    """Runs of ("L" or "D", fewest, most) in, every layout they spell of at most longest characters out, shortest first.

    A format rule such as a German plate's "1-3 letters, 1-2 letters, 1-4 digits" is the
    runs ("L", 2, 5), ("D", 1, 4).
    """
    spelled = [""]
    for kind, fewest, most in runs:
        if kind not in ("L", "D") or not 0 <= fewest <= most:
            raise ValueError(f"a run is ('L' or 'D', fewest, most), got {(kind, fewest, most)!r}")
        spelled = [s + kind * n for s in spelled for n in range(fewest, most + 1) if len(s) + n <= longest]
    return tuple(sorted(set(spelled), key=lambda s: (len(s), s)))


# Layouts the format rules of European countries issue (current series, and the older ones still on the
# road), by international vehicle code: a prior that training plates add their counts to, so that letters
# and digits fall where a country's format puts them even for the countries few training plates show.
EUROPE_FORMATS: dict[str, tuple[str, ...]] = {
    "sk": ("LLDDDLL",),
    "cz": ("DLDDDDD", "DLLDDDD"),
    "d": spelled_layouts(("L", 2, 5), ("D", 1, 4), longest=8),
    "a": spelled_layouts(("L", 1, 2), ("D", 1, 5), ("L", 1, 3), longest=8) + spelled_layouts(("L", 1, 2), ("L", 1, 3), ("D", 1, 3), longest=8),
    "pl": ("LLDDDDD", "LLDDDDL", "LLDDDLL", "LLDLDDD", "LLDLLDD", "LLLDDDD", "LLLDDDL", "LLLDDLL", "LLLDLDD", "LLLDLLD", "LLLLDDD", "LLLLLDD"),
    "gb": ("LLDDLLL", "LDDDLLL", "LLLDDDL"),
    # The Dutch side codes 1-14.
    "nl": ("LLDDDD", "DDDDLL", "DDLLDD", "LLDDLL", "LLLLDD", "DDLLLL", "DDLLLD", "DLLLDD", "LLDDDL", "LDDDLL", "LLLDDL", "LDDLLL", "DLLDDD", "DDDLLD"),
    "b": ("DLLLDDD", "LLLDDD"),
    "f": ("LLDDDLL",),
}

# European plates: one line about 4.5:1 with a blue band at the left (a country code, too small to pass
# for a character), or two lines about 1.4:1 (square plates, motorcycles), read top line first. 5 to 8
# characters on a line plate, as few as 4 on a stacked one. Sub-regions are the countries by their
# international vehicle codes ("eu-d", "eu-cz", "eu-sk"), each starting from its format rules' layouts.
_EUROPE_LAYOUTS = {country: dict.fromkeys(layouts, 1) for country, layouts in EUROPE_FORMATS.items()}
EUROPE = RegionProfile(
    "eu",
    geometry=PlateGeometry(plate_aspect=(1.2, 8.0), character_height=(0.3, 0.95), scene_characters=(5, 9), cropped_characters=(4, 9), lines=2, country_band=True),
    lookalikes=("0O", "1I", "8B", "5S", "2Z"),
    layouts=pooled_layouts(_EUROPE_LAYOUTS),
    subregions=_EUROPE_LAYOUTS,
)

# Profiles lpr knows the geometry of; a model trained for a region stores its own copy with the layouts learned.
BUILT_IN = {"us": RegionProfile("us"), "br": BRAZIL, "eu": EUROPE}


def built_in_profile(code: str) -> RegionProfile:
    """A region code in, the built-in profile of its region (without learned layouts) out; ValueError for an unknown region."""
    root = region_code(code).split("-", 1)[0]
    if root not in BUILT_IN:
        raise ValueError(f"no region profile for {root!r} (known: {', '.join(sorted(BUILT_IN))})")
    return BUILT_IN[root]
