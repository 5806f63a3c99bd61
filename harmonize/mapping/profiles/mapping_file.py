"""The mapping YAML of the ``tabular`` profile, as pydantic models.

See the README's "tabular profile" section for a worked example.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from harmonize.errors import ConfigurationError

AgeFormat = Literal["iso8601", "years", "months", "weeks", "days"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ValueMap(_Strict):
    column: str
    values: dict[str, str] = Field(default_factory=dict)  # raw (case-insensitive) -> code


class AgeColumn(_Strict):
    column: str
    format: AgeFormat = "iso8601"


class DiseaseColumn(_Strict):
    column: str  # CURIE such as OMIM:240300 or MONDO:0007915
    label_column: str | None = None
    onset: AgeColumn | None = None


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

    @model_validator(mode="after")
    def _one_kind(self) -> PhenotypeColumn:
        if (self.term is None) == (self.separator is None):
            raise ValueError(f"column {self.column!r}: give either 'term' or 'separator'")
        return self


class MeasurementColumn(_Strict):
    column: str
    assay: str  # LOINC:718-7
    assay_label: str
    unit: str  # UCUM:g/dL
    unit_label: str


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


class MappingFile(_Strict):
    id_column: str
    id_prefix: str | None = None
    sex: ValueMap | None = None
    age_at_last_encounter: AgeColumn | None = None
    vital_status: ValueMap | None = None
    diseases: list[DiseaseColumn] = Field(default_factory=list)
    phenotypes: list[PhenotypeColumn] = Field(default_factory=list)
    measurements: list[MeasurementColumn] = Field(default_factory=list)
    variants: VariantColumns | None = None

    def columns(self) -> list[str]:
        """Every input column the mapping reads."""
        cols = [self.id_column]
        for vm in (self.sex, self.vital_status, self.age_at_last_encounter):
            if vm is not None:
                cols.append(vm.column)
        for d in self.diseases:
            cols += [d.column, *([d.label_column] if d.label_column else [])]
            if d.onset:
                cols.append(d.onset.column)
        for p in self.phenotypes:
            cols.append(p.column)
            if p.onset:
                cols.append(p.onset.column)
        cols += [m.column for m in self.measurements]
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
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(
            f"cannot read mapping file: {exc}", file=path.name, hint="fix the mapping YAML"
        ) from exc
    try:
        return MappingFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigurationError(
            f"mapping field {where!r}: {first['msg']}",
            file=path.name,
            column=where,
            hint="see the README's tabular profile example",
        ) from exc
