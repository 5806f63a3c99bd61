"""The quality report as a self-contained HTML page (and JSON), for submitters and curators.

Pages are rendered with Jinja2 from ``templates/`` with autoescaping on: every value a
submitter wrote is escaped. The CSS is inline; there is no script and no CDN.

>>> from harmonize.quality.findings import Finding, Location, QualityReport
>>> f = Finding(level="error", category="invalid-value", message="bad sex",
...             validator="gx:raw/x", location=Location(file="a.csv", row=3, column="sex",
...             value="<script>"))
>>> page = render_report(QualityReport(submission_id="s1", status="rejected", findings=[f]))
>>> "&lt;script&gt;" in page and "<script" not in page
True
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2

from harmonize.quality.findings import LEVELS, Finding, Location, QualityReport

__all__ = [
    "load_templates",
    "render_report",
    "render_validation",
    "write_report",
    "write_text_atomic",
]

_COLUMN_KWARGS = ("column", "column_A", "column_B", "column_list")
_ORDER: dict[str, int] = {level: i for i, level in enumerate(LEVELS)}


@functools.lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("harmonize.quality", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def load_templates() -> None:
    """Compile the page templates now (Jinja2 keeps them): a first render's one-time work."""
    for name in ("report.html.j2", "validation.html.j2"):
        _env().get_template(name)


def _href(path: str, base: Path | None) -> str:
    """A link to a data-docs page: relative to ``base`` when possible, else a file URI."""
    p = Path(path)
    if base is not None:
        try:
            return Path(os.path.relpath(p.resolve(), base.resolve())).as_posix()
        except ValueError:  # another drive on Windows
            pass
    return p.resolve().as_uri() if p.is_absolute() else p.as_posix()


def _groups(findings: Sequence[Finding], examples: int) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.level, f.category), []).append(f)
    out: list[dict[str, Any]] = []
    for (level, category), members in groups.items():
        omitted = sum(int(f.data.get("omitted", 0)) for f in members if f.data.get("summary"))
        listed = [f for f in members if not f.data.get("summary")]
        notes = [f for f in members if f.data.get("summary")]
        out.append(
            {
                "level": level,
                "category": category,
                "count": len(listed) + omitted,
                "findings": listed[:examples] + notes,
                "not_shown": max(len(listed) - examples, 0) + omitted,
                "validators": sorted({f.validator for f in members}),
            }
        )
    out.sort(key=lambda g: (_ORDER.get(g["level"], len(LEVELS)), -g["count"], g["category"]))
    return out


def render_report(report: QualityReport, *, examples: int = 50, base: Path | None = None) -> str:
    """The report as one HTML page.

    Findings are grouped by (level, category), errors first; each group shows its count
    (rows left out of the findings by a validator included) and its first ``examples``
    findings. Links to data docs are made relative to ``base`` when given.
    """
    return (
        _env()
        .get_template("report.html.j2")
        .render(
            report=report,
            counts=report.counts(),
            groups=_groups(report.findings, examples),
            docs=[{"href": _href(p, base), "name": Path(p).name} for p in report.data_docs],
        )
    )


def render_validation(
    outcome: Mapping[str, Any],
    *,
    validator: str,
    findings: Sequence[Finding],
    statistics: Mapping[str, float],
    origin: Location,
) -> str:
    """One GX validation result (its JSON dict) as a data-docs page, with the findings."""
    rows = []
    for res in outcome.get("results", []):
        cfg = res.get("expectation_config") or {}
        kwargs = {k: v for k, v in (cfg.get("kwargs") or {}).items() if k != "batch_id"}
        meta = cfg.get("meta") or {}
        detail = res.get("result") or {}
        kind = cfg.get("type", "")
        named = [kwargs.get("column"), kwargs.get("column_A"), kwargs.get("column_B")]
        named.extend(kwargs.get("column_list") or [])
        column = ", ".join(c for c in named if isinstance(c, str)) or None
        examples = [
            f
            for f in findings
            if f.data.get("expectation") == kind and f.data.get("table_column") == column
        ]
        rows.append(
            {
                "type": kind,
                "column": column,
                "kwargs": {k: v for k, v in kwargs.items() if k not in _COLUMN_KWARGS},
                "level": meta.get("level", "error"),
                "category": meta.get("category", kind),
                "hint": meta.get("hint"),
                "success": bool(res.get("success")),
                "unexpected_count": detail.get("unexpected_count"),
                "unexpected_percent": detail.get("unexpected_percent"),
                "observed_value": detail.get("observed_value"),
                "top_values": (detail.get("partial_unexpected_counts") or [])[:10],
                "findings": examples,
            }
        )
    return (
        _env()
        .get_template("validation.html.j2")
        .render(
            validator=validator,
            suite=outcome.get("suite_name", validator),
            success=bool(outcome.get("success")),
            statistics=statistics,
            origin=origin,
            meta=outcome.get("meta") or {},
            results=rows,
        )
    )


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_report(report: QualityReport, directory: Path) -> tuple[Path, Path]:
    """Write ``report.json`` and ``report.html`` into ``directory``; return both paths."""
    json_path = directory / "report.json"
    html_path = directory / "report.html"
    write_text_atomic(json_path, report.model_dump_json(indent=2))
    write_text_atomic(html_path, render_report(report, base=directory))
    return json_path, html_path
