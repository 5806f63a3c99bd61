"""The table rows of one REDCap record: its individual, terms, measurements and exposures.

A record may hold several rows (events, repeating instances). A term is present when any
row says so and excluded only when a row excludes it and none observes it; each
measurement row is one measurement. Every table row keeps the export's file, row and
column it came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from harmonize.mapping.profiles import fhir_codes
from harmonize.mapping.profiles.base import MappingContext
from harmonize.mapping.profiles.redcap_dictionary import Dictionary
from harmonize.mapping.profiles.redcap_logic import checkbox_column
from harmonize.mapping.profiles.redcap_mapping import (
    ExposureField,
    MeasurementField,
    SexField,
    TermField,
)
from harmonize.readers.base import SourceBatch

SEX_LABELS = {
    "female": "FEMALE",
    "f": "FEMALE",
    "male": "MALE",
    "m": "MALE",
    "other": "OTHER_SEX",
    "unknown": "UNKNOWN_SEX",
}
KINDS = {"phenotypic_features": fhir_codes.PHENOTYPES, "diseases": fhir_codes.DISEASES}


def sanitize(text: str) -> str:
    """A record id as a Phenopacket id (letters, digits, ``.``, ``_``, ``-``)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", text)


@dataclass
class Cell:
    term: str
    label: str
    excluded: bool
    row: int
    column: str


@dataclass
class Record:
    id: str
    row: int  # its first row
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)


class Terms:
    """Collects one batch's table rows."""

    def __init__(
        self, ctx: MappingContext, batch: SourceBatch, dictionary: Dictionary, validator: str
    ) -> None:
        self.ctx, self.batch, self.d, self.validator = ctx, batch, dictionary, validator
        self.rows: dict[str, list[dict[str, Any]]] = {}

    def _where(self, row: int, column: str) -> dict[str, Any]:
        return {
            "source_file": self.batch.file,
            "source_sheet": None,
            "source_row": row,
            "source_column": column,
        }

    def _error(
        self, category: str, row: int, column: str, value: str, message: str, hint: str
    ) -> None:
        self.ctx.findings.add(
            "error",
            category,
            message,
            self.validator,
            hint=hint,
            file=self.batch.file,
            row=row,
            column=column,
            value=value,
        )

    def individual(self, pid: str, rec: Record, sex: SexField | None) -> None:
        found: tuple[str, int] | None = None
        if sex is not None:
            f = self.d.fields[sex.field]
            for row, values in rec.rows:
                code = values.get(sex.field)
                if code is None:
                    continue
                label = f.choices.get(code, code)
                value = sex.values.get(code) or SEX_LABELS.get(label.strip().casefold())
                if value is None:
                    self._error(
                        "bad-value",
                        row,
                        sex.field,
                        code,
                        f"{sex.field} value {code!r} ({label}) is not mapped to a sex",
                        "map the choice in the mapping's sex.values (FEMALE, MALE, OTHER_SEX, "
                        "UNKNOWN_SEX)",
                    )
                elif found is not None and found[0] != value:
                    self._error(
                        "conflicting-values",
                        row,
                        sex.field,
                        code,
                        f"record {rec.id!r}: sex {value} here, {found[0]} at row {found[1]}",
                        "give the record one sex",
                    )
                else:
                    found = (value, row)
        self.rows.setdefault("individuals", []).append(
            {
                "phenopacket_id": pid,
                "subject_id": rec.id,
                "sex": found[0] if found else None,
                "profile": "redcap",
                **self._where(
                    found[1] if found else rec.row, sex.field if found and sex else self.d.record_id
                ),
            }
        )

    def terms(self, pid: str, rec: Record, entry: TermField, table: str) -> None:
        f = self.d.fields[entry.field]
        found: dict[str, Cell] = {}

        def put(cell: Cell) -> None:
            old = found.get(cell.term)
            if old is None or (old.excluded and not cell.excluded):
                found[cell.term] = cell

        for row, values in rec.rows:
            if entry.term:
                code = values.get(f.name)
                label = entry.label or f.label
                if code in entry.observed:
                    put(Cell(entry.term, label, False, row, f.name))
                elif code in entry.excluded:
                    put(Cell(entry.term, label, True, row, f.name))
            elif entry.choices and f.type == "checkbox":
                for code, term in entry.choices.items():
                    column = checkbox_column(f.name, code)
                    value = values.get(column)
                    if value == "1" or (value == "0" and entry.unchecked == "excluded"):
                        put(Cell(term, f.choices[code], value == "0", row, column))
            elif entry.choices:
                code = values.get(f.name)
                if code in entry.choices:
                    put(Cell(entry.choices[code], f.choices[code], False, row, f.name))
            elif values.get(f.name):
                text = values[f.name]
                parts = text.split(entry.separator) if entry.separator else [text]
                named = values.get(entry.label_field) if entry.label_field else None
                for part in (p.strip() for p in parts if p.strip()):
                    if self._code_ok(part, table, row, f.name):
                        label = named if named and len(parts) == 1 else part
                        put(Cell(part, label, False, row, f.name))
        for cell in found.values():
            out = {
                "phenopacket_id": pid,
                "term_id": cell.term,
                "term_label": cell.label,
                "excluded": cell.excluded,
                **self._where(cell.row, cell.column),
            }
            if table == "phenotypic_features":
                out.update(raw_value=cell.term, resolution_method="id")
            self.rows.setdefault(table, []).append(out)

    def _code_ok(self, code: str, table: str, row: int, column: str) -> bool:
        prefix = code.partition(":")[0]
        allowed = KINDS[table]
        if prefix not in allowed:
            self._error(
                "unknown-code-system",
                row,
                column,
                code,
                f"{column} value {code!r}: {prefix!r} is not a code system Harmonize maps to "
                + ("phenotypic features" if table == "phenotypic_features" else "diseases"),
                f"write a CURIE with one of the prefixes {', '.join(sorted(allowed))}",
            )
            return False
        if not self.ctx.ontologies.check_curie(code):
            self._error(
                "unknown-term",
                row,
                column,
                code,
                f"{column} value {code!r} is not a valid {prefix} id",
                f"fix the {prefix} id",
            )
            return False
        return True

    def measurement(self, pid: str, rec: Record, m: MeasurementField) -> None:
        for row, values in rec.rows:
            text = values.get(m.field)
            if text is None:
                continue
            try:
                number = float(text.replace(",", ".") if text.count(",") == 1 else text)
            except ValueError:
                number = float("nan")
            if number != number or number in (float("inf"), float("-inf")):
                self._error(
                    "bad-value",
                    row,
                    m.field,
                    text,
                    f"{m.field} value {text!r} is not a number",
                    f"write the {m.assay_label} as a number in {m.unit_label}",
                )
                continue
            self.rows.setdefault("measurements", []).append(
                {
                    "phenopacket_id": pid,
                    "assay_id": m.assay,
                    "assay_label": m.assay_label,
                    "value": number,
                    "unit_id": m.unit,
                    "unit_label": m.unit_label,
                    **self._where(row, m.field),
                }
            )

    def exposure(self, rec: Record, e: ExposureField) -> list[dict[str, Any]]:
        f = self.d.fields[e.field]
        out = []
        for _, values in rec.rows:
            code = values.get(e.field)
            if code in e.choices:
                out.append(
                    {
                        "assay": {"id": e.assay, "label": e.assay_label},
                        "value": {
                            "ontologyClass": {"id": e.choices[code], "label": f.choices[code]}
                        },
                    }
                )
        return out
