"""Great Expectations runs without GX's repeated work give GX's own values (issue #14).

:func:`harmonize.quality.gx_reuse.json_ready` must convert every value exactly as GX's
``convert_to_json_serializable`` does, and ``run_suite``'s ``_outcome`` must hold the same
values as GX's ``to_json_dict()`` of the same result, for every suite of an ingest with
failures of each kind. (The whole report of that ingest is compared with main's in
``tests/pipeline/test_same_findings.py``.) A suite runs with GX's ``BASIC`` result format
first and again with ``SUMMARY`` only when something failed: reports and Data Docs pages
must be those of ``SUMMARY`` alone, on a clean template and on one with errors.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from harmonize.pipeline import ingest
from harmonize.quality import expectations
from harmonize.quality.gx_import import import_gx
from harmonize.quality.gx_reuse import install, json_ready
from harmonize.settings import Settings
from tests.pipeline.test_same_findings import AIRE, template_with_errors


class Colour(enum.IntEnum):
    RED = 1


VALUES: list[Any] = [
    None,
    "",
    "text",
    0,
    -7,
    2**70,
    True,
    False,
    0.0,
    -0.0,
    1.5,
    math.nan,
    math.inf,
    -math.inf,
    {},
    [],
    (),
    {"a": None, 1: "int key", None: 2.5, (1, 2): [1, (2, 3)]},
    [None, "x", 1, 1.0, math.nan, [[], {}], ("t", None)],
    {"nested": {"deeper": [{"k": math.nan}, np.int64(3)]}},
    np.int64(4),
    np.int32(-5),
    np.uint8(6),
    np.float64(0.1),
    np.float32(0.1),
    np.float64("nan"),
    np.bool_(True),
    np.str_("numpy text"),
    np.array([1, 2, 3]),
    np.array([0.5, np.nan]),
    pd.Index(["a", "b"]),
    pd.Series([1, 2], name="v"),
    pd.NA,
    pd.NaT,
    {1, 2},
    range(3),
    Colour.RED,
    datetime.date(2026, 12, 8),
    datetime.datetime(2026, 12, 8, 2, 41, 5),
    decimal.Decimal("1.25"),
    b"bytes",
    Path("a/b.json"),
    [np.int64(1), {"v": np.float64(2.5)}, (np.bool_(False),)],
]


def _typed(value: Any) -> Any:
    """A value with the type of every part spelled out (1 and 1.0 and True differ)."""
    if isinstance(value, dict):
        return {"dict": [[_typed(k), _typed(v)] for k, v in value.items()]}
    if isinstance(value, list | tuple):
        return {type(value).__name__: [_typed(v) for v in value]}
    if isinstance(value, float) and math.isnan(value):
        return ["float", "nan"]
    return [type(value).__name__, repr(value)]


@pytest.fixture(scope="module")
def gx_convert() -> Any:
    import_gx()
    install()
    import great_expectations.util

    converted: Any = great_expectations.util.convert_to_json_serializable
    original = converted.__wrapped__  # install() replaced it: this is GX's own
    assert original is not converted
    return original


@pytest.mark.parametrize("value", VALUES, ids=[repr(v)[:40] for v in VALUES])
def test_json_ready_converts_as_gx_does(gx_convert: Any, value: Any) -> None:
    fast = json_ready(gx_convert)
    assert _typed(fast(value)) == _typed(gx_convert(value))


def test_the_modules_of_a_validation_use_the_fast_conversion(gx_convert: Any) -> None:
    import importlib

    for name in (
        "great_expectations.util",
        "great_expectations.core.id_dict",
        "great_expectations.validator.metric_configuration",
        "great_expectations.validator.v1_validator",
        "great_expectations.core.expectation_validation_result",
    ):
        used = importlib.import_module(name).convert_to_json_serializable
        assert used is not gx_convert and used.__wrapped__ is gx_convert, name


def test_the_outcome_holds_what_gx_to_json_dict_holds(
    tmp_path: Path, ontology_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[Any, dict[str, Any]]] = []
    outcome = expectations._outcome

    def recording(validation: Any) -> dict[str, Any]:
        made = outcome(validation)
        seen.append((validation, made))
        return made

    monkeypatch.setattr(expectations, "_outcome", recording)
    settings = Settings(
        workspace=tmp_path / "ws", ontology_cache=ontology_cache, on_conflict="keep-observed"
    )
    result = ingest(template_with_errors(tmp_path), settings, profile="hpo-case-template")
    assert result.status == "rejected"
    # a suite with a failure runs twice (BASIC, then SUMMARY): each result is compared
    assert list(dict.fromkeys(v.suite_name for v, _ in seen)) == [
        "raw/hpo-case-template",
        "harmonized/individuals",
        "harmonized/phenotypic_features",
        "harmonized/diseases",
        "harmonized/variants",
    ]
    assert len(seen) > 5
    failed = 0
    for validation, made in seen:
        full = validation.to_json_dict()
        expected = {
            "success": full["success"],
            "suite_name": full["suite_name"],
            "statistics": full["statistics"],
            "meta": full["meta"],
            "results": [
                {
                    "success": res["success"],
                    "expectation_config": {
                        k: res["expectation_config"][k] for k in ("type", "kwargs", "meta")
                    },
                    "result": res["result"],
                    "exception_info": res["exception_info"],
                }
                for res in full["results"]
            ],
        }
        assert made == expected
        # and the same JSON: 1, 1.0 and True are equal in Python, not in JSON
        assert json.dumps(made, sort_keys=True) == json.dumps(expected, sort_keys=True)
        failed += sum(not r["success"] for r in made["results"])
    assert failed >= 4  # the template's errors fail expectations in several suites


def _report_and_pages(tmp: Path, template: Path, ontology_cache: Path) -> dict[str, Any]:
    settings = Settings(
        workspace=tmp, ontology_cache=ontology_cache, on_conflict="keep-observed", data_docs=True
    )
    result = ingest(template, settings, profile="hpo-case-template")
    assert result.report_json is not None
    report = json.loads(result.report_json.read_text())
    pages = {Path(p).name: Path(p).read_text() for p in report.pop("data_docs")}
    del report["submission_id"]
    return {"status": result.status, "report": report, "pages": pages}


def _record_formats(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The result format of every GX run from here on, in order."""
    formats: list[str] = []
    validator = expectations._validator

    def recording(frame: Any, result_format: dict[str, Any]) -> Any:
        formats.append(result_format["result_format"])
        return validator(frame, result_format)

    monkeypatch.setattr(expectations, "_validator", recording)
    return formats


@pytest.mark.parametrize("errors", [False, True], ids=["clean", "with-errors"])
def test_basic_first_gives_the_report_and_pages_of_summary_alone(
    tmp_path: Path, ontology_cache: Path, monkeypatch: pytest.MonkeyPatch, errors: bool
) -> None:
    template = template_with_errors(tmp_path) if errors else AIRE
    formats = _record_formats(monkeypatch)
    two_step = _report_and_pages(tmp_path / "a", template, ontology_cache)
    basic_only = formats.count("BASIC") - formats.count("SUMMARY")
    formats.clear()
    monkeypatch.setattr(expectations, "_clean", lambda res: False)  # always SUMMARY
    summary = _report_and_pages(tmp_path / "b", template, ontology_cache)
    assert formats.count("SUMMARY") == 5
    assert two_step == summary
    assert len(two_step["pages"]) == 5
    # the clean template needs no SUMMARY run; the errors need some, not all
    assert basic_only == (5 if not errors else 3)
    assert two_step["status"] == ("rejected" if errors else "published")


def test_a_row_tolerated_by_mostly_alone_still_gets_its_summary_run(
    expectations_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The one failure passes (``mostly``), yet its row must be found: SUMMARY runs."""
    from tests.quality.test_expectations import harmonized, run_harmonized

    rows: list[dict[str, object]] = [
        {"phenopacket_id": f"p{i}", "sex": "FEMALE", "age_at_last_encounter": "P1Y"}
        for i in range(40)
    ]
    rows[6]["age_at_last_encounter"] = "P"  # 1 of 40 bad: tolerated by mostly=0.95
    formats = _record_formats(monkeypatch)
    result = run_harmonized("individuals", harmonized("individuals", rows), expectations_dir)
    got = [(f.level, f.category, f.location.row, f.location.value) for f in result.findings]
    assert got == [("warning", "invalid-age", 8, "P")]
    assert formats == ["BASIC", "SUMMARY"]
    assert result.success
