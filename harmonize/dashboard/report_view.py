"""One submission's quality report as the detail page shows it: findings grouped by
category and level, with counts and the first examples, each pointing at the cell.

Controlled-access values are masked for anyone who is neither a curator nor a member of
the submission's dataset.

>>> from harmonize.dashboard.auth import Principal
>>> report = {"findings": [{"level": "error", "category": "bad", "message": "m",
...     "location": {"file": "a.csv", "row": 3, "column": "x", "value": "secret"}}] * 7}
>>> groups = finding_groups(report, masked=True)
>>> groups[0]["count"], len(groups[0]["examples"]), groups[0]["examples"][0]["value"]
(7, 5, '[controlled]')
>>> may_see_values(Principal("s", "submitter", ("other",)),
...                {"access": "controlled", "dataset": "clinic"})
False
"""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath
from typing import Any

from harmonize.dashboard.auth import Principal

EXAMPLES = 5
MASK = "[controlled]"
_LEVEL_ORDER = {"error": 0, "warning": 1, "info": 2}


def may_see_values(principal: Principal, row: dict[str, Any]) -> bool:
    """Curators see every value; others see controlled values of their own datasets only."""
    if principal.curator or row.get("access") != "controlled":
        return True
    return row.get("dataset") in principal.datasets


def load_report(path: str | None, *, s3_endpoint_url: str | None = None) -> dict[str, Any] | None:
    """A report's JSON object (a local path or an ``s3://`` URI), or None when there is none
    or it cannot be read."""
    from harmonize.errors import HarmonizeError
    from harmonize.quality.report_store import read_report_file

    if not path:
        return None
    try:
        data = json.loads(read_report_file(path, s3_endpoint_url=s3_endpoint_url))
    except (OSError, ValueError, HarmonizeError):
        return None
    return data if isinstance(data, dict) else None


def finding_groups(report: dict[str, Any], *, masked: bool) -> list[dict[str, Any]]:
    """Groups by (category, level), errors first, each with its count and first examples."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for f in report.get("findings") or []:
        groups.setdefault((str(f.get("category")), str(f.get("level"))), []).append(f)
    out = []
    for (category, level), found in groups.items():
        examples = []
        for f in found[:EXAMPLES]:
            loc = dict(f.get("location") or {})
            value = loc.get("value")
            examples.append(
                {
                    "message": MASK if masked else f.get("message"),
                    "hint": f.get("hint"),
                    "file": loc.get("file"),
                    "sheet": loc.get("sheet"),
                    "row": loc.get("row"),
                    "column": loc.get("column"),
                    "value": MASK if masked and value is not None else value,
                    "phenopacket_id": loc.get("phenopacket_id"),
                    "path": loc.get("path"),
                    "validator": f.get("validator"),
                }
            )
        out.append(
            {"category": category, "level": level, "count": len(found), "examples": examples}
        )
    out.sort(key=_order)
    return out


def _order(group: dict[str, Any]) -> tuple[int, int, str]:
    return (_LEVEL_ORDER.get(str(group["level"]), 9), -int(group["count"]), str(group["category"]))


def data_docs(report: dict[str, Any], reports_dir: Path, submission_id: str) -> list[str]:
    """Data Docs pages of the report, relative to the submission's report directory.

    A report written on another host (a worker) names pages under that host's
    ``WORKSPACE/reports/<submission>/``: they are taken relative to that folder.

    >>> data_docs({"data_docs": ["/w1/reports/s1/data-docs/a.html", "/etc/x.html"]},
    ...           Path("/dash/reports"), "s1")
    ['data-docs/a.html']
    """
    base = (reports_dir / submission_id).resolve()
    out = []
    for page in report.get("data_docs") or []:
        try:
            out.append(Path(page).resolve().relative_to(base).as_posix())
            continue
        except ValueError:
            pass
        parts = PurePosixPath(page).parts
        for i in range(len(parts) - 2, 0, -1):
            if parts[i - 1 : i + 1] == ("reports", submission_id):
                out.append(PurePosixPath(*parts[i + 1 :]).as_posix())
                break
    return out
