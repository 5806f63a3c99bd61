"""The mapping YAML of the ``redcap`` profile: which dictionary fields become what.

It is loaded like the ``tabular`` mapping (YAML 1.2 booleans, an unknown key is an error
naming the nearest valid one) and then checked against the data dictionary: every field
it names must be in the dictionary, with a type that fits, and every choice code it maps
must be one of the field's choices. See the README's "redcap profile" section.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator

from harmonize.errors import ConfigurationError
from harmonize.mapping.profiles.mapping_file import _Loader, _Strict, _text_keys
from harmonize.mapping.profiles.redcap_dictionary import Dictionary
from harmonize.strict import first_error

Sex = Literal["FEMALE", "MALE", "OTHER_SEX", "UNKNOWN_SEX"]


class SexField(_Strict):
    field: str
    values: dict[str, Sex] = Field(default_factory=dict)  # choice code -> sex; default: labels

    @field_validator("values", mode="before")
    @classmethod
    def _keys_as_text(cls, value: Any) -> Any:
        return _text_keys(value)


class TermField(_Strict):
    """One field's terms, in one of three ways.

    - ``term``: the field asks about one term (yesno, truefalse, radio, dropdown); choice
      codes in ``observed`` mean present, in ``excluded`` absent, others say nothing;
    - ``choices``: each choice code of a radio, dropdown or checkbox field is a term (a
      checked box or the chosen option is present; ``unchecked: excluded`` makes an
      unchecked box an excluded term);
    - neither: a text field holding CURIEs (``separator`` between several); its label from
      ``label_field`` (a text field of the same row) when there is one, else the code.
    """

    field: str
    term: str | None = None
    label: str | None = None  # the term's label; default the field's label
    observed: list[str] = Field(default_factory=lambda: ["1"])
    excluded: list[str] = Field(default_factory=lambda: ["0"])
    choices: dict[str, str] = Field(default_factory=dict)
    unchecked: Literal["ignore", "excluded"] = "ignore"
    separator: str | None = None
    label_field: str | None = None

    @field_validator("choices", mode="before")
    @classmethod
    def _keys_as_text(cls, value: Any) -> Any:
        return _text_keys(value)

    @field_validator("observed", "excluded", mode="before")
    @classmethod
    def _codes_as_text(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [str(v).lower() if isinstance(v, bool) else str(v) for v in value]
        return value

    def codes(self) -> list[str]:
        return [c for c in [self.term, *self.choices.values()] if c]


class MeasurementField(_Strict):
    field: str
    assay: str  # LOINC:718-7
    assay_label: str
    unit: str  # UCUM:g/dL
    unit_label: str


class ExposureField(_Strict):
    """A choice field recording an exposure, published as a measurement whose value is an
    ontology class (Phenopackets v2 has no exposure element): ``assay`` is what was asked
    (``LOINC:72166-2`` Tobacco smoking status), ``choices`` map choice codes to answers."""

    field: str
    assay: str
    assay_label: str
    choices: dict[str, str]

    @field_validator("choices", mode="before")
    @classmethod
    def _keys_as_text(cls, value: Any) -> Any:
        return _text_keys(value)


class REDCapMapping(_Strict):
    id_prefix: str | None = None
    sex: SexField | None = None
    phenotypes: list[TermField] = Field(default_factory=list)
    diseases: list[TermField] = Field(default_factory=list)
    measurements: list[MeasurementField] = Field(default_factory=list)
    exposures: list[ExposureField] = Field(default_factory=list)

    def fields(self) -> list[tuple[str, str]]:
        """(mapping key, field) for every field the mapping names."""
        out = [("sex.field", self.sex.field)] if self.sex else []
        for key in ("phenotypes", "diseases", "measurements", "exposures"):
            out += [(f"{key}[{i}].field", e.field) for i, e in enumerate(getattr(self, key))]
        for key in ("phenotypes", "diseases"):
            out += [
                (f"{key}[{i}].label_field", e.label_field)
                for i, e in enumerate(getattr(self, key))
                if e.label_field
            ]
        return out


def _fail(path: Path, where: str, message: str) -> ConfigurationError:
    return ConfigurationError(
        f"mapping field {where!r}: {message}",
        file=path.name,
        column=where,
        hint="fix the mapping YAML; see the README's redcap profile example",
    )


def load_redcap_mapping(path: Path) -> REDCapMapping:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # a SafeLoader
    except Exception as exc:  # OSError, bad UTF-8, whatever PyYAML raises on odd input
        raise ConfigurationError(
            f"cannot read mapping file: {exc}", file=path.name, hint="fix the mapping YAML"
        ) from exc
    try:
        return REDCapMapping.model_validate(data)
    except ValidationError as exc:
        where, message = first_error(exc, REDCapMapping)
        raise _fail(path, where, message) from exc


def check_against(mapping: REDCapMapping, dictionary: Dictionary, path: Path) -> None:
    """Every field the mapping names exists, fits its use, and maps only its own choices."""
    for where, name in mapping.fields():
        if name not in dictionary.fields:
            raise _fail(path, where, f"{name!r} is not a field of {dictionary.file}")
    fields = dictionary.fields
    if mapping.sex is not None:
        _choices(path, "sex.values", fields[mapping.sex.field], mapping.sex.values, need=False)
    for key in ("phenotypes", "diseases"):
        for i, entry in enumerate(getattr(mapping, key)):
            f, where = fields[entry.field], f"{key}[{i}]"
            if entry.term and entry.choices:
                raise _fail(path, where, "give 'term' or 'choices', not both")
            if entry.choices:
                _choices(path, f"{where}.choices", f, entry.choices, need=True)
            elif entry.term:
                if not f.choices:
                    raise _fail(
                        path, f"{where}.term", f"{f.name!r} is a {f.type} field, not a choice"
                    )
                _choices(
                    path, f"{where}.observed", f, dict.fromkeys(entry.observed, ""), need=False
                )
                _choices(
                    path, f"{where}.excluded", f, dict.fromkeys(entry.excluded, ""), need=False
                )
            elif f.type not in ("text", "notes"):
                raise _fail(
                    path, where, f"{f.name!r} is a {f.type} field: give 'term' or 'choices'"
                )
    for i, m in enumerate(mapping.measurements):
        f = fields[m.field]
        if f.type not in ("text", "calc", "slider") or f.validation not in (
            "",
            "number",
            "integer",
            "number_1dp",
            "number_2dp",
            "number_comma_decimal",
        ):
            raise _fail(path, f"measurements[{i}].field", f"{f.name!r} is not a number field")
    for i, e in enumerate(mapping.exposures):
        _choices(path, f"exposures[{i}].choices", fields[e.field], e.choices, need=True)


def _choices(path: Path, where: str, f: Any, codes: dict[str, Any], *, need: bool) -> None:
    if need and not f.choices:
        raise _fail(path, where, f"{f.name!r} is a {f.type} field, not a choice field")
    unknown = [c for c in codes if f.choices and c not in f.choices]
    if unknown:
        raise _fail(
            path,
            where,
            f"{unknown[0]!r} is not a choice of {f.name!r} "
            f"({', '.join(f'{c} {label}' for c, label in f.choices.items())})",
        )
