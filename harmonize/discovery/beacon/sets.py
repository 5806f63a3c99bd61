"""Sets of individuals, per snapshot: a count query as a few bitmap operations.

Every individual of a snapshot has an integer ``hz_id`` (``hz_people``, :mod:`.catalog`).
:class:`People` keeps, once per snapshot and worker, compressed bitmaps (Roaring, through
``pyroaring``) of those ids:

- per observed term of each term index (``hz_features``: observed, not excluded HPO
  features; ``hz_disease_terms``: diseases), the individuals carrying it;
- per value of a few ``hz_people`` columns (``dataset``, ``hz_consent``, and those
  :mod:`.definitions` matches by value: ``sex``);
- and, as plain arrays by ``hz_id``, each individual's dataset (as a code) and the numeric
  columns compared with an operator (those :mod:`.definitions` precomputes in days: the
  age, ``hz_age_days``).

A filter on a parent term is then the union of the bitmaps of the observed terms below it
(the snapshot's ``hz_closure``: every observed term with each of its ancestors), cached per
(index, term) in a small LRU; the term and value filters are ANDed as an intersection, and
the count per dataset is one intersection cardinality per dataset; comparisons (an age
range) then filter the ids that are left, as numpy arrays, counted per dataset. The count is the one the plan's SQL
makes (``tests/discovery/test_sets.py`` compares both on random tables); only queries whose
every filter is such an :data:`Atom` take this path (:class:`Selection`, built by
:func:`.plan.compile_query`); others run the SQL.

Memory, per worker: the term bitmaps hold each (individual, observed term) pair once,
compressed (at most one bit per individual per term, often much less); the value bitmaps
one bit per individual per column at most; each numeric column 8 bytes per individual,
the dataset codes 4;
the union cache at most :data:`CACHE_ENTRIES` bitmaps of at most one bit per individual.
"""

from __future__ import annotations

import threading
from array import array
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
from pyroaring import BitMap, FrozenBitMap

from harmonize.discovery.beacon.definitions import ALPHANUMERIC, ONTOLOGY

CACHE_ENTRIES = 128  # unions of a parent term's descendants kept per snapshot and worker
# hz_people columns matched by value: the scope, and what definitions.py matches on individuals
VALUE_COLUMNS = tuple(
    dict.fromkeys(
        ["dataset", "hz_consent"]
        + [f.column for f in ONTOLOGY.values() if f.table == "individuals" and f.values]
    )
)
# hz_people columns compared with an operator: the durations precomputed in days
NUMBER_COLUMNS = tuple(
    dict.fromkeys(
        f.days_column for f in ALPHANUMERIC.values() if f.table == "individuals" and f.days_column
    )
)


@dataclass(frozen=True)
class TermAtom:
    """Individuals with ``term`` in term index ``index`` (with its descendants or not)."""

    index: str
    term: str
    descendants: bool


@dataclass(frozen=True)
class ValueAtom:
    """Individuals whose ``hz_people`` column ``column`` equals ``value``."""

    column: str
    value: str


@dataclass(frozen=True)
class RangeAtom:
    """Individuals whose ``hz_people`` column ``column`` compares with ``bound`` by
    ``operator`` (SQL's: ``= < > <> >= <=``); a NULL never matches."""

    column: str
    operator: str
    bound: float


Atom = TermAtom | ValueAtom | RangeAtom


@dataclass(frozen=True)
class Selection:
    """A count query as sets: the atoms ANDed, within ``datasets`` and, when given, only
    the individuals whose consent key (``hz_consent``) is one of ``consents``."""

    atoms: tuple[Atom, ...]
    datasets: tuple[str, ...]
    consents: tuple[str, ...] | None = None


def _bitmap(ids: Any) -> FrozenBitMap:
    """A frozen bitmap of a numpy array of ids (through ``array('I')``: pyroaring reads
    that buffer directly, while a numpy array would be iterated value by value)."""
    values = array("I")
    values.frombytes(np.ascontiguousarray(ids, dtype=np.uint32).tobytes())
    return FrozenBitMap(values)


def _grouped(con: Any, sql: str) -> dict[str, FrozenBitMap]:
    """``sql`` returns (key, list of hz_id) rows; a bitmap per non-NULL key."""
    table = con.execute(sql).fetch_arrow_table()
    keys = table.column(0).to_pylist()
    lists = table.column(1).combine_chunks()
    offsets = lists.offsets.to_numpy()
    values = lists.values.to_numpy(zero_copy_only=False)
    found = {}
    for i, key in enumerate(keys):
        if key is not None:
            found[str(key)] = _bitmap(values[offsets[i] : offsets[i + 1]])
    return found


class People:
    """The bitmaps of one snapshot (see the module docstring)."""

    def __init__(
        self,
        size: int,
        terms: dict[str, dict[str, FrozenBitMap]],
        below: dict[str, list[str]],
        values: dict[str, dict[str, FrozenBitMap]],
        numbers: dict[str, Any],
    ) -> None:
        self.size = size
        self.terms = terms  # index -> term -> individuals with the term
        self.below = below  # ancestor -> the observed terms at or below it (any index)
        self.values = values  # column -> value -> individuals
        self.numbers = numbers  # column -> float64 array by hz_id (NaN for NULL)
        # dataset of each hz_id as a code into dataset_names (0: no dataset)
        self.dataset_names: list[str | None] = [None, *values["dataset"]]
        self.dataset_codes = np.zeros(size + 1, dtype=np.int32)
        for code, members in enumerate(values["dataset"].values(), start=1):
            self.dataset_codes[np.frombuffer(members.to_array(), dtype=np.uint32)] = code
        self._unions: OrderedDict[tuple[str, str], FrozenBitMap] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def build(cls, con: Any, indexes: tuple[str, ...]) -> People:
        """From a snapshot's ``hz_people``, ``hz_closure`` and term index tables."""
        size = int(con.execute("SELECT count(*) FROM hz_people").fetchone()[0])
        terms = {
            index: _grouped(con, f"SELECT term_id, list(hz_id) FROM {index} GROUP BY term_id")
            for index in indexes
        }
        below: dict[str, list[str]] = {}
        for term, ancestor in con.execute("SELECT term_id, ancestor_id FROM hz_closure").fetchall():
            below.setdefault(ancestor, []).append(term)
        values = {
            column: _grouped(con, f'SELECT "{column}", list(hz_id) FROM hz_people GROUP BY 1')
            for column in VALUE_COLUMNS
        }
        numbers = {}
        for column in NUMBER_COLUMNS:
            found = con.execute(
                f"SELECT hz_id, coalesce(\"{column}\"::DOUBLE, 'NaN'::DOUBLE) FROM hz_people"
            ).fetchnumpy()
            ids, column_values = (np.asarray(v) for v in found.values())
            numbers[column] = np.full(size + 1, np.nan)
            numbers[column][ids.astype(np.int64)] = column_values.astype(np.float64)
        return cls(size, terms, below, values, numbers)

    # -- one atom ------------------------------------------------------------------------

    def _term(self, atom: TermAtom) -> FrozenBitMap:
        index = self.terms.get(atom.index, {})
        if not atom.descendants:
            return index.get(atom.term, FrozenBitMap())
        key = (atom.index, atom.term)
        with self._lock:
            found = self._unions.get(key)
            if found is not None:
                self._unions.move_to_end(key)
                return found
        parts = [index[t] for t in self.below.get(atom.term, ()) if t in index]
        found = FrozenBitMap.union(*parts) if parts else FrozenBitMap()
        with self._lock:
            self._unions[key] = found
            while len(self._unions) > CACHE_ENTRIES:
                self._unions.popitem(last=False)
        return found

    def _keep(self, atom: RangeAtom, ids: Any) -> Any:
        """A mask over ``ids``: which of them ``atom`` matches (NULL, NaN here, never)."""
        column = self.numbers[atom.column][ids]
        with np.errstate(invalid="ignore"):
            if atom.operator == "=":
                return column == atom.bound
            if atom.operator == "<":
                return column < atom.bound
            if atom.operator == ">":
                return column > atom.bound
            if atom.operator == "<=":
                return column <= atom.bound
            if atom.operator == ">=":
                return column >= atom.bound
            if atom.operator == "<>":
                return (column != atom.bound) & ~np.isnan(column)
        raise ValueError(f"operator {atom.operator!r}")

    def _set(self, atom: TermAtom | ValueAtom) -> FrozenBitMap:
        if isinstance(atom, TermAtom):
            return self._term(atom)
        return self.values[atom.column].get(atom.value, FrozenBitMap())

    # -- a query ---------------------------------------------------------------------------

    def count(self, selection: Selection) -> dict[str, int]:
        """Matching individuals per dataset (datasets without any are left out).

        The term and value atoms (and the consent keys) intersect as bitmaps; the range
        atoms then filter the ids left, as arrays, and the datasets are counted from them
        (one bitmap cardinality per dataset when there is no range atom)."""
        parts = [self._set(a) for a in selection.atoms if not isinstance(a, RangeAtom)]
        ranges = [a for a in selection.atoms if isinstance(a, RangeAtom)]
        if selection.consents is not None:
            keys = self.values["hz_consent"]
            allowed = [keys[k] for k in selection.consents if k in keys]
            parts.append(FrozenBitMap.union(*allowed) if allowed else FrozenBitMap())
        hits: BitMap | FrozenBitMap | None = None
        for part in sorted(parts, key=len):
            hits = part if hits is None else hits & part
            if not hits:
                break
        wanted = dict.fromkeys(selection.datasets)
        if ranges:
            if hits is None:
                ids = np.arange(1, self.size + 1, dtype=np.int64)
            else:
                ids = np.frombuffer(hits.to_array(), dtype=np.uint32).astype(np.int64)
            for atom in ranges:
                ids = ids[self._keep(atom, ids)]
            found = np.bincount(self.dataset_codes[ids], minlength=len(self.dataset_names))
            return {
                name: int(n)
                for name, n in zip(self.dataset_names, found, strict=True)
                if n and name in wanted
            }
        counts = {}
        by_dataset = self.values["dataset"]
        for dataset in wanted:
            members = by_dataset.get(dataset)
            if members is None:
                continue
            n = len(members) if hits is None else members.intersection_cardinality(hits)
            if n:
                counts[dataset] = n
        return counts
