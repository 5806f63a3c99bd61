"""Coded columns of the ``tabular`` profile (diseases, procedures): codes, labels, or both.

A cell (or, with a ``separator``, each item of a cell) is read, in this order, as

1. an entry of the column's ``values`` map (case-insensitive): the CURIE it names;
2. a CURIE, alone or followed by its label: ``OMIM:615032``,
   ``OMIM:615032 Intellectual developmental disorder``;
3. a bare code of the column's ``prefix`` (its id pattern decides what a code is), alone
   or followed by its label: ``E11``, ``E11 Type 2 diabetes mellitus``, ``E11 - Type 2``;
4. a label alone, resolved against the ``prefix``'s name list (:func:`name_list`).

A label is resolved the way phenotype labels are when the prefix has a term index (an
ontology release in ``ontologies/manifest.yaml``): through the term resolver, with
evidence in the report and low-confidence matches held for review. A code system without
a term index can still have a *name list*: a :class:`DiseaseNames` registered for its
prefix with :func:`register_name_list` (the real code lists, e.g. HPO's
``phenotype.hpoa`` disease names or an ICD-10 list, plug in here). A label no list
resolves is an ``unmapped-term`` finding at its cell, at the level of the unmapped-term
policy; a label in a column without a ``prefix``, or whose prefix has neither an index nor
a name list, is an ``unresolvable-label`` error telling the submitter what to write.

>>> split_code("E11 Type 2 diabetes mellitus")
('E11', 'Type 2 diabetes mellitus')
>>> split_code("OMIM:615032 - Intellectual developmental disorder")
('OMIM:615032', 'Intellectual developmental disorder')
>>> split_code("alzheimer's disease")
("alzheimer's", 'disease')
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from harmonize.mapping.profiles.base import MappingContext
from harmonize.mapping.profiles.mapping_file import CodedColumn as CodedSpec
from harmonize.mapping.values import as_array, column_or_nulls
from harmonize.ontology import Ontologies, Resolution
from harmonize.quality.collect import POLICY_LEVEL
from harmonize.readers.base import SourceBatch

VALIDATOR = "profile:tabular"
_CURIE = re.compile(r"^[A-Za-z][A-Za-z0-9_.]*:[A-Za-z0-9_.\-]+$")
_LABEL_LEAD = " \t-\u2013\u2014:|,;"


class DiseaseNames(Protocol):
    """A code system's names: what resolving a disease label needs.

    ``lookup`` returns the code a label names (its ``Resolution``, with the method,
    score and release that are the evidence), or ``None``.
    """

    def lookup(self, label: str) -> Resolution | None: ...


NameListFactory = Callable[[Ontologies], "DiseaseNames | None"]
_NAME_LISTS: dict[str, NameListFactory] = {}


def register_name_list(prefix: str, factory: NameListFactory) -> None:
    """Make ``factory(ontologies)`` the name list of the code system ``prefix``."""
    _NAME_LISTS[prefix] = factory


def name_list(ontologies: Ontologies, prefix: str) -> DiseaseNames | None:
    """The name list registered for ``prefix``, if any (see :func:`register_name_list`)."""
    factory = _NAME_LISTS.get(prefix)
    return factory(ontologies) if factory is not None else None


def split_code(text: str) -> tuple[str, str | None]:
    """A cell's first word and the rest (its label, if the first word is a code)."""
    first, _, rest = text.strip().partition(" ")
    label = rest.strip().lstrip(_LABEL_LEAD).strip()
    return first.rstrip(",;:"), label or None


@dataclass(frozen=True)
class Coded:
    term_id: str
    label: str | None


class CodedColumn:
    """Reads one coded column of a batch into one row per item (see the module docstring)."""

    def __init__(self, spec: CodedSpec, ctx: MappingContext, batch: SourceBatch) -> None:
        self.spec, self.ctx, self.batch = spec, ctx, batch
        self.ontologies = ctx.ontologies
        self.values = {k.strip().lower(): v for k, v in spec.values.items()}
        self.prefixes = set(self.ontologies.prefixes())

    def items(self) -> tuple[pa.Array, pa.Array, pa.Array]:
        """``(row index, term id, label)`` of every item that names a code."""
        raw = column_or_nulls(self.batch.table, self.spec.column)
        if self.spec.separator is None:
            items = raw.filter(pc.is_valid(raw))
            parent = pa.array(np.flatnonzero(pc.is_valid(raw).to_numpy(zero_copy_only=False)))
        else:
            split = pc.split_pattern(pc.fill_null(raw, ""), pattern=self.spec.separator)
            parent = pc.list_parent_indices(split)
            items = pc.utf8_trim_whitespace(pc.list_flatten(split))
            nonempty = pc.not_equal(items, "")
            items, parent = items.filter(nonempty), parent.filter(nonempty)
        parent = parent.cast(pa.int64())
        enc = as_array(items).dictionary_encode()
        found = [
            self._read(text, enc.indices, parent, k)
            for k, text in enumerate(enc.dictionary.to_pylist())
        ]
        ids = pa.array([c.term_id if c else None for c in found], pa.string()).take(enc.indices)
        labels = pa.array([c.label if c else None for c in found], pa.string()).take(enc.indices)
        keep = pc.is_valid(ids)
        own = column_or_nulls(self.batch.table, self.spec.label_column).take(parent)
        labels = pc.coalesce(labels, own)
        return parent.filter(keep), ids.filter(keep), labels.filter(keep)

    # -- one distinct item -----------------------------------------------------------------
    def _read(self, text: str, indices: pa.Array, parent: pa.Array, k: int) -> Coded | None:
        mapped = self.values.get(text.strip().lower())
        if mapped is not None:
            return Coded(mapped, None)
        first, label = split_code(text)
        if _CURIE.match(first) and (label is None or first.split(":")[0] in self.prefixes):
            return Coded(first, label)
        prefix = self.spec.prefix
        if prefix is not None:
            for code in dict.fromkeys((first, first.upper())):
                if self.ontologies.check_curie(f"{prefix}:{code}"):
                    return Coded(f"{prefix}:{code}", label)
        return self._by_label(text.strip(), indices, parent, k)

    def _where(self, text: str, indices: pa.Array, parent: pa.Array, k: int) -> dict[str, Any]:
        hits = np.flatnonzero(indices.to_numpy(zero_copy_only=False) == k)
        first = int(parent[int(hits[0])].as_py()) if len(hits) else 0
        return {
            "file": self.batch.file,
            "sheet": self.batch.sheet,
            "row": self.batch.rows[first].as_py(),
            "column": self.spec.column,
            "value": text,
            "count": len(hits),
        }

    def _by_label(self, text: str, indices: pa.Array, parent: pa.Array, k: int) -> Coded | None:
        where = self._where(text, indices, parent, k)
        count = where.pop("count")
        prefix = self.spec.prefix
        findings = self.ctx.findings
        if prefix is not None and self.ontologies.has_index(prefix):
            assert self.ctx.resolver is not None, "the pipeline gives every profile a resolver"
            hit = self.ctx.resolver.resolve(prefix, text, where, VALIDATOR, count=count)
            return Coded(hit.term_id, hit.label) if hit else None
        names = name_list(self.ontologies, prefix) if prefix is not None else None
        if names is None:
            findings.add(
                "error",
                "unresolvable-label",
                f"{text!r} is not a disease code"
                + (
                    f", and no {prefix} name list is installed to resolve it as a label"
                    if prefix
                    else ", and the mapping gives this column no 'prefix' to resolve labels in"
                ),
                VALIDATOR,
                hint=f"write the code (for example {_example(prefix)}), or map this text to a "
                f"code in the column's 'values' in the mapping",
                data={"count": count},
                **where,
            )
            return None
        hit = names.lookup(text)
        if hit is None:
            findings.add(
                POLICY_LEVEL[self.ctx.settings.unmapped_policy],
                "unmapped-term",
                f"{text!r} matches no {prefix} code or name",
                VALIDATOR,
                hint="write the code, or map this text to a code in the column's 'values'",
                data={"count": count},
                **where,
            )
            return None
        if hit.low_confidence or hit.method not in ("id", "label"):
            self._inexact(prefix or "", text, hit, where, count)
        self.ctx.mappings.append(
            {
                "raw": text,
                "term_id": hit.term_id,
                "label": hit.label,
                "method": hit.method,
                "score": hit.score,
                "release": hit.release,
                "replaced_from": hit.replaced_from,
                "count": count,
                **where,
            }
        )
        return Coded(hit.term_id, hit.label)

    def _inexact(
        self, prefix: str, text: str, hit: Resolution, where: dict[str, Any], count: int
    ) -> None:
        """A name-list match short of an exact name: held for review, or a warning, as the
        term resolver does for HPO (:mod:`harmonize.mapping.resolver`)."""
        data = {"method": hit.method, "score": hit.score, "term_id": hit.term_id, "count": count}
        if hit.low_confidence and self.ctx.settings.low_confidence == "review":
            self.ctx.findings.add(
                "error",
                "needs-review",
                f"{text!r} matched {hit.term_id} {hit.label!r} only by {hit.method} "
                f"(score {hit.score:.2f}); a curator must confirm it",
                VALIDATOR,
                hint="write the code, or map this text in the column's 'values' "
                "(or accept low-confidence matches with --low-confidence accept)",
                data=data,
                **where,
            )
            return
        self.ctx.findings.add(
            "warning" if hit.score < 0.95 else "info",
            "inexact-term-match",
            f"{text!r} mapped to {hit.term_id} {hit.label!r} by {hit.method} "
            f"(score {hit.score:.2f}) in the {prefix} name list",
            VALIDATOR,
            hint="write the exact name or the code to silence this",
            data=data,
            **where,
        )


def _example(prefix: str | None) -> str:
    return {"ICD10": "E11 or ICD10:E11", "OMIM": "OMIM:154700", "ORPHA": "ORPHA:558"}.get(
        prefix or "", "OMIM:154700"
    )
