"""The Great Expectations the ``tabular`` profile builds from its mapping YAML.

Raw: each column the mapping reads exists; the id column is filled and unique.
Harmonized: each measurement's plausible range (``plausible: {min, max, level}``) as an
``expect_column_values_to_be_between`` on the measurements table, restricted by a row
condition to the rows that came from that measurement's column. A value out of range is
a finding at its row, naming the submitter's column; a warning unless the mapping says
``level: error``.
"""

from __future__ import annotations

import json
from typing import Any

from harmonize.mapping.profiles.mapping_file import MappingFile


def raw_expectations(m: MappingFile) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {
            "type": "expect_column_to_exist",
            "kwargs": {"column": c},
            "meta": {"category": "missing-column", "hint": "add the column or fix the mapping"},
        }
        for c in m.columns()
    ]
    out.append(
        {
            "type": "expect_column_values_to_not_be_null",
            "kwargs": {"column": m.id_column},
            "meta": {
                "category": "missing-required-field",
                "hint": "every row needs its individual's id",
            },
        }
    )
    if m.layout == "wide":
        out.append(_unique_id(m))
    return out


def _unique_id(m: MappingFile) -> dict[str, Any]:
    return {
        "type": "expect_column_values_to_be_unique",
        "kwargs": {"column": m.id_column},
        "meta": {
            "category": "duplicate-id",
            "hint": "one row per individual: merge the duplicated rows, or declare "
            "'layout: long' in the mapping",
        },
    }


def _bounds(low: float | None, high: float | None, unit: str) -> str:
    if low is not None and high is not None:
        return f"between {low:g} and {high:g} {unit}"
    if low is not None:
        return f"at least {low:g} {unit}"
    return f"at most {high:g} {unit}"


def harmonized_expectations(m: MappingFile, table: str) -> list[dict[str, Any]]:
    if table != "measurements":
        return []
    out: list[dict[str, Any]] = []
    for c in m.measurements:
        if c.plausible is None:
            continue
        p = c.plausible
        kwargs: dict[str, Any] = {
            "column": "value",
            # pandas' query syntax; json.dumps quotes and escapes the column name
            "row_condition": f"source_column == {json.dumps(c.column)}",
            "condition_parser": "pandas",
        }
        if p.min is not None:
            kwargs["min_value"] = p.min
        if p.max is not None:
            kwargs["max_value"] = p.max
        expected = _bounds(p.min, p.max, c.unit_label)
        out.append(
            {
                "type": "expect_column_values_to_be_between",
                "kwargs": kwargs,
                "meta": {
                    "category": "implausible-value",
                    "level": p.level,
                    "expected": f"a plausible {c.assay_label}: {expected}",
                    "hint": f"check the value and its unit ({c.unit_label}); the mapping's "
                    f"plausible range for column {c.column!r} is {expected}",
                },
            }
        )
    return out


def source_columns(m: MappingFile, table: str) -> dict[str, str]:
    """The mapping's column behind each column of a harmonized table it fills whole."""
    named = {"phenopacket_id": m.id_column, "subject_id": m.id_column}
    if table == "individuals":
        for column, source in (
            ("sex", m.sex),
            ("vital_status", m.vital_status),
            ("age_at_last_encounter", m.age_at_last_encounter),
            ("consent", m.consent),
        ):
            if source is not None and source.column is not None:
                named[column] = source.column
        vs = m.vital_status
        if vs is not None and vs.cause_of_death is not None:
            named["cause_of_death_id"] = vs.cause_of_death.column
        if vs is not None and vs.time_of_death is not None:
            named["time_of_death_age"] = vs.time_of_death.column
        if m.alternate_ids:
            named["alternate_ids"] = m.alternate_ids[0].column
    return named
