"""A REDCap data dictionary: its fields, their types, choices and branching logic.

The dictionary is REDCap's "Data Dictionary" CSV download (Project Setup -> Data
Dictionary), one row per field, with the documented header::

    "Variable / Field Name","Form Name","Section Header","Field Type","Field Label",
    "Choices, Calculations, OR Slider Labels","Field Note",
    "Text Validation Type OR Show Slider Number","Text Validation Min","Text Validation Max",
    Identifier?,"Branching Logic (Show field only if...)","Required Field?",...

(the API's ``field_name``, ``form_name``, ``field_type``, ... names are read too). The
first field is the record id. Choices are written ``1, Yes | 0, No``; ``yesno`` and
``truefalse`` fields have their fixed choices; a checkbox field is exported as one column
per choice, ``field___code``.

>>> choices("1, Seizures | 2, Global developmental delay|3,Hypotonia")
{'1': 'Seizures', '2': 'Global developmental delay', '3': 'Hypotonia'}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harmonize.errors import MappingError
from harmonize.mapping.profiles import redcap_logic as logic
from harmonize.readers.base import ReadOptions
from harmonize.readers.formats.csv import CSVReader

# documented header -> API name
HEADERS = {
    "variable / field name": "field_name",
    "form name": "form_name",
    "field type": "field_type",
    "field label": "field_label",
    "choices, calculations, or slider labels": "select_choices_or_calculations",
    "text validation type or show slider number": "text_validation_type_or_show_slider_number",
    "branching logic (show field only if...)": "branching_logic",
}
REQUIRED = ("field_name", "form_name", "field_type")
CHOICE_TYPES = frozenset({"radio", "dropdown", "checkbox", "yesno", "truefalse"})
NOT_EXPORTED = frozenset({"descriptive"})
FIXED = {"yesno": {"1": "Yes", "0": "No"}, "truefalse": {"1": "True", "0": "False"}}
SYSTEM_COLUMNS = frozenset(
    {
        "redcap_event_name",
        "redcap_repeat_instrument",
        "redcap_repeat_instance",
        "redcap_data_access_group",
        "redcap_survey_identifier",
    }
)


def choices(text: str) -> dict[str, str]:
    """``1, Yes | 0, No`` as ``{code: label}``."""
    out: dict[str, str] = {}
    for part in text.split("|"):
        code, sep, label = part.partition(",")
        if code.strip():
            out[code.strip()] = label.strip() if sep else code.strip()
    return out


def looks_like_dictionary(header: list[str]) -> bool:
    names = {HEADERS.get(h.strip().lower(), h.strip().lower()) for h in header}
    return all(r in names for r in REQUIRED)


@dataclass
class Field:
    name: str
    form: str
    type: str
    label: str
    row: int  # its row in the dictionary file
    choices: dict[str, str] = field(default_factory=dict)
    validation: str = ""
    branching: str = ""

    def columns(self) -> list[str]:
        """The export columns this field becomes."""
        if self.type in NOT_EXPORTED:
            return []
        if self.type == "checkbox":
            return [logic.checkbox_column(self.name, code) for code in self.choices]
        return [self.name]

    def code_of(self, value: str) -> str | None:
        """A raw or label export's value as its choice code (None if not a choice)."""
        if value in self.choices:
            return value
        folded = value.strip().casefold()
        return next((c for c, label in self.choices.items() if label.casefold() == folded), None)


@dataclass
class Dictionary:
    file: str
    fields: dict[str, Field]

    @property
    def record_id(self) -> str:
        return next(iter(self.fields))

    def by_column(self) -> dict[str, tuple[Field, str | None]]:
        """Export column -> (its field, the checkbox choice code or None)."""
        out: dict[str, tuple[Field, str | None]] = {}
        for f in self.fields.values():
            if f.type == "checkbox":
                for code in f.choices:
                    out[logic.checkbox_column(f.name, code)] = (f, code)
            elif f.type not in NOT_EXPORTED:
                out[f.name] = (f, None)
        return out

    def forms(self) -> set[str]:
        return {f.form for f in self.fields.values()}


def load_dictionary(name: str, path: Path, options: ReadOptions) -> Dictionary:
    """Read a data dictionary CSV (bounded like any CSV); :class:`MappingError` if it is not one."""
    fields: dict[str, Field] = {}
    for batch in CSVReader().read(path, options):
        header = [str(h) for h in batch.table.column_names]
        if not looks_like_dictionary(header):
            raise MappingError(
                "this is not a REDCap data dictionary: it lacks " + ", ".join(REQUIRED),
                file=name,
                hint="submit REDCap's Data Dictionary CSV download unchanged",
            )
        names = [HEADERS.get(h.strip().lower(), h.strip().lower()) for h in header]
        for i, values in enumerate(zip(*(c.to_pylist() for c in batch.table.columns), strict=True)):
            rec = {k: (v or "").strip() for k, v in zip(names, values, strict=True)}
            row = int(batch.rows[i].as_py())
            if not rec["field_name"]:
                raise MappingError(
                    "a dictionary row without a field name",
                    file=name,
                    row=row,
                    column="Variable / Field Name",
                    hint="every row of the data dictionary names its field",
                )
            kind = rec["field_type"].lower()
            text = rec.get("select_choices_or_calculations", "")
            fields[rec["field_name"]] = Field(
                name=rec["field_name"],
                form=rec["form_name"],
                type=kind,
                label=rec.get("field_label", ""),
                row=row,
                choices=FIXED.get(kind) or (choices(text) if kind in CHOICE_TYPES else {}),
                validation=rec.get("text_validation_type_or_show_slider_number", ""),
                branching=rec.get("branching_logic", ""),
            )
    if not fields:
        raise MappingError(
            "the data dictionary lists no fields", file=name, hint="submit the full dictionary"
        )
    return Dictionary(name, fields)
