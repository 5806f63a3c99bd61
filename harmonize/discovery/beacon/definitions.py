"""Which Beacon filters Harmonize answers, and on which table columns: data, not code.

Adding a filterable field means adding an entry here. An ontology prefix maps to the
table and column its terms are matched in; ``closure`` names the pinned release whose
full ancestor closure expands a term to its descendants: HPO's ``hp.obo``, or the ICD-10
code list's nesting (chapter > block > category > subcategory). A prefix without one
matches the exact term: OMIM, whose entries have no hierarchy (the exact term is its own
closure), and, only when asked with ``includeDescendantTerms: false``, ORPHA and MONDO,
which do have hierarchies that no pinned release gives (``unpinned``): asking them for
descendants is refused, never answered with the exact term alone. ``values`` maps filter terms to
the column's own codes (sex). An alphanumeric filter id maps to a column compared as a
``duration`` (ISO 8601) or a ``number``; any other CURIE with an operator is a measurement
of that assay (``measurements.assay_id``, compared on ``measurements.value``).

Two fields read what each snapshot precomputes once (:mod:`.catalog`) instead of the
published columns: ``index`` names a table of (``hz_id``, ``term_id``) pairs, one per
matching (observed, not excluded) row, so a term filter is a semi-join on integers; a
duration's ``days_column`` holds the column already converted to days.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class OntologyField:
    """Terms of one prefix: a column of a table linked to individuals by phenopacket id."""

    table: str
    column: str
    label_column: str | None = None
    excluded: str | None = None  # a boolean column: excluded observations never match
    closure: str | None = None  # the prefix whose pinned release expands descendants
    values: dict[str, str] = field(default_factory=dict)  # filter term -> column value
    labels: dict[str, str] = field(default_factory=dict)  # filter term -> label
    scopes: tuple[str, ...] = ("individual",)
    index: str | None = None  # a per-snapshot (hz_id, term_id) table of the matching rows
    unpinned: bool = False  # a hierarchy exists upstream, but no pinned release gives it


@dataclass(frozen=True)
class ValueField:
    """An alphanumeric filter: a column compared with ``= < > ! >= <=``."""

    table: str
    column: str
    kind: Literal["duration", "number"]
    label: str
    scopes: tuple[str, ...] = ("individual",)
    also: tuple[str, ...] = ()  # more tables with the same column, ORed (any of them matches)
    days_column: str | None = None  # a duration already in days, precomputed per snapshot


_SEX = {
    "NCIT:C16576": "FEMALE",
    "NCIT:C20197": "MALE",
    "NCIT:C17998": "UNKNOWN_SEX",
    "NCIT:C17649": "OTHER_SEX",
}
_SEX_LABELS = {
    "NCIT:C16576": "female",
    "NCIT:C20197": "male",
    "NCIT:C17998": "unknown",
    "NCIT:C17649": "other",
}


def _disease(closure: str | None = None, *, unpinned: bool = False) -> OntologyField:
    return OntologyField(
        "diseases",
        "term_id",
        "term_label",
        excluded="excluded",
        closure=closure,
        index="hz_disease_terms",
        unpinned=unpinned,
    )


ONTOLOGY: dict[str, OntologyField] = {
    "HP": OntologyField(
        "phenotypic_features",
        "term_id",
        "term_label",
        excluded="excluded",
        closure="HP",
        index="hz_features",
    ),
    "OMIM": _disease(),
    "ORPHA": _disease(unpinned=True),
    "MONDO": _disease(unpinned=True),
    "ICD10": _disease("ICD10"),
    "NCIT": OntologyField("individuals", "sex", values=_SEX, labels=_SEX_LABELS),
    "HGNC": OntologyField(
        "variants", "gene_id", "gene_symbol", scopes=("individual", "genomicVariation")
    ),
}

ALPHANUMERIC: dict[str, ValueField] = {
    # age at the last encounter; PATO:0000011 is "age"
    "age": ValueField(
        "individuals",
        "age_at_last_encounter",
        "duration",
        "age at last encounter",
        days_column="hz_age_days",
    ),
    "PATO:0000011": ValueField(
        "individuals",
        "age_at_last_encounter",
        "duration",
        "age at last encounter",
        days_column="hz_age_days",
    ),
    # age at onset of a phenotypic feature or a disease (EFO:0004847 "age at onset")
    "EFO:0004847": ValueField(
        "phenotypic_features", "onset_age", "duration", "age at onset", also=("diseases",)
    ),
}

# measurements: an assay CURIE with an operator compares measurements.value
MEASUREMENT = ValueField("measurements", "value", "number", "measurement value")
MEASUREMENT_PREFIXES = ("LOINC", "NCIT", "SNOMEDCT", "HP")

OPERATORS = ("=", "<", ">", "!", ">=", "<=")
