"""Great Expectations validation results translated into findings.

:func:`findings_from_result` turns one expectation's result into findings: one per
unexpected row (up to a limit, then one more saying how many were left out), or one for
an aggregate expectation (a whole column or the table), each with a message in the
submitter's words and a hint. An expectation's ``meta`` may set the ``level``,
``category``, ``hint`` and ``expected`` wording; an expectation that passes only thanks
to ``mostly`` still reports its unexpected rows, at warning level. An expectation that
could not run is a broken suite: :class:`~harmonize.errors.ConfigurationError`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import pyarrow as pa

from harmonize.errors import ConfigurationError
from harmonize.quality.findings import Finding, Level, Location
from harmonize.quality.suites import expectation_columns

__all__ = ["findings_from_result"]

_VALUE_CHARS = 500  # longest value kept in a Location
_MESSAGE_VALUE_CHARS = 80  # longest value quoted in a message
_SET_NAMED = 20  # how many members of a value set a message names


def _raise_if_broken(res: Mapping[str, Any], validator: str) -> None:
    """An expectation that could not run is a broken suite, not bad data."""
    info = res.get("exception_info") or {}
    infos = [info] if "raised_exception" in info else list(info.values())
    for item in infos:
        if isinstance(item, Mapping) and item.get("raised_exception"):
            cfg = res["expectation_config"]
            raise ConfigurationError(
                f"{validator}: {cfg['type']} could not run: {item.get('exception_message')}",
                column=cfg["kwargs"].get("column"),
                hint="fix the expectation in the suite (or the extra expectations passed in)",
            )


def findings_from_result(
    res: Mapping[str, Any],
    validator: str,
    table: pa.Table,
    locate: Callable[[int], Location],
    origin: Location,
    *,
    max_examples: int,
    source_columns: Mapping[str, str] | None = None,
) -> Iterable[Finding]:
    """One finding per unexpected row (up to ``max_examples``), plus one for the rest.

    Messages, hints and locations name the submitter's columns, never the table's own:
    a row's column is ``locate``'s when it gives one (the column the row came from), else
    ``source_columns``' name for the table column, else the table column itself.
    """
    _raise_if_broken(res, validator)
    cfg = res["expectation_config"]
    kind: str = cfg["type"]
    kwargs: Mapping[str, Any] = cfg["kwargs"]
    meta: Mapping[str, Any] = cfg.get("meta") or {}
    detail: Mapping[str, Any] = res.get("result") or {}
    count = int(detail.get("unexpected_count") or 0)
    if res["success"] and not count:
        return
    level: Level = meta.get("level", "error")
    if res["success"] and level == "error":
        level = "warning"  # tolerated by `mostly`, but never silent
    category = str(meta.get("category") or kind)
    columns = expectation_columns(cfg)
    names = [(source_columns or {}).get(c, c) for c in columns]  # as the submitter calls them
    label = ", ".join(names) or None  # what a Location's column says
    expected = _expected(kind, kwargs, meta)
    hint = meta.get("hint") or _default_hint(kind, names, expected)
    data: dict[str, Any] = {"expectation": kind}
    if columns:
        data["table_column"] = ", ".join(columns)

    def finding(message: str, location: Location, **more: Any) -> Finding:
        return Finding(
            level=level,
            category=category,
            message=message,
            validator=validator,
            location=location,
            hint=hint,
            data={**data, **more},
        )

    at_origin = origin.model_copy(update={"column": label}) if label else origin
    if not count:  # an aggregate expectation: the table or a whole column
        observed = detail.get("observed_value")
        yield finding(_aggregate_message(kind, names, observed, expected), at_origin)
        return

    percent = detail.get("unexpected_percent")
    data["unexpected_count"] = count
    if isinstance(percent, int | float) and math.isfinite(percent):
        data["unexpected_percent"] = round(float(percent), 3)
    indices = [int(i) for i in detail.get("partial_unexpected_index_list") or []]
    shown = indices[: max(max_examples, 0)]
    present = [c for c in columns if c in table.column_names]
    seen: list[str] = []  # the submitter's columns of the rows shown
    for i in shown:
        cells = [table.column(c)[i].as_py() for c in present]
        if len(cells) == 1:
            value = None if cells[0] is None else str(cells[0])
        else:
            value = " | ".join("" if v is None else str(v) for v in cells) or None
        located = locate(i)
        update: dict[str, Any] = {}
        row_names = names
        if located.column is None or not _from_row(columns, source_columns):
            update["column"] = label
        else:  # the value came from the row's own column (the source column of a term)
            row_names = [located.column]
        if located.value is None and value is not None:
            update["value"] = value[:_VALUE_CHARS]
        seen.extend(c for c in row_names if c not in seen)
        yield finding(
            _row_message(kind, row_names, value, expected),
            located.model_copy(update=update) if update else located,
        )
    if count > len(shown):
        omitted = count - len(shown)
        top = detail.get("partial_unexpected_counts") or []
        if len(seen) == 1:
            at_origin = origin.model_copy(update={"column": seen[0]})
        yield finding(
            f"{omitted} more row{'s' if omitted != 1 else ''} "
            f"{_subject(seen if len(seen) == 1 else names)} fail{'s' if omitted == 1 else ''} "
            "the same check "
            f"({count} in all); "
            f"only the first {len(shown)} are listed",
            at_origin,
            omitted=omitted,
            summary=True,
            top_values=[
                {"value": _short(t.get("value")), "count": t.get("count")} for t in top[:10]
            ],
        )


def _from_row(columns: Sequence[str], source_columns: Mapping[str, str] | None) -> bool:
    """Whether a row's own column (its ``source_column``) is where this column's value came
    from: a single value column, not an id the profile names (or ``phenopacket_id``)."""
    return (
        len(columns) == 1
        and columns[0] not in _ID_COLUMNS
        and columns[0] not in (source_columns or {})
    )


_ID_COLUMNS = frozenset({"phenopacket_id", "subject_id"})


# --------------------------------------------------------------------------- messages


def _short(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value)
    return text if len(text) <= _MESSAGE_VALUE_CHARS else text[: _MESSAGE_VALUE_CHARS - 1] + "…"


def _names(columns: Sequence[str]) -> str:
    """``column 'a'`` or ``columns 'a' and 'b'``."""
    quoted = [repr(c) for c in columns]
    if len(quoted) == 1:
        return f"column {quoted[0]}"
    return "columns " + ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _subject(columns: Sequence[str]) -> str:
    return f"in {_names(columns)}" if columns else "in the table"


def _expected(kind: str, kwargs: Mapping[str, Any], meta: Mapping[str, Any]) -> str:
    """What the expectation wants, in words."""
    if meta.get("expected"):
        return str(meta["expected"])
    if "value_set" in kwargs:
        values = [str(v) for v in kwargs["value_set"] or []]
        named = ", ".join(values[:_SET_NAMED]) + (", …" if len(values) > _SET_NAMED else "")
        return f"{'none' if '_not_' in kind else 'one'} of {named}"
    if "regex" in kwargs:
        return f"text {'not ' if '_not_' in kind else ''}matching {kwargs['regex']}"
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    if low is not None and high is not None:
        return f"between {low} and {high}"
    if low is not None:
        return f"at least {low}"
    if high is not None:
        return f"at most {high}"
    return {
        "expect_column_values_to_not_be_null": "a value",
        "expect_column_values_to_be_unique": "a different value on every row",
        "expect_compound_columns_to_be_unique": "a different combination on every row",
        "expect_select_column_values_to_be_unique_within_record": "different values on each row",
        "expect_column_to_exist": "the column to be present",
    }.get(kind, kind.removeprefix("expect_").replace("_", " "))


def _row_message(kind: str, columns: Sequence[str], value: str | None, expected: str) -> str:
    names = _names(columns) if columns else "the row"
    if kind == "expect_column_values_to_not_be_null":
        return f"{names} is empty; expected {expected}"
    shown = "an empty cell" if value is None else repr(_short(value))
    verb = "has" if len(columns) <= 1 else "have"
    if kind in ("expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"):
        return f"{names} {verb} {shown}, which also appears on another row; expected {expected}"
    return f"{names} {verb} {shown}; expected {expected}"


def _aggregate_message(kind: str, columns: Sequence[str], observed: Any, expected: str) -> str:
    if kind == "expect_column_to_exist":
        return f"{_names(columns)} is missing"
    if kind == "expect_table_row_count_to_be_between":
        rows = f"{observed} data row{'s' if observed != 1 else ''}"
        return f"the table has {rows}; expected {expected}"
    subject = _names(columns) if columns else "the table"
    return f"{subject} fails {kind} (observed {_short(observed)!r}); expected {expected}"


def _default_hint(kind: str, columns: Sequence[str], expected: str) -> str:
    names = ", ".join(columns)
    if kind == "expect_column_to_exist":
        return f"add a column named {names!r} to the header row"
    if kind == "expect_column_values_to_not_be_null":
        return f"fill in column {names!r} on this row"
    if kind == "expect_column_values_to_be_unique":
        return f"give every row its own value in column {names!r}, or merge the duplicate rows"
    if kind == "expect_compound_columns_to_be_unique":
        return f"give every row its own combination of {names}, or merge the duplicate rows"
    return f"correct the value: expected {expected}"
