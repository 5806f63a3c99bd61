"""Where a submission's quality report lives, so that any host can read it.

The pipeline writes ``report.json``, ``report.html`` and the Data Docs into
``WORKSPACE/reports/<submission>/``. With a warehouse configured
(``Settings.warehouse_url``, say ``s3://bucket/warehouse``) that folder is copied to
``<warehouse>/reports/<submission>/`` too, and the report's location (``report_uri`` in
the result event, ``report_path`` in the state store) is the copy there: the worker's
local folder is then only a cache it may lose. Without a warehouse the local folder is
the report, as before.

>>> report_location("s3://bucket/wh/reports/s1/report.json", "data-docs/a.html")
's3://bucket/wh/reports/s1/data-docs/a.html'
>>> report_location("/ws/reports/s1/report.json", "report.html")
'/ws/reports/s1/report.html'
>>> report_location("s3://bucket/wh/reports/s1/report.json", "../s2/report.json") is None
True
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from harmonize.quality.findings import QualityReport
from harmonize.settings import Settings

__all__ = ["SavedReport", "read_report_file", "report_location", "save_report"]

REPORTS = "reports"  # the folder of reports, in the workspace and in the warehouse


@dataclass(frozen=True)
class SavedReport:
    """A written report: its local files and where every host reads it (``uri``)."""

    json_path: Path
    html_path: Path
    uri: str  # <warehouse>/reports/<submission>/report.json, or the local JSON's path


def save_report(report: QualityReport, settings: Settings) -> SavedReport:
    """Write the report locally and, with a warehouse, copy its folder there.

    The copy replaces what an earlier run left under the submission's prefix; the JSON
    goes last, so whoever finds it finds the HTML and Data Docs it names.
    """
    from harmonize.quality.html import write_report

    directory = settings.reports_dir / report.submission_id
    json_path, html_path = write_report(report, directory)
    if settings.warehouse_url is None:
        return SavedReport(json_path, html_path, str(json_path))
    from harmonize.warehouse.files import open_files

    store = open_files(settings.warehouse_url, s3_endpoint_url=settings.s3_endpoint_url)
    prefix = f"{REPORTS}/{report.submission_id}"
    files = sorted(p for p in directory.rglob("*") if p.is_file() and not p.name.startswith("."))
    keep = set()
    for path in [p for p in files if p != json_path] + [json_path]:
        rel = f"{prefix}/{path.relative_to(directory).as_posix()}"
        store.put(path, rel)
        keep.add(rel)
    for stale in list(store.list(prefix + "/")):
        if stale not in keep:
            store.delete(stale)
    return SavedReport(json_path, html_path, store.uri(f"{prefix}/report.json"))


def report_location(report_uri: str, rel: str) -> str | None:
    """The location of ``rel`` (``report.html``, ``data-docs/...``) next to a report's JSON;
    ``None`` when ``rel`` leaves the report's folder."""
    parts = PurePosixPath(rel).parts
    if not parts or rel.startswith("/") or any(p in ("..", ".") for p in parts):
        return None
    if report_uri.startswith("s3://"):
        return posixpath.join(posixpath.dirname(report_uri), *parts)
    return str(Path(report_uri).parent.joinpath(*parts))


def read_report_file(uri: str, *, s3_endpoint_url: str | None = None) -> bytes:
    """The bytes of a report file at a local path or an ``s3://`` URI.

    Raises :class:`FileNotFoundError` when there is no such file or object, and
    :class:`~harmonize.errors.PublishError` (transient) when S3 cannot be reached.
    """
    if not uri.startswith("s3://"):
        return Path(uri).read_bytes()
    from harmonize.warehouse.files import S3Files

    bucket, _, key = uri[5:].partition("/")
    store = S3Files(bucket, "", endpoint_url=s3_endpoint_url)
    if not key or not store.exists(key):
        raise FileNotFoundError(uri)
    return store.get_bytes(key)
