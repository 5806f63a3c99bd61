"""The mapping YAML of the ``tabular`` profile, as pydantic models.

See the README's "tabular profile" section for a worked example.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from harmonize.errors import ConfigurationError
from harmonize.strict import first_error

AgeFormat = Literal["iso8601", "years", "months", "weeks", "days"]
_CURIE = re.compile(r"^[A-Za-z][A-Za-z0-9_.]*:[A-Za-z0-9_.\-]+$")


class _Loader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true/false. ``yes``, ``no``, ``on``, ``off`` stay strings.

    With PyYAML's YAML 1.1 default, ``values: {yes: observed, no: excluded}`` would have
    boolean keys, and a cell reading "yes" would never match.
    """


_BOOL = "tag:yaml.org,2002:bool"
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _BOOL]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _text_keys(value: Any) -> Any:
    """Keys of a value map as the text a cell would hold: ``true``, ``1``, ``0.5``."""
    if not isinstance(value, dict):
        return value
    return {(str(k).lower() if isinstance(k, bool) else str(k)): v for k, v in value.items()}


class _Strict(BaseModel):
    # a column named 2024 or a value map key 1 is text in the file, whatever YAML makes of it
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)


class ValueMap(_Strict):
    column: str
    values: dict[str, str] = Field(default_factory=dict)  # raw (case-insensitive) -> code

    @field_validator("values", mode="before")
    @classmethod
    def _keys_as_text(cls, value: Any) -> Any:
        return _text_keys(value)


class AgeColumn(_Strict):
    """A column of times. ``format`` is the unit of a bare number (``4.5`` years); every
    other ``TimeElement`` form is read whatever it says: ISO 8601 ages, HPO onset labels or
    ids, gestational ages (``G32w4d``), age ranges (``P1Y/P5Y``, or ``1-5`` in years) and
    dates (:mod:`harmonize.mapping.times`)."""

    column: str
    format: AgeFormat = "iso8601"


class CodedColumn(_Strict):
    """A column of codes: codes, labels, or both in one cell.

    A cell may hold a CURIE (``OMIM:240300``), a bare code of ``prefix`` (``E11`` with
    ``prefix: ICD10``), a code followed by its label (``E11 Type 2 diabetes mellitus``),
    or a label alone, resolved against ``prefix``'s name list
    (:mod:`harmonize.mapping.profiles.tabular_diseases`). ``values`` maps a cell's text
    (case-insensitive) to a CURIE first, as a phenotype column's ``values`` do; with a
    ``separator`` each item of a cell is one code.
    """

    column: str
    label_column: str | None = None
    prefix: str | None = None  # the code system of bare codes and labels: ICD10, OMIM, ...
    values: dict[str, str] = Field(default_factory=dict)  # cell text -> CURIE
    separator: str | None = Field(default=None, min_length=1)

    @field_validator("values", mode="before")
    @classmethod
    def _keys_as_text(cls, value: Any) -> Any:
        return _text_keys(value)

    @field_validator("values")
    @classmethod
    def _curies(cls, value: dict[str, str]) -> dict[str, str]:
        for key, curie in value.items():
            if not _CURIE.match(curie):
                raise ValueError(f"{key!r} maps to {curie!r}, which is not a CURIE like ICD10:E11")
        return value


class DiseaseColumn(CodedColumn):
    """A column of diseases (see :class:`CodedColumn`), with their onset and resolution."""

    onset: AgeColumn | None = None
    resolution: AgeColumn | None = None


class ProcedureColumn(CodedColumn):
    """A column of procedures (SNOMEDCT, NCIT, MAXO, ...), published as ``medicalActions``."""

    performed: AgeColumn | None = None


Presence = Literal["observed", "excluded", "na"]


def _default_presence() -> dict[str, Presence]:
    yes: list[str] = ["yes", "y", "1", "true", "observed"]
    no: list[str] = ["no", "n", "0", "false", "excluded"]
    out: dict[str, Presence] = dict.fromkeys(yes, "observed")
    out.update(dict.fromkeys(no, "excluded"))
    return out


class PhenotypeColumn(_Strict):
    """Either one column per term (``term`` + ``values``) or a list of terms (``separator``)."""

    column: str
    term: str | None = None  # one-term column: the HPO id it asks about
    values: dict[str, Presence] = Field(default_factory=_default_presence)
    ontology: str = "HP"
    separator: str | None = None  # list column: e.g. ";"
    excluded_prefix: str | None = None  # list column: "NOT " marks an excluded term
    onset: AgeColumn | None = None
    resolution: AgeColumn | None = None

    @field_validator("values", mode="before")
    @classmethod
    def _keys_as_text(cls, value: Any) -> Any:
        return _text_keys(value)

    @model_validator(mode="after")
    def _one_kind(self) -> PhenotypeColumn:
        if (self.term is None) == (self.separator is None):
            raise ValueError(f"column {self.column!r}: give either 'term' or 'separator'")
        return self


class PlausibleRange(_Strict):
    """The values a measurement can plausibly take; others are findings at their row.

    Checked as a Great Expectations expectation on the harmonized measurements;
    ``level`` is what an out-of-range value is (a warning unless the mapping says error).
    """

    min: float | None = None
    max: float | None = None
    level: Literal["warning", "error"] = "warning"

    @model_validator(mode="after")
    def _bounds(self) -> PlausibleRange:
        if self.min is None and self.max is None:
            raise ValueError("give 'min', 'max' or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"'min' ({self.min}) is above 'max' ({self.max})")
        return self


class MeasurementColumn(_Strict):
    column: str
    assay: str  # LOINC:718-7
    assay_label: str
    unit: str  # UCUM:g/dL
    unit_label: str
    time_observed: AgeColumn | None = None
    plausible: PlausibleRange | None = None


class VariantColumns(_Strict):
    hgvs_column: str
    gene_column: str | None = None
    gene_symbol_column: str | None = None
    zygosity_column: str | None = None
    zygosity_values: dict[str, str] = Field(
        default_factory=lambda: {
            "het": "heterozygous",
            "heterozygous": "heterozygous",
            "hom": "homozygous",
            "homozygous": "homozygous",
            "hemi": "hemizygous",
            "hemizygous": "hemizygous",
        }
    )

    @field_validator("zygosity_values", mode="before")
    @classmethod
    def _keys_as_text(cls, value: Any) -> Any:
        return _text_keys(value)


class ConsentColumn(_Strict):
    """A column of DUO codes (``DUO:0000006;DUO:0000021``): the row's own consent.

    A row's codes replace the manifest's for that individual; an empty cell leaves the
    manifest's codes in force.
    """

    column: str
    separator: str = Field(default=";", min_length=1)


class DateColumn(_Strict):
    """A column of dates (``YYYY-MM-DD``)."""

    column: str


class AlternateIdColumn(_Strict):
    """A column of the individual's other identifiers, published as ``subject.alternateIds``.

    Each cell (each item, with a ``separator``) must be a CURIE (``UKB:1000011``); with a
    ``prefix``, a bare value becomes one (``1000011`` -> ``UKB:1000011``).
    """

    column: str
    prefix: str | None = Field(default=None, pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$")
    separator: str | None = Field(default=None, min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"column": value} if isinstance(value, str | int) else value


class CauseOfDeath(CodedColumn):
    """The cause of death: one code or label per cell, read like a disease cell."""

    @model_validator(mode="after")
    def _one(self) -> CauseOfDeath:
        if self.separator is not None:
            raise ValueError("a cause of death is one code per cell: remove 'separator'")
        return self


class VitalStatusMap(_Strict):
    """``status`` column (value map to ALIVE / DECEASED / UNKNOWN_STATUS), cause and time of
    death. Without a ``column``, a row with a cause or a time of death is DECEASED."""

    column: str | None = None
    values: dict[str, str] = Field(default_factory=dict)
    cause_of_death: CauseOfDeath | None = None
    time_of_death: AgeColumn | None = None

    @field_validator("values", mode="before")
    @classmethod
    def _keys_as_text(cls, value: Any) -> Any:
        return _text_keys(value)

    @model_validator(mode="after")
    def _something(self) -> VitalStatusMap:
        if self.column is None and self.cause_of_death is None and self.time_of_death is None:
            raise ValueError("give 'column', 'cause_of_death' or 'time_of_death'")
        return self

    def columns(self) -> list[str]:
        cod = self.cause_of_death
        return [
            *([self.column] if self.column else []),
            *([cod.column] if cod else []),
            *([cod.label_column] if cod and cod.label_column else []),
            *([self.time_of_death.column] if self.time_of_death else []),
        ]


class MappingFile(_Strict):
    # wide: one row per individual; long: one row per observation, merged per individual
    layout: Literal["wide", "long"] = "wide"
    id_column: str
    id_prefix: str | None = None
    sex: ValueMap | None = None
    # with a date of birth, every date in a time column becomes an age on that date
    date_of_birth: DateColumn | None = None
    age_at_last_encounter: AgeColumn | None = None
    vital_status: VitalStatusMap | None = None
    alternate_ids: list[AlternateIdColumn] = Field(default_factory=list)
    diseases: list[DiseaseColumn] = Field(default_factory=list)
    procedures: list[ProcedureColumn] = Field(default_factory=list)
    phenotypes: list[PhenotypeColumn] = Field(default_factory=list)
    measurements: list[MeasurementColumn] = Field(default_factory=list)
    variants: VariantColumns | None = None
    consent: ConsentColumn | None = None

    def columns(self) -> list[str]:
        """Every input column the mapping reads."""
        cols = [self.id_column]
        for vm in (
            self.sex,
            self.date_of_birth,
            self.age_at_last_encounter,
            self.consent,
        ):
            if vm is not None:
                cols.append(vm.column)
        cols += self.vital_status.columns() if self.vital_status else []
        cols += [a.column for a in self.alternate_ids]
        for d in self.diseases:
            cols += [d.column, *([d.label_column] if d.label_column else [])]
            cols += [t.column for t in (d.onset, d.resolution) if t]
        for a in self.procedures:
            cols += [a.column, *([a.label_column] if a.label_column else [])]
            cols += [a.performed.column] if a.performed else []
        for p in self.phenotypes:
            cols.append(p.column)
            cols += [t.column for t in (p.onset, p.resolution) if t]
        for m in self.measurements:
            cols += [m.column, *([m.time_observed.column] if m.time_observed else [])]
        if self.variants:
            v = self.variants
            cols += [
                c
                for c in (v.hgvs_column, v.gene_column, v.gene_symbol_column, v.zygosity_column)
                if c
            ]
        return list(dict.fromkeys(cols))


def load_mapping(path: Path) -> MappingFile:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # a SafeLoader
    except Exception as exc:  # OSError, bad UTF-8, and whatever PyYAML raises on odd input
        raise ConfigurationError(
            f"cannot read mapping file: {exc}", file=path.name, hint="fix the mapping YAML"
        ) from exc
    try:
        return MappingFile.model_validate(data)
    except ValidationError as exc:
        where, message = first_error(exc, MappingFile)
        raise ConfigurationError(
            f"mapping field {where!r}: {message}" if where else f"mapping: {message}",
            file=path.name,
            column=where or None,
            hint="see the README's tabular profile example",
        ) from exc
