"""Great Expectations suites run on raw and harmonized tables, translated into findings.

Suites are GX 1.x ``ExpectationSuite`` JSON files kept in ``expectations/``
(:mod:`harmonize.quality.suites` reads them): ``raw/<profile>.json`` for the tables a
reader produced, ``harmonized/<table>.json`` for the tables a profile mapped into. Each
expectation may carry, in its ``meta``:

``level``
    ``error`` (default), ``warning`` or ``info``: the level of the findings it yields.
``category``
    the finding category (default: the expectation type).
``hint``
    what the submitter should do about it.
``expected``
    how to say what was expected, in the submitter's words (default: from the kwargs).

:func:`run_suite` validates one Arrow table with one suite (plus expectations built at run
time, ``extra``) and returns a :class:`SuiteResult` whose findings
(:mod:`harmonize.quality.gx_findings`) point at the submitter's file, sheet, row and
column through the caller's ``locate``. Blank strings count as empty. Column
expectations on a column the table lacks are skipped: a column is required only when the
suite says ``expect_column_to_exist`` for it, and then its absence is one finding
pointing at the file. An expectation that passes only thanks to ``mostly`` still reports
its unexpected rows, at warning level.

Great Expectations is imported lazily, inside the functions that need it: the import
takes seconds and the CLI must stay fast. The context, its pandas datasource
(:func:`batch_definition`) and the suites are built once per process.
"""

from __future__ import annotations

import functools
import json
import re
import threading
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from harmonize.quality.findings import Finding, Location
from harmonize.quality.gx_findings import findings_from_result
from harmonize.quality.gx_reuse import reusing_configurations
from harmonize.quality.suites import (
    SuiteSpec,
    check_expectation,
    expectation_columns,
    gx_suite,
    load_suite,
)

if TYPE_CHECKING:
    import pandas as pd
    from great_expectations.core import ExpectationSuite
    from great_expectations.core.batch_definition import BatchDefinition
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResult,
    )
    from great_expectations.validator.v1_validator import Validator

__all__ = ["SuiteResult", "batch_definition", "run_suite"]

_LOCK = threading.Lock()  # one validation at a time through the shared GX context


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


# --------------------------------------------------------------------------- GX context


@functools.lru_cache(maxsize=1)
def batch_definition() -> BatchDefinition[Any]:
    """One ephemeral context per process, quiet (no progress bars, no analytics)."""
    from harmonize.quality.gx_import import import_gx

    import_gx()  # first: defers what only unused expectations import
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


def _validate(suite: ExpectationSuite, frame: pd.DataFrame, max_examples: int) -> dict[str, Any]:
    """The suite's result on ``frame`` (:func:`_outcome`), as GX's ``SUMMARY`` gives it.

    ``SUMMARY`` adds to ``BASIC`` the unexpected rows' indices and the counts of their
    values, which findings point with; GX computes them (two more metrics per column
    expectation) whether or not any row is unexpected, about a third of a run. So the
    suite runs with ``BASIC`` first, and again with ``SUMMARY`` only when some
    expectation failed or counted an unexpected row. When none did, the two results say
    the same for every key findings and the Data Docs page read: each expectation passed
    with ``unexpected_count`` 0 (so no finding, and no rows to list: ``SUMMARY``'s lists
    are empty), with the same ``unexpected_percent``, ``observed_value`` and statistics.
    """
    first = {"result_format": "BASIC", "partial_unexpected_count": max(max_examples, 1)}
    full = {
        "result_format": "SUMMARY",  # COMPLETE lists every unexpected row: too slow at 100k
        "partial_unexpected_count": max(max_examples, 1),
        "include_unexpected_rows": False,
    }
    with _LOCK, warnings.catch_warnings():
        # pandas warns when a regex has groups (str.contains ignores them); the suites'
        # patterns use groups on purpose, so the warning is noise here.
        warnings.filterwarnings("ignore", "This pattern is interpreted as a regular expression")
        with reusing_configurations():  # GX rebuilt each configuration ~100 times a run
            outcome = _outcome(_validator(frame, first).validate_expectation_suite(suite))
        if all(_clean(res) for res in outcome["results"]):
            return outcome
        with reusing_configurations():
            return _outcome(_validator(frame, full).validate_expectation_suite(suite))


def _clean(res: Mapping[str, Any]) -> bool:
    """Passed, and without an unexpected row (one ``mostly`` tolerated is a finding)."""
    return bool(res["success"]) and not (res.get("result") or {}).get("unexpected_count")


def _validator(frame: pd.DataFrame, result_format: dict[str, Any]) -> Validator:
    """The validator ``Batch.validate`` would make for ``frame``, without the batch.

    ``batch_definition().get_batch(...).validate(suite)`` loads the frame as a batch (a
    fingerprint of the frame, the batch markers) and then builds a validator that loads
    it again; GX's own ``ValidationDefinition.run`` builds this validator directly.
    """
    from great_expectations.validator.v1_validator import Validator

    return Validator(
        batch_definition=batch_definition(),
        batch_parameters={"dataframe": frame},
        result_format=result_format,
    )


def _outcome(validation: ExpectationSuiteValidationResult) -> dict[str, Any]:
    """What findings and the Data Docs page read of a suite's result, as JSON values.

    GX's ``to_json_dict()`` deep-copies the whole result and dumps it through marshmallow
    schemas (a sixth of a suite run); these are the same values of the same keys
    (``tests/quality/test_gx_reuse.py`` compares them): the suite's ``success``,
    ``suite_name``, ``statistics`` and ``meta``, and per expectation its ``success``,
    configuration (``type``, ``kwargs``, ``meta``), ``result`` and ``exception_info``.
    """
    from great_expectations.util import convert_to_json_serializable as json_value

    results = []
    for res in validation.results:
        cfg = res.expectation_config
        assert cfg is not None  # GX sets it on every result of a suite run
        results.append(
            {
                "success": res.success,
                "expectation_config": {
                    "type": cfg.type,
                    "kwargs": json_value(cfg.kwargs),
                    "meta": json_value(cfg.meta),
                },
                "result": json_value(res.result),
                "exception_info": json_value(res.exception_info),
            }
        )
    return {
        "success": validation.success,
        "suite_name": validation.suite_name,
        "statistics": json_value(validation.statistics),
        "meta": json_value(validation.meta),
        "results": results,
    }


def _frame(table: pa.Table) -> pd.DataFrame:
    """The table as pandas, blank strings as nulls, indexed 0..n-1 like the table."""
    columns = []
    for col in table.columns:
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            blank = pc.equal(pc.utf8_trim_whitespace(col), "")
            col = pc.if_else(blank, pa.scalar(None, col.type), col)
        columns.append(col)
    return pa.Table.from_arrays(columns, names=table.column_names).to_pandas()


# expectations that read nothing but the columns they name (and the row count)
_TABLE_WIDE = ("row_condition", "condition_parser")


def _read_columns(table: pa.Table, expectations: Sequence[Mapping[str, Any]]) -> pa.Table:
    """The columns of ``table`` the expectations read: GX then converts only those.

    A column expectation reads its own columns; ``expect_table_row_count_to_be_between``
    only the row count. Any other table-level expectation (one about the column set, say)
    or a ``row_condition`` (which may name any column) gets the whole table. One column is
    always kept, so the frame has the table's rows.
    """
    wanted: dict[str, None] = {}
    for exp in expectations:
        kind = exp["type"]
        if any(k in exp["kwargs"] for k in _TABLE_WIDE):
            return table
        columns = expectation_columns(exp)
        if not columns and kind != "expect_table_row_count_to_be_between":
            return table
        wanted.update(dict.fromkeys(c for c in columns if c in table.column_names))
    if not wanted and table.num_columns:
        return table.select([0])
    return table.select(list(wanted))


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
    source_columns: Mapping[str, str] | None = None,
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
    how many were left out (``data['omitted']``). ``source_columns`` names a table column
    as the submitter calls it (``sex`` -> ``gender``): findings use the submitter's
    names. When ``data_docs_dir`` is given an HTML page of the run is written there.
    """
    spec = load_suite(suite, expectations_dir=expectations_dir)
    extras = [check_expectation(e, f"extra expectation #{i + 1}") for i, e in enumerate(extra)]
    present = set(table.column_names)
    runnable: list[Mapping[str, Any]] = []
    skipped = 0
    for exp in (*spec.expectations, *extras):
        missing = [c for c in expectation_columns(exp) if c not in present]
        if missing and exp["type"] != "expect_column_to_exist":
            skipped += 1  # optional column absent; `expect_column_to_exist` makes it required
            continue
        runnable.append(exp)

    if origin is None:
        origin = _origin(locate(0)) if table.num_rows else Location()
    built = gx_suite(spec.name, json.dumps(runnable, sort_keys=True))
    frame = _frame(_read_columns(table, runnable))
    outcome = _validate(built, frame, max_examples)

    findings: list[Finding] = []
    for res in outcome["results"]:
        findings.extend(
            findings_from_result(
                res,
                spec.validator,
                table,
                locate,
                origin,
                max_examples=max_examples,
                source_columns=source_columns,
            )
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
