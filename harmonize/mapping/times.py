"""Times: every ``TimeElement`` form of the Phenopacket v2 schema, read from a cell.

A time in a Phenopacket (an onset, a resolution, the time at last encounter, when a
measurement was taken) is one of:

- an age, as an ISO 8601 duration (``P3Y6M``; ``3 years`` and ``6 mo`` are read too);
- an age range (``P1Y/P5Y``, ``P1Y-P5Y``, ``P1Y to P5Y``);
- a gestational age (``G32w4d``, ``G32w``, ``32+4 weeks gestation``, ``GA 30w``);
- an ontology class: an HPO onset term, by label (``Infantile onset``) or id (``HP:0003593``);
- a timestamp: an ISO 8601 date or date-time (``2020-03-15``, ``2020-03-15T10:00:00Z``).

In the tables a time is a group of columns sharing a stem (``onset_age``,
``onset_age_range_start``, ..., ``onset_timestamp``); at most one form is set per row.

>>> read = TimeReader({"infantile onset": ("HP:0003593", "Infantile onset")})
>>> read("P3Y6M").age, read("Infantile onset").term_id, read("HP:0003593").term_label
('P3Y6M', 'HP:0003593', 'Infantile onset')
>>> t = read("P1Y/P5Y"); (t.age_range_start, t.age_range_end)
('P1Y', 'P5Y')
>>> t = read("G32w4d"); (t.gestational_weeks, t.gestational_days)
(32, 4)
>>> read("2020-03-15").element()
{'timestamp': '2020-03-15T00:00:00Z'}
>>> read("soon") is None
True
>>> column("last_encounter", "age"), column("onset", "term_id")
('age_at_last_encounter', 'onset_term_id')
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa

from harmonize.mapping.ages import is_iso_duration, normalize_age

TIME_TYPE = pa.struct(
    [
        ("age", pa.string()),
        ("age_range_start", pa.string()),
        ("age_range_end", pa.string()),
        ("gestational_weeks", pa.int32()),
        ("gestational_days", pa.int32()),
        ("term_id", pa.string()),
        ("term_label", pa.string()),
        ("timestamp", pa.timestamp("us", tz="UTC")),
    ]
)
PARTS: tuple[str, ...] = tuple(f.name for f in TIME_TYPE)
# the stems of the times the tables hold, and the one column kept under an older name
STEMS = ("onset", "resolution", "last_encounter", "time_observed")
_RENAMED = {("last_encounter", "age"): "age_at_last_encounter"}

_RANGE = re.compile(r"^(.+?)\s*(?:/|\u2013|\u2014|\bto\b|(?<=[YMWDHS\d\s])-(?=\s*[Pp\d]))\s*(.+)$")
_GESTATIONAL = (
    re.compile(
        r"^(?:G|GA\s*)(\d{1,2})\s*w(?:ee)?k?s?(?:\s*\+?\s*(\d)\s*d(?:ays?)?)?$", re.IGNORECASE
    ),
    re.compile(
        r"^(\d{1,2})(?:\s*\+\s*(\d))?\s*(?:w|wks?|weeks?)?\s*(?:of\s+)?(?:gestation|GA)$",
        re.IGNORECASE,
    ),
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_MAX_GESTATIONAL_WEEKS = 45


def column(stem: str, part: str) -> str:
    """The table column of one part of a time."""
    return _RENAMED.get((stem, part), f"{stem}_{part}")


def fields_for(stem: str) -> list[pa.Field]:
    """The table fields of a time with this stem."""
    return [pa.field(column(stem, f.name), f.type) for f in TIME_TYPE]


@dataclass(frozen=True, slots=True)
class Time:
    """One time, in exactly one of the schema's forms."""

    age: str | None = None
    age_range_start: str | None = None
    age_range_end: str | None = None
    gestational_weeks: int | None = None
    gestational_days: int | None = None
    term_id: str | None = None
    term_label: str | None = None
    timestamp: datetime | None = None

    def as_row(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def element(self) -> dict[str, Any] | None:
        """The Phenopacket ``TimeElement`` (proto3 JSON names)."""
        return element(self.as_row())


def element(parts: Mapping[str, Any]) -> dict[str, Any] | None:
    """A ``TimeElement`` from a time's parts (as :data:`PARTS` names), or None when empty."""
    if parts.get("age"):
        return {"age": {"iso8601duration": parts["age"]}}
    if parts.get("age_range_start") or parts.get("age_range_end"):
        span: dict[str, Any] = {}
        if parts.get("age_range_start"):
            span["start"] = {"iso8601duration": parts["age_range_start"]}
        if parts.get("age_range_end"):
            span["end"] = {"iso8601duration": parts["age_range_end"]}
        return {"ageRange": span}
    if parts.get("gestational_weeks") is not None:
        gestational: dict[str, Any] = {"weeks": parts["gestational_weeks"]}
        if parts.get("gestational_days"):
            gestational["days"] = parts["gestational_days"]
        return {"gestationalAge": gestational}
    if parts.get("term_id"):
        return {"ontologyClass": {"id": parts["term_id"], "label": parts.get("term_label") or ""}}
    stamp = parts.get("timestamp")
    if stamp is not None:
        return {"timestamp": rfc3339(stamp)}
    return None


def rfc3339(stamp: datetime) -> str:
    """A timestamp as protobuf JSON writes one: UTC, ``Z``, fractional seconds only if any."""
    stamp = stamp.astimezone(UTC) if stamp.tzinfo else stamp.replace(tzinfo=UTC)
    text = stamp.strftime("%Y-%m-%dT%H:%M:%S")
    if stamp.microsecond:
        text += f".{stamp.microsecond:06d}".rstrip("0")
    return text + "Z"


def from_element(obj: Mapping[str, Any] | None) -> Time:
    """A submitted ``TimeElement`` (proto3 JSON) as a :class:`Time`; empty when absent."""
    if not obj:
        return Time()
    if obj.get("age"):
        return Time(age=obj["age"].get("iso8601duration"))
    if obj.get("ageRange"):
        span = obj["ageRange"]
        return Time(
            age_range_start=(span.get("start") or {}).get("iso8601duration"),
            age_range_end=(span.get("end") or {}).get("iso8601duration"),
        )
    if obj.get("gestationalAge"):
        g = obj["gestationalAge"]
        return Time(
            gestational_weeks=int(g.get("weeks", 0)), gestational_days=int(g.get("days", 0))
        )
    if obj.get("ontologyClass"):
        oc = obj["ontologyClass"]
        return Time(term_id=oc.get("id"), term_label=oc.get("label"))
    if obj.get("timestamp"):
        return Time(timestamp=_timestamp(str(obj["timestamp"])))
    return Time()


def _timestamp(text: str) -> datetime | None:
    if not _DATE.match(text):
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        stamp = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return None
    return stamp.astimezone(UTC) if stamp.tzinfo else stamp.replace(tzinfo=UTC)


class TimeReader:
    """Reads a cell into a :class:`Time`, trying each form the schema allows.

    ``onsets`` maps a normalized HPO onset label to ``(id, label)``. ``number`` turns a
    bare number into an ISO duration (a column's declared unit: years, months, ...);
    without it a bare number is not a time.
    """

    def __init__(
        self,
        onsets: Mapping[str, tuple[str, str]],
        number: Callable[[str], str | None] | None = None,
    ) -> None:
        self._labels = onsets
        self._ids = {tid.upper(): (tid, label) for tid, label in onsets.values()}
        self._number = number

    def age(self, text: str) -> str | None:
        """An ISO 8601 duration for ``text`` (an age, or a bare number in the column's unit)."""
        if self._number is not None and text[:1].isdigit():
            age = self._number(text)
            if age is not None:
                return age
        return normalize_age(text)

    def __call__(self, value: str) -> Time | None:
        text = value.strip()
        if not text:
            return None
        age = self.age(text)
        if age is not None:
            return Time(age=age)
        term = self._labels.get(" ".join(text.lower().split())) or self._ids.get(text.upper())
        if term is not None:
            return Time(term_id=term[0], term_label=term[1])
        for pattern in _GESTATIONAL:
            m = pattern.match(text)
            if m:
                weeks, days = int(m.group(1)), int(m.group(2) or 0)
                if weeks <= _MAX_GESTATIONAL_WEEKS and days < 7:
                    return Time(gestational_weeks=weeks, gestational_days=days)
                return None
        stamp = _timestamp(text)
        if stamp is not None:
            return Time(timestamp=stamp)
        m = _RANGE.match(text)
        if m:
            start, end = self.age(m.group(1).strip()), self.age(m.group(2).strip())
            if start and end and is_iso_duration(start) and is_iso_duration(end):
                return Time(age_range_start=start, age_range_end=end)
        return None

    def from_json(self, obj: Any) -> Time | None:
        """A ``TimeElement`` written as JSON, or None when it is not one.

        Phenopacket-style wrapped forms (``{"age": {"iso8601duration": "P3Y"}}``,
        ``ageRange``, ``gestationalAge``, ``ontologyClass``, ``timestamp``; Beacon's
        ``ageGroup`` too) and the Beacon v2 schema's flat ones (``{"iso8601duration":
        "P3Y"}``, ``{"start": ..., "end": ...}``, ``{"weeks": 32}``, ``{"id", "label"}``, a
        date string) are read, each with this reader's rules.

        >>> read = TimeReader({"infantile onset": ("HP:0003593", "Infantile onset")})
        >>> read.from_json({"age": {"iso8601duration": "P3Y"}}).age
        'P3Y'
        >>> read.from_json({"start": {"iso8601duration": "P1Y"}, "end": {"iso8601duration": "P5Y"}})
        Time(age=None, age_range_start='P1Y', age_range_end='P5Y', gestational_weeks=None, \
gestational_days=None, term_id=None, term_label=None, timestamp=None)
        >>> read.from_json({"id": "HP:0003593"}).term_label, read.from_json({"age": "soon"})
        ('Infantile onset', None)
        """
        if isinstance(obj, str):
            return self(obj)
        if not isinstance(obj, dict):
            return None
        for wrapper in ("age", "ageRange", "gestationalAge", "ageGroup", "ontologyClass"):
            if wrapper in obj:
                return self.from_json(obj[wrapper]) if isinstance(obj[wrapper], dict) else None
        start, end = obj.get("start"), obj.get("end")
        weeks, days = obj.get("weeks"), obj.get("days", 0)
        if isinstance(obj.get("timestamp"), str):
            text, form = obj["timestamp"], "timestamp"
        elif isinstance(obj.get("iso8601duration"), str):
            text, form = obj["iso8601duration"], "age"
        elif isinstance(start, dict) and isinstance(end, dict):
            text = f"{start.get('iso8601duration')}/{end.get('iso8601duration')}"
            form = "age_range_start"
        elif type(weeks) is int and type(days) is int:
            text, form = f"G{weeks}w{days}d", "gestational_weeks"
        elif isinstance(obj.get("id"), str) and ":" in obj["id"]:
            known = self(obj["id"])  # an HPO onset term takes the release's label
            if known is not None and known.term_id is not None:
                return known
            label = obj.get("label")
            return Time(term_id=obj["id"], term_label=label if isinstance(label, str) else None)
        else:
            return None
        found = self(text)
        return found if found is not None and getattr(found, form) is not None else None

    def pack(self, value: str) -> dict[str, Any] | None:
        """:meth:`__call__` as a row of :data:`TIME_TYPE` (for :func:`map_distinct`)."""
        found = self(value)
        return None if found is None else found.as_row()


def split(stem: str, times: pa.Array) -> dict[str, pa.Array]:
    """A :data:`TIME_TYPE` array as the table columns of ``stem``."""
    children = times.flatten()  # children with the struct's own nulls applied
    return {column(stem, part): child for part, child in zip(PARTS, children, strict=True)}


def nulls(stem: str, n: int) -> dict[str, pa.Array]:
    """The columns of ``stem`` with no time in any row."""
    return {column(stem, f.name): pa.nulls(n, f.type) for f in TIME_TYPE}


def row_parts(stem: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """One table row's time of ``stem``, by part name."""
    return {part: row.get(column(stem, part)) for part in PARTS}
