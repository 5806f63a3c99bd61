"""Great Expectations suites on raw and harmonized tables, translated into findings.

Suites are GX 1.x ``ExpectationSuite`` JSON files kept in ``expectations/``:
``raw/<profile>.json`` for the tables a reader produced, ``harmonized/<table>.json`` for
the tables a profile mapped into. Each expectation may carry, in its ``meta``:

``level``
    ``error`` (default), ``warning`` or ``info``: the level of the findings it yields.
``category``
    the finding category (default: the expectation type).
``hint``
    what the submitter should do about it.
``expected``
    how to say what was expected, in the submitter's words (default: from the kwargs).

:func:`run_suite` validates one Arrow table with one suite (plus expectations built at run
time, ``extra``) and returns a :class:`SuiteResult` whose findings point at the
submitter's file, sheet, row and column through the caller's ``locate``. Blank strings
count as empty. Column expectations on a column the table lacks are skipped: a column is
required only when the suite says ``expect_column_to_exist`` for it, and then its absence
is one finding pointing at the file. An expectation that passes only thanks to ``mostly``
still reports its unexpected rows, at warning level.

Great Expectations is imported lazily, inside the functions that need it: the import
takes seconds and the CLI must stay fast. The context, its pandas datasource and the
suites are built once per process.

>>> spec = load_suite("raw/tabular", expectations_dir=Path(__file__).parents[2] / "expectations")
>>> spec.validator
'gx:raw/tabular'
"""

from __future__ import annotations

import functools
import json
import math
import re
import threading
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from harmonize.errors import ConfigurationError
from harmonize.quality.findings import LEVELS, Finding, Level, Location

if TYPE_CHECKING:
    import pandas as pd
    from great_expectations.core import ExpectationSuite
    from great_expectations.core.batch_definition import BatchDefinition

__all__ = ["SuiteResult", "SuiteSpec", "available_suites", "load_suite", "run_suite"]

_SUFFIX = ".json"
_VALUE_CHARS = 500  # longest value kept in a Location
_MESSAGE_VALUE_CHARS = 80  # longest value quoted in a message
_SET_NAMED = 20  # how many members of a value set a message names

_LOCK = threading.Lock()  # one validation at a time through the shared GX context


@dataclass(frozen=True)
class SuiteSpec:
    """One suite file, read and checked: its name and its expectations as plain dicts."""

    name: str
    path: Path
    expectations: tuple[Mapping[str, Any], ...]

    @property
    def validator(self) -> str:
        return f"gx:{self.name}"


@dataclass
class SuiteResult:
    """What one suite found on one table.

    ``success`` is true when no finding is at error level: a failed expectation whose
    ``meta.level`` is ``warning`` does not fail the run. ``statistics`` holds GX's own
    counts (``evaluated_expectations``, ``successful_expectations``, ...) plus ``rows``,
    ``skipped_expectations`` and ``gx_success`` (1 when every expectation passed).
    """

    validator: str
    findings: list[Finding] = field(default_factory=list)
    success: bool = True
    statistics: dict[str, float] = field(default_factory=dict)
    data_docs: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- suites


def load_suite(suite: Path | str, *, expectations_dir: Path) -> SuiteSpec:
    """Read a suite: a name under ``expectations_dir`` (``"raw/tabular"``) or a file path.

    Raises :class:`ConfigurationError` when the file is missing or not a valid suite.
    """
    if isinstance(suite, Path):
        path = suite
    else:
        path = expectations_dir / (suite if suite.endswith(_SUFFIX) else suite + _SUFFIX)
    try:
        stat = path.stat()
    except OSError as exc:
        raise ConfigurationError(
            f"expectation suite {str(suite)!r} not found at {path}",
            hint=f"use one of {sorted(available_suites(expectations_dir))}",
        ) from exc
    return _read_suite(str(path.resolve()), stat.st_mtime_ns, str(expectations_dir.resolve()))


def available_suites(expectations_dir: Path) -> list[str]:
    """The suite names under ``expectations_dir``, e.g. ``raw/hpo-case-template``."""
    return sorted(
        p.relative_to(expectations_dir).with_suffix("").as_posix()
        for p in expectations_dir.rglob(f"*{_SUFFIX}")
    )


@functools.lru_cache(maxsize=64)
def _read_suite(path_str: str, mtime_ns: int, expectations_dir: str) -> SuiteSpec:
    """Parse and check one suite file (cached until the file changes)."""
    path = Path(path_str)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(
            f"expectation suite {path} is not readable JSON: {exc}",
            file=str(path),
            hint="fix the suite file; it must be a GX ExpectationSuite JSON document",
        ) from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("expectations", []), list):
        raise ConfigurationError(
            f"expectation suite {path} must be an object with a list of expectations",
            file=str(path),
        )
    try:
        default_name = path.relative_to(expectations_dir).with_suffix("").as_posix()
    except ValueError:
        default_name = path.stem
    name = doc.get("name") or default_name
    expectations = tuple(
        _check_expectation(e, f"{path} expectation #{i + 1}")
        for i, e in enumerate(doc.get("expectations", []))
    )
    return SuiteSpec(name=str(name), path=path, expectations=expectations)


def _check_expectation(exp: Any, where: str) -> dict[str, Any]:
    """Check the shape Harmonize relies on; GX checks the kwargs when the suite is built."""
    if not isinstance(exp, Mapping):
        raise ConfigurationError(f"{where}: an expectation must be an object, not {exp!r}")
    kind = exp.get("type")
    kwargs = exp.get("kwargs", {})
    meta = exp.get("meta") or {}
    if not isinstance(kind, str) or not kind.startswith("expect_"):
        raise ConfigurationError(f"{where}: 'type' must name a GX expectation, not {kind!r}")
    if not isinstance(kwargs, Mapping) or not isinstance(meta, Mapping):
        raise ConfigurationError(f"{where}: 'kwargs' and 'meta' must be objects")
    level = meta.get("level", "error")
    if level not in LEVELS:
        raise ConfigurationError(
            f"{where}: meta.level {level!r} is not a level", hint=f"use one of {list(LEVELS)}"
        )
    unknown = set(exp) - {"type", "kwargs", "meta", "notes", "description", "severity", "id"}
    if unknown:
        raise ConfigurationError(f"{where}: unknown keys {sorted(unknown)}")
    return {"type": kind, "kwargs": dict(kwargs), "meta": dict(meta)}


def _columns(exp: Mapping[str, Any]) -> list[str]:
    """The columns an expectation reads."""
    kwargs = exp["kwargs"]
    cols = [kwargs.get(k) for k in ("column", "column_A", "column_B")]
    cols.extend(kwargs.get("column_list") or [])
    return [c for c in cols if isinstance(c, str)]


@functools.lru_cache(maxsize=128)
def _gx_suite(name: str, expectations_json: str) -> ExpectationSuite:
    """Build (once) the GX suite for these expectations; invalid kwargs fail loudly.

    ``ExpectationSuite(expectations=[dict, ...])`` would log and drop an invalid
    expectation, so each one is built here first.
    """
    import great_expectations as gx
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    built = []
    for i, exp in enumerate(json.loads(expectations_json)):
        try:
            built.append(ExpectationConfiguration(**exp).to_domain_obj())
        except Exception as exc:  # GX raises its own, pydantic's and TypeErrors here
            column = exp["kwargs"].get("column")
            raise ConfigurationError(
                f"suite {name!r}: expectation #{i + 1} ({exp['type']}) is invalid: {exc}",
                column=column,
                hint="fix the expectation's type or kwargs",
            ) from exc
    return gx.ExpectationSuite(name=name, expectations=built)


# --------------------------------------------------------------------------- GX context


@functools.lru_cache(maxsize=1)
def _batch_definition() -> BatchDefinition[Any]:
    """One ephemeral context per process, quiet (no progress bars, no analytics)."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    asset = context.data_sources.add_pandas("harmonize").add_dataframe_asset("table")
    return asset.add_batch_definition_whole_dataframe("whole-table")


def _frame(table: pa.Table) -> pd.DataFrame:
    """The table as pandas, blank strings as nulls, indexed 0..n-1 like the table."""
    columns = []
    for col in table.columns:
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            blank = pc.equal(pc.utf8_trim_whitespace(col), "")
            col = pc.if_else(blank, pa.scalar(None, col.type), col)
        columns.append(col)
    return pa.Table.from_arrays(columns, names=table.column_names).to_pandas()


# --------------------------------------------------------------------------- run


def run_suite(
    suite: Path | str,
    table: pa.Table,
    *,
    locate: Callable[[int], Location],
    expectations_dir: Path,
    extra: Sequence[Mapping[str, Any]] = (),
    data_docs_dir: Path | None = None,
    max_examples: int = 50,
    origin: Location | None = None,
) -> SuiteResult:
    """Validate ``table`` with a suite and translate what failed into findings.

    ``suite`` is a name under ``expectations_dir`` (``"raw/hpo-case-template"``) or a
    path. ``locate(i)`` maps a 0-based row index of ``table`` to where that row came
    from (file, sheet, 1-based row; a column too when the caller knows the submitter's
    column better than the table's); this function fills in ``column`` and ``value``
    when the caller left them empty. ``origin`` is where table-level findings point (a
    missing column, an empty table); by default ``locate(0)`` without its row.
    ``extra`` are expectation dicts built at run time, in the suite file's format. At
    most ``max_examples`` rows are reported per expectation; one more finding then says
    how many were left out (``data['omitted']``). When ``data_docs_dir`` is given an
    HTML page of the run is written there.
    """
    spec = load_suite(suite, expectations_dir=expectations_dir)
    extras = [_check_expectation(e, f"extra expectation #{i + 1}") for i, e in enumerate(extra)]
    present = set(table.column_names)
    runnable: list[Mapping[str, Any]] = []
    skipped = 0
    for exp in (*spec.expectations, *extras):
        missing = [c for c in _columns(exp) if c not in present]
        if missing and exp["type"] != "expect_column_to_exist":
            skipped += 1  # optional column absent; `expect_column_to_exist` makes it required
            continue
        runnable.append(exp)

    if origin is None:
        origin = _origin(locate(0)) if table.num_rows else Location()
    gx_suite = _gx_suite(spec.name, json.dumps(runnable, sort_keys=True))
    frame = _frame(table)
    result_format = {
        "result_format": "SUMMARY",  # COMPLETE lists every unexpected row: too slow at 100k
        "partial_unexpected_count": max(max_examples, 1),
        "include_unexpected_rows": False,
    }
    with _LOCK, warnings.catch_warnings():
        # pandas warns when a regex has groups (str.contains ignores them); the suites'
        # patterns use groups on purpose, so the warning is noise here.
        warnings.filterwarnings("ignore", "This pattern is interpreted as a regular expression")
        batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
        validation = batch.validate(gx_suite, result_format=result_format)
    outcome: dict[str, Any] = validation.to_json_dict()  # type: ignore[no-untyped-call]

    findings: list[Finding] = []
    for res in outcome["results"]:
        findings.extend(
            _translate(res, spec.validator, table, locate, origin, max_examples=max_examples)
        )
    stats: dict[str, float] = {
        k: v for k, v in outcome.get("statistics", {}).items() if isinstance(v, int | float)
    }
    stats["rows"] = table.num_rows
    stats["skipped_expectations"] = skipped
    stats["gx_success"] = int(bool(outcome.get("success")))
    result = SuiteResult(
        validator=spec.validator,
        findings=findings,
        success=not any(f.level == "error" for f in findings),
        statistics=stats,
    )
    if data_docs_dir is not None:
        result.data_docs.append(
            str(_write_data_docs(data_docs_dir, spec, outcome, result, origin, table, locate))
        )
    return result


def _origin(first_row: Location) -> Location:
    return first_row.model_copy(
        update={"row": None, "column": None, "value": None, "path": None, "phenopacket_id": None}
    )


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


def _translate(
    res: Mapping[str, Any],
    validator: str,
    table: pa.Table,
    locate: Callable[[int], Location],
    origin: Location,
    *,
    max_examples: int,
) -> Iterable[Finding]:
    """One finding per unexpected row (up to ``max_examples``), plus one for the rest."""
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
    columns = _columns(cfg)
    label = ", ".join(columns) or None  # what a Location's column says
    expected = _expected(kind, kwargs, meta)
    hint = meta.get("hint") or _default_hint(kind, columns, expected)
    data: dict[str, Any] = {"expectation": kind}
    if label:
        data["table_column"] = label

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
        yield finding(_aggregate_message(kind, columns, observed, expected), at_origin)
        return

    percent = detail.get("unexpected_percent")
    data["unexpected_count"] = count
    if isinstance(percent, int | float) and math.isfinite(percent):
        data["unexpected_percent"] = round(float(percent), 3)
    indices = [int(i) for i in detail.get("partial_unexpected_index_list") or []]
    shown = indices[: max(max_examples, 0)]
    present = [c for c in columns if c in table.column_names]
    for i in shown:
        cells = [table.column(c)[i].as_py() for c in present]
        if len(cells) == 1:
            value = None if cells[0] is None else str(cells[0])
        else:
            value = " | ".join("" if v is None else str(v) for v in cells) or None
        located = locate(i)
        update: dict[str, Any] = {}
        if located.column is None:
            update["column"] = label
        if located.value is None and value is not None:
            update["value"] = value[:_VALUE_CHARS]
        yield finding(
            _row_message(kind, columns, value, expected),
            located.model_copy(update=update) if update else located,
        )
    if count > len(shown):
        omitted = count - len(shown)
        top = detail.get("partial_unexpected_counts") or []
        yield finding(
            f"{omitted} more row{'s' if omitted != 1 else ''} "
            f"{_subject(columns)} fail{'s' if omitted == 1 else ''} the same check "
            f"({count} in all); "
            f"only the first {len(shown)} are listed",
            at_origin,
            omitted=omitted,
            summary=True,
            top_values=[
                {"value": _short(t.get("value")), "count": t.get("count")} for t in top[:10]
            ],
        )


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


# --------------------------------------------------------------------------- data docs


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "table"


def _write_data_docs(
    directory: Path,
    spec: SuiteSpec,
    outcome: Mapping[str, Any],
    result: SuiteResult,
    origin: Location,
    table: pa.Table,
    locate: Callable[[int], Location],
) -> Path:
    """Write one HTML page for this run and return its path.

    GX's own Data Docs were tried first (an ephemeral context can build them: add the
    suite, a ValidationDefinition and a Checkpoint with an UpdateDataDocsAction to a
    filesystem site). They were not used because (1) GX 1.24 writes submitted values
    into the page unescaped (a cell ``<script>`` appears as a live tag), (2) the pages
    load jQuery, Bootstrap and Vega from CDNs, and (3) every run would register suites,
    definitions and checkpoints in the per-process context. The page is instead rendered
    from GX's validation result by :func:`harmonize.quality.html.render_validation`:
    self-contained and escaped.
    """
    from harmonize.quality.html import render_validation, write_text_atomic

    parts = [spec.name, origin.file or "", origin.sheet or ""]
    if table.num_rows:
        first, last = locate(0).row, locate(table.num_rows - 1).row
        if first is not None and last is not None:
            parts.append(f"rows-{first}-{last}")
    name = "__".join(_slug(p) for p in parts if p) + ".html"
    page = render_validation(
        outcome,
        validator=result.validator,
        findings=result.findings,
        statistics=result.statistics,
        origin=origin,
    )
    path = directory / name
    write_text_atomic(path, page)
    return path
