"""Chinese addresses → compound, building, unit and room, matched against the territory.

What the 12345 hotline, 诉速办 and walk-in clerks type for one flat:
    长江瑞城7号楼1单元101     长江瑞城 7栋 1单元 101室     长江瑞城七号楼一单元一零一
    长江瑞城7-1-101           7幢1-101                     富春江路88号长江瑞城7#楼
    长江瑞城７号楼１单元１０１     瑞城花园（旧名）7号楼
    山东省青岛市黄岛区长江路街道长江瑞城小区7号楼
Every spelling is normalised the same way (NFKC for full-width characters, traditional markers,
Chinese numerals before a marker become digits, punctuation and spaces dropped), then the
compound is found by its name or one of its aliases (old names, 门牌号), and the building,
unit and room are read from what follows it.

Pure Python over rows handed in: `AddressBook` is built once (per request, or once for the
benchmark) and matches thousands of strings a second.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _

TRADITIONAL = str.maketrans({"號": "号", "樓": "楼", "單": "单", "棟": "栋", "區": "区",
                             "園": "园", "〇": "零", "—": "-", "–": "-", "_": "-", "~": "-"})
# Spaces and punctuation carry no meaning in an address (they do split "7 1 101", see DASHED).
NOISE = re.compile(r"[\s,，、。．.:：;；()（）\[\]【】「」<>《》\"'“”‘’]+")
CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
             "八": 8, "九": 9}
MARKERS = "号楼|号|栋|幢|座|单元|室|户|楼|层|#|-"
# A Chinese numeral directly before a marker is a number (七号楼, 一单元, 一零一室).
CN_NUMBER = re.compile(rf"[零一二两三四五六七八九十百]+(?=(?:{MARKERS}))")
BUILDING_MARK = r"(?:号楼|#楼|号|#|栋|幢|座|楼)"
BUILDING = re.compile(rf"第?(?P<building>[A-Z]?\d{{1,4}}[A-Z]?){BUILDING_MARK}")
DASHED = re.compile(r"(?<![0-9A-Z])(?P<building>[A-Z]?\d{1,4}[A-Z]?)-(?P<unit>\d{1,2})-"
                    r"(?P<room>\d{3,5})(?!\d)")
UNIT = re.compile(r"-?(?P<unit>\d{1,2})(?:单元|-)")
ROOM = re.compile(r"-?(?P<room>\d{3,5})(?:室|户|号)?")
BARE_NUMBER = re.compile(r"-?(?P<building>[A-Z]?\d{1,4}[A-Z]?)$")
# "富春江路88号": a door number, not a building, when no compound name precedes it.
DOOR_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,12}?(?:大道|路|街|巷|弄|道)\d+号(?!楼)")
# 山东省青岛市西海岸新区长江路街道富春江路社区: the administrative prefix.
REGION_PREFIX = re.compile(r"^(?:[\u4e00-\u9fff]{2,12}?(?:省|自治区|市|自治州|地区|新区|区|县|街道"
                           r"|镇|乡|社区|村))+")
LEADING_NOISE = re.compile(r"^(?:小区|花园|家园|-|#)+")
BUILDING_SUFFIX = re.compile(r"(?:号楼|号|栋|幢|座|#|楼)$")
MIN_KEY_LENGTH = 2


def chinese_number(text: str) -> str:
    """一零一 → 101 (read digit by digit), 十五 → 15, 二十三 → 23, 一百零五 → 105."""
    if all(char in CN_DIGITS for char in text):
        return "".join(str(CN_DIGITS[char]) for char in text)
    total, current = 0, 0
    for char in text:
        if char in CN_DIGITS:
            current = CN_DIGITS[char]
        elif char == "十":
            total, current = total + (current or 1) * 10, 0
        elif char == "百":
            total, current = total + (current or 1) * 100, 0
    return str(total + current)


def normalize(text: str) -> str:
    """One spelling for all: half-width, simplified markers, digits, upper case, no spaces."""
    text = unicodedata.normalize("NFKC", text or "").translate(TRADITIONAL).upper()
    text = NOISE.sub("", text)
    return CN_NUMBER.sub(lambda match: chinese_number(match.group()), text)


def building_number_key(number: str) -> str:
    """A building's number as addresses spell it: "07" → "7", "7号楼" → "7", "a3" → "A3"."""
    key = BUILDING_SUFFIX.sub("", normalize(number))
    return re.sub(r"(?<![0-9])0+(?=\d)", "", key)


def compound_keys(name: str, aliases: Iterable[str] = ()) -> set[str]:
    """The spellings that name a compound: its name (with and without 小区) and its aliases."""
    keys = {normalize(name), normalize(re.sub(r"小区$", "", name.strip()))}
    keys.update(normalize(alias) for alias in aliases)
    return {key for key in keys if len(key) >= MIN_KEY_LENGTH}


@dataclass(frozen=True)
class ParsedAddress:
    """What the text says, before it is matched against buildings."""

    compound_ids: frozenset[int]
    building: str = ""
    unit: str = ""
    room: str = ""


@dataclass(frozen=True)
class AddressMatch:
    building_id: int | None = None
    compound_id: int | None = None
    unit: str = ""
    room: str = ""
    reason: str = ""  # why no building, in Chinese (empty when one was found)
    is_recognised: bool = True  # a compound or a building number was read at all


def _parts(tail: str) -> tuple[str, str, str]:
    """(building, unit, room) from the text after the compound's name."""
    tail = LEADING_NOISE.sub("", tail)
    dashed = DASHED.search(tail)
    building = BUILDING.search(tail)
    if dashed is not None and (building is None or dashed.start() <= building.start()):
        return (building_number_key(dashed.group("building")), dashed.group("unit"),
                dashed.group("room"))
    if building is None:
        bare = BARE_NUMBER.match(tail)
        return (building_number_key(bare.group("building")), "", "") if bare else ("", "", "")
    rest = tail[building.end():]
    unit = UNIT.match(rest)
    if unit is not None:
        rest = rest[unit.end():]
    room = ROOM.match(rest)
    return (building_number_key(building.group("building")),
            unit.group("unit").lstrip("0") if unit else "",
            room.group("room") if room else "")


class AddressBook:
    """The compounds (names, aliases) and buildings one placement may choose from."""

    def __init__(self, *, compounds: Iterable[tuple[int, str, Iterable[str]]],
                 buildings: Iterable[tuple[int, int, str]]) -> None:
        """compounds: (id, name, aliases); buildings: (id, compound id, number)."""
        self.names: dict[int, str] = {}
        self.keys: dict[str, set[int]] = {}
        for compound_id, name, aliases in compounds:
            self.names[compound_id] = name
            for key in compound_keys(name, aliases):
                self.keys.setdefault(key, set()).add(compound_id)
        # Longest first: at each position the regex engine takes the first alternative that fits.
        ordered = sorted(self.keys, key=len, reverse=True)
        self.pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None
        self.by_number: dict[tuple[int, str], int] = {}
        self.compounds_by_number: dict[str, set[int]] = {}
        for building_id, compound_id, number in buildings:
            key = building_number_key(number)
            self.by_number[(compound_id, key)] = building_id
            self.compounds_by_number.setdefault(key, set()).add(compound_id)

    def parse(self, text: str) -> ParsedAddress:
        normalized = normalize(text)
        spans: dict[int, int] = {}  # compound id → end of its last mention
        if self.pattern is not None:
            for found in self.pattern.finditer(normalized):
                for compound_id in self.keys[found.group()]:
                    spans[compound_id] = found.end()
        if not spans:
            tail = DOOR_NUMBER.sub("", REGION_PREFIX.sub("", normalized))
            return ParsedAddress(frozenset(), *_parts(tail))
        # Several compounds named (a shared alias, "X 旁边 Y"): what follows the last one counts.
        end = max(spans.values())
        tail = DOOR_NUMBER.sub("", normalized[end:])
        named = frozenset(compound for compound, stop in spans.items() if stop == end)
        return ParsedAddress(named, *_parts(tail))

    def match(self, text: str) -> AddressMatch:
        parsed = self.parse(text)
        if not parsed.building:
            if len(parsed.compound_ids) == 1:
                [compound_id] = parsed.compound_ids
                return AddressMatch(compound_id=compound_id, reason=_(
                    "地址中找到小区“%(compound)s”，但未能识别楼栋。")
                    % {"compound": self.names[compound_id]})
            return AddressMatch(reason=_("未能从地址识别小区和楼栋。"), is_recognised=False)
        candidates = parsed.compound_ids or frozenset(
            self.compounds_by_number.get(parsed.building, ()))
        found = [(compound_id, self.by_number[(compound_id, parsed.building)])
                 for compound_id in sorted(candidates)
                 if (compound_id, parsed.building) in self.by_number]
        if len(found) == 1:
            [(compound_id, building_id)] = found
            return AddressMatch(building_id=building_id, compound_id=compound_id,
                                unit=parsed.unit, room=parsed.room)
        return AddressMatch(
            compound_id=next(iter(parsed.compound_ids)) if len(parsed.compound_ids) == 1 else None,
            unit=parsed.unit, room=parsed.room, reason=self._no_building_reason(parsed, found))

    def _no_building_reason(self, parsed: ParsedAddress, found: list[tuple[int, int]]) -> str:
        if found:
            names = "、".join(self.names[compound_id] for compound_id, _building in found)
            return _("地址中的 %(number)s 号楼对应多个小区（%(names)s），请人工确认。") % {
                "number": parsed.building, "names": names}
        if len(parsed.compound_ids) == 1:
            [compound_id] = parsed.compound_ids
            return _("小区“%(compound)s”没有 %(number)s 号楼。") % {
                "compound": self.names[compound_id], "number": parsed.building}
        return _("未能从地址识别小区（楼号 %(number)s）。") % {"number": parsed.building}
