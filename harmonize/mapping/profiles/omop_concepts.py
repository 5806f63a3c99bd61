"""What the ``omop`` profile knows about OMOP concepts, vocabularies and dates.

A CDM record names its terms by ``concept_id``; the submission's CONCEPT table says what
each is: its ``vocabulary_id`` and ``concept_code``. Those become a CURIE when Harmonize
maps the vocabulary to a prefix of ``ontologies/manifest.yaml`` (:data:`VOCABULARIES`); a
concept id the CONCEPT table does not have is never guessed. The one exception is sex:
the OMOP CDM conventions fix the Gender concepts (8507 MALE, 8532 FEMALE, 8551 UNKNOWN,
8521 OTHER), so ``gender_concept_id`` is read without a CONCEPT row too.

>>> to_curie("SNOMED", "190905008"), to_curie("OrphaNet", "558"), to_curie("HPO", "HP:0001250")
('SNOMEDCT:190905008', 'ORPHA:558', 'HP:0001250')
>>> to_curie("ICD10CM", "E84.0") is None
True
>>> birth_date({"year_of_birth": "2005", "month_of_birth": "3", "day_of_birth": "14"})
datetime.date(2005, 3, 14)
>>> birth_date({"year_of_birth": "2019"}) is None
True
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from harmonize.errors import MappingError
from harmonize.readers.base import ReadOptions
from harmonize.readers.formats.csv import CSVReader

# OMOP vocabulary_id (as Athena spells it) -> CURIE prefix
VOCABULARIES = {
    "hpo": "HP",
    "omim": "OMIM",
    "orphanet": "ORPHA",
    "icd10": "ICD10",
    "snomed": "SNOMEDCT",
    "loinc": "LOINC",
    "ucum": "UCUM",
    "rxnorm": "RXNORM",
    "ncit": "NCIT",
    "mondo": "MONDO",
}
_ALIASES = {"HP": ("HP",), "ORPHA": ("ORPHA", "Orphanet", "ORDO"), "OMIM": ("OMIM", "MIM")}
GENDER = {"8507": "MALE", "8532": "FEMALE", "8551": "UNKNOWN_SEX", "8521": "OTHER_SEX"}
GENDER_CODES = {"M": "MALE", "F": "FEMALE", "U": "UNKNOWN_SEX", "O": "OTHER_SEX"}
COLUMNS = ("concept_id", "concept_name", "vocabulary_id", "concept_code")


@dataclass(frozen=True)
class Concept:
    id: str
    name: str
    vocabulary: str
    code: str
    row: int

    @property
    def curie(self) -> str | None:
        return to_curie(self.vocabulary, self.code)


def to_curie(vocabulary: str, code: str) -> str | None:
    """The CURIE of a concept code, or None when Harmonize does not map its vocabulary."""
    prefix = VOCABULARIES.get(vocabulary.strip().lower())
    if prefix is None or not code.strip():
        return None
    text = code.strip()
    for alias in _ALIASES.get(prefix, (prefix,)):
        if text[: len(alias) + 1].upper() in (f"{alias.upper()}:", f"{alias.upper()}_"):
            text = text[len(alias) + 1 :]
            break
    return f"{prefix}:{text}"


def known_vocabularies() -> str:
    return ", ".join(f"{v} ({p})" for v, p in VOCABULARIES.items())


def load_concepts(name: str, path: Path, options: ReadOptions) -> dict[str, Concept]:
    """The CONCEPT table, by concept_id (bounded by the reader limits)."""
    out: dict[str, Concept] = {}
    for batch in CSVReader().read(path, replace(options, label=name)):
        names = batch.table.column_names
        missing = [c for c in COLUMNS if c not in names]
        if missing:
            raise MappingError(
                f"the CONCEPT table has no {', '.join(missing)} column",
                file=name,
                row=1,
                column=missing[0],
                hint="export CONCEPT with the OMOP CDM v5.4 column names",
            )
        cols = {c: batch.table.column(c).to_pylist() for c in COLUMNS}
        for i in range(batch.num_rows):
            cid = (cols["concept_id"][i] or "").strip()
            if cid:
                out[cid] = Concept(
                    cid,
                    (cols["concept_name"][i] or "").strip(),
                    (cols["vocabulary_id"][i] or "").strip(),
                    (cols["concept_code"][i] or "").strip(),
                    int(batch.rows[i].as_py()),
                )
    return out


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None


def birth_date(person: dict[str, str]) -> date | None:
    """The birth date when PERSON gives it whole: ``birth_datetime``, or year, month and day."""
    stamp = person.get("birth_datetime", "")
    if len(stamp) >= 10:
        try:
            return date.fromisoformat(stamp[:10])
        except ValueError:
            pass
    y, m, d = (_int(person.get(k)) for k in ("year_of_birth", "month_of_birth", "day_of_birth"))
    if y is None or m is None or d is None:
        return None
    try:
        return date(y, m, d)
    except ValueError:
        return None
