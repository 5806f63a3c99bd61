"""Beacon filters: read from a GET string or a POST body, checked, compiled to SQL.

Every filter becomes one SQL condition on the individual (alias ``i`` of the snapshot's
``hz_people`` table: the ``individuals`` view with an integer ``hz_id``);
:func:`compile_filters` ANDs them. Terms are bound as parameters, never pasted into the SQL.
Which column a filter reads is :mod:`.definitions`' business.

>>> [f.id for f in parse_get("HP:0001250,age:>=P10Y")]
['HP:0001250', 'age']
>>> parse_get("age:>=P10Y")[0].operator, parse_get("age:>=P10Y")[0].value
('>=', 'P10Y')
>>> parse_get("LOINC:4548-4:>48")[0].id
'LOINC:4548-4'
>>> days("P1Y") == days("P12M"), days("P2W"), days("P1Y6M") > days("P1Y")
(True, 14.0, True)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harmonize.discovery.beacon.definitions import (
    ALPHANUMERIC,
    MEASUREMENT,
    MEASUREMENT_PREFIXES,
    ONTOLOGY,
    OPERATORS,
    OntologyField,
    ValueField,
)
from harmonize.discovery.beacon.errors import FilterError
from harmonize.discovery.beacon.sets import Atom, RangeAtom, TermAtom, ValueAtom

_GET_VALUE = re.compile(r"^(?P<id>.+?):?(?P<op>>=|<=|[=<>!])(?P<value>[^=<>!].*)$")
_CURIE = re.compile(r"^(?P<prefix>[A-Za-z][A-Za-z0-9_.]*):(?P<local>\S+)$")
DURATION = re.compile(
    r"^P(?!$)(?:(?P<y>\d+(?:\.\d+)?)Y)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<w>\d+(?:\.\d+)?)W)?"
    r"(?:(?P<d>\d+(?:\.\d+)?)D)?(?:T(?:\d+(?:\.\d+)?[HMS])+)?$"
)
DAYS_PER = {"y": 365.25, "m": 30.4375, "w": 7.0, "d": 1.0}
# the same arithmetic in DuckDB, for the table's ISO 8601 ages (the time part is ignored)
DAYS_MACRO = (
    "CREATE OR REPLACE MACRO hz_days(d) AS CASE WHEN d LIKE 'P%' THEN "
    + " + ".join(
        f"coalesce(try_cast(regexp_extract(split_part(d, 'T', 1), '([0-9.]+){unit.upper()}', 1)"
        f" AS DOUBLE), 0) * {factor}"
        for unit, factor in DAYS_PER.items()
    )
    + " END"
)


def days(duration: str) -> float:
    """An ISO 8601 duration in days (a year 365.25, a month 30.4375), the time part ignored."""
    match = DURATION.match(duration)
    if match is None:
        raise ValueError(f"not an ISO 8601 duration: {duration!r}")
    return sum(float(match[u] or 0) * f for u, f in DAYS_PER.items())


@dataclass(frozen=True)
class Filter:
    """One filter as the request gave it."""

    id: str
    operator: str | None = None
    value: str | None = None
    descendants: bool = True
    similarity: str = "exact"
    scope: str | None = None


def parse_get(text: str | None) -> list[Filter]:
    """Filters of a GET ``filters`` parameter (comma-separated)."""
    found = []
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        match = _GET_VALUE.match(part)
        if match is not None:
            found.append(Filter(match["id"], operator=match["op"], value=match["value"]))
        else:
            found.append(Filter(part))
    return found


def parse_post(filters: Any) -> list[Filter]:
    """Filters of a POST body's ``query.filters`` (a list of filter objects)."""
    if filters is None:
        return []
    if not isinstance(filters, list):
        raise FilterError(str(filters)[:80], "filters must be a list of filter objects")
    found = []
    for item in filters:
        if isinstance(item, str):
            found.extend(parse_get(item))
            continue
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
            raise FilterError(str(item)[:80], "a filter is an object with a string id")
        descendants = item.get("includeDescendantTerms", True)
        if not isinstance(descendants, bool):
            raise FilterError(item["id"], "includeDescendantTerms must be true or false")
        value = item.get("value")
        found.append(
            Filter(
                item["id"],
                operator=item.get("operator"),
                value=None if value is None else str(value),
                descendants=descendants,
                similarity=str(item.get("similarity", "exact")),
                scope=item.get("scope"),
            )
        )
    return found


@dataclass(frozen=True)
class Condition:
    """A filter's SQL condition and, when the per-snapshot sets can answer it, the same
    condition as set atoms (:mod:`.sets`); ``None`` when only the SQL can."""

    sql: str
    params: list[Any]
    atoms: tuple[Atom, ...] | None = None


class Terms:
    """What the filters are checked against: is a term known (the pinned releases), and its
    primary id in a release with a hierarchy (an ``alt_id`` names its primary term)."""

    def __init__(
        self, known: Callable[[str], bool], primary: Callable[[str], str] = lambda t: t
    ) -> None:
        self.known = known
        self.primary = primary


def _link(table: str, predicate: str) -> str:
    if table == "individuals":
        return predicate.replace("t.", "i.")
    return (
        f'EXISTS (SELECT 1 FROM "{table}" t WHERE t.submission_id = i.submission_id '
        f"AND t.phenopacket_id = i.phenopacket_id AND {predicate})"
    )


def _ontology(f: Filter, prefix: str, spec: OntologyField, terms: Terms) -> Condition:
    if f.similarity != "exact":
        raise FilterError(
            f.id,
            f"similarity {f.similarity!r} is not supported",
            hint="only exact matching (with or without descendant terms) is implemented",
        )
    if spec.values:
        if f.id not in spec.values:
            raise FilterError(
                f.id,
                f"unknown {prefix} term for column {spec.column}",
                hint=f"use one of {sorted(spec.values)}",
            )
        value = spec.values[f.id]
        atoms = (ValueAtom(spec.column, value),) if spec.table == "individuals" else None
        return Condition(_link(spec.table, f"t.{spec.column} = ?"), [value], atoms)
    if not terms.known(f.id):
        raise FilterError(
            f.id,
            f"unknown {prefix} term: not in the pinned release nor of the prefix's id syntax",
            hint="check the id; /filtering_terms lists the terms in the data",
        )
    if spec.unpinned and f.descendants:
        raise FilterError(
            f.id,
            f"descendants of {prefix} terms cannot be found: {prefix} has a hierarchy, but no "
            f"{prefix} release is pinned (ontologies/manifest.yaml), and matching the exact "
            "term alone would miss its descendants",
            hint="to match this exact term only, POST the filter with "
            '"includeDescendantTerms": false',
        )
    if spec.index is not None:  # observed rows only, by the individual's integer id
        term, match = f.id, "term_id = ?"
        expand = bool(spec.closure and f.descendants)
        if expand:
            term = terms.primary(f.id)
            match = "term_id IN (SELECT term_id FROM hz_closure WHERE ancestor_id = ?)"
        return Condition(
            f"i.hz_id IN (SELECT hz_id FROM {spec.index} WHERE {match})",
            [term],
            (TermAtom(spec.index, term, expand),),
        )
    excluded = f" AND t.{spec.excluded} IS NOT TRUE" if spec.excluded else ""
    if spec.closure and f.descendants:
        match = f"t.{spec.column} IN (SELECT term_id FROM hz_closure WHERE ancestor_id = ?)"
        return Condition(_link(spec.table, match + excluded), [terms.primary(f.id)])
    return Condition(_link(spec.table, f"t.{spec.column} = ?" + excluded), [f.id])


_SQL_OPERATOR = {"=": "=", "<": "<", ">": ">", "!": "<>", ">=": ">=", "<=": "<="}


def _value(f: Filter, spec: ValueField, assay: str | None) -> Condition:
    if f.operator not in OPERATORS:
        raise FilterError(f.id, f"operator {f.operator!r} is not one of {' '.join(OPERATORS)}")
    if f.value is None or f.value == "":
        raise FilterError(f.id, "an alphanumeric filter needs a value")
    op = _SQL_OPERATOR[f.operator]
    if spec.kind == "duration":
        try:
            bound: float = days(f.value)
        except ValueError:
            raise FilterError(
                f.id, f"value {f.value!r} is not an ISO 8601 duration", hint="e.g. P10Y or P6M2D"
            ) from None
        in_days = f"t.{spec.days_column}" if spec.days_column else f"hz_days(t.{spec.column})"
        predicate = f"{in_days} {op} ?"
    else:
        try:
            bound = float(f.value)
        except ValueError:
            raise FilterError(f.id, f"value {f.value!r} is not a number") from None
        predicate = f"t.{spec.column} {op} ?"
    params: list[Any] = [bound]
    if assay is not None:
        predicate, params = f"t.assay_id = ? AND {predicate}", [assay, *params]
    tables = (spec.table, *spec.also)
    sql = " OR ".join(_link(table, predicate) for table in tables)
    atoms: tuple[Atom, ...] | None = None
    if spec.days_column and tables == ("individuals",) and assay is None:
        atoms = (RangeAtom(spec.days_column, op, bound),)
    return Condition(sql, params * len(tables), atoms)


def compile_filter(f: Filter, terms: Terms) -> Condition:
    """One filter as one SQL condition on individual ``i``; FilterError when it cannot be."""
    if f.operator is not None or f.value is not None:
        spec = ALPHANUMERIC.get(f.id)
        if spec is not None:
            return _value(f, spec, None)
        curie = _CURIE.match(f.id)
        if curie is None or curie["prefix"] not in MEASUREMENT_PREFIXES:
            raise FilterError(
                f.id,
                "unknown alphanumeric filter",
                hint=f"use one of {sorted(ALPHANUMERIC)} or an assay CURIE "
                f"({', '.join(MEASUREMENT_PREFIXES)}) for measurement values",
            )
        return _value(f, MEASUREMENT, f.id)
    if f.id in ALPHANUMERIC:
        raise FilterError(f.id, "needs an operator and a value, e.g. age:>=P18Y")
    curie = _CURIE.match(f.id)
    if curie is None:
        raise FilterError(f.id, "is not a CURIE (prefix:id) nor a known field")
    field = ONTOLOGY.get(curie["prefix"])
    if field is None:
        raise FilterError(
            f.id,
            f"unknown prefix {curie['prefix']!r}",
            hint=f"filterable prefixes: {', '.join(ONTOLOGY)}",
        )
    return _ontology(f, curie["prefix"], field, terms)


def compile_filters(filters: list[Filter], terms: Terms, *, limit: int) -> Condition:
    """All filters ANDed (``true`` for none)."""
    if len(filters) > limit:
        raise FilterError(
            ",".join(f.id for f in filters)[:120],
            f"{len(filters)} filters given; at most {limit} are accepted in one query",
        )
    parts = [compile_filter(f, terms) for f in filters]
    if not parts:
        return Condition("true", [], ())
    atoms = None
    if all(p.atoms is not None for p in parts):
        atoms = tuple(a for p in parts for a in p.atoms or ())
    return Condition(
        " AND ".join(f"({p.sql})" for p in parts), [x for p in parts for x in p.params], atoms
    )
