"""Great Expectations suite files: read, checked, and built into GX suites.

Suites are GX 1.x ``ExpectationSuite`` JSON files kept in ``expectations/``:
``raw/<profile>.json`` for the tables a reader produced, ``harmonized/<table>.json`` for
the tables a profile mapped into. :func:`load_suite` reads and checks one (cached until
the file changes); :func:`gx_suite` builds the GX suite for a list of expectations
(once), failing loudly on invalid kwargs. Great Expectations is imported lazily.

>>> spec = load_suite("raw/tabular", expectations_dir=Path(__file__).parents[2] / "expectations")
>>> spec.validator
'gx:raw/tabular'
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harmonize.errors import ConfigurationError
from harmonize.quality.findings import LEVELS

if TYPE_CHECKING:
    from great_expectations.core import ExpectationSuite

__all__ = [
    "SuiteSpec",
    "available_suites",
    "check_expectation",
    "expectation_columns",
    "gx_suite",
    "load_suite",
]

_SUFFIX = ".json"


@dataclass(frozen=True)
class SuiteSpec:
    """One suite file, read and checked: its name and its expectations as plain dicts."""

    name: str
    path: Path
    expectations: tuple[Mapping[str, Any], ...]

    @property
    def validator(self) -> str:
        return f"gx:{self.name}"


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
        check_expectation(e, f"{path} expectation #{i + 1}")
        for i, e in enumerate(doc.get("expectations", []))
    )
    return SuiteSpec(name=str(name), path=path, expectations=expectations)


def check_expectation(exp: Any, where: str) -> dict[str, Any]:
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


def expectation_columns(exp: Mapping[str, Any]) -> list[str]:
    """The columns an expectation reads."""
    kwargs = exp["kwargs"]
    cols = [kwargs.get(k) for k in ("column", "column_A", "column_B")]
    cols.extend(kwargs.get("column_list") or [])
    return [c for c in cols if isinstance(c, str)]


@functools.lru_cache(maxsize=128)
def gx_suite(name: str, expectations_json: str) -> ExpectationSuite:
    """Build (once) the GX suite for these expectations; invalid kwargs fail loudly.

    ``ExpectationSuite(expectations=[dict, ...])`` would log and drop an invalid
    expectation, so each one is built here first.
    """
    from harmonize.quality.gx_import import import_gx

    import_gx()  # first: defers what only unused expectations import
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
