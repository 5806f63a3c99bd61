"""The warehouse: the published tables (Delta Lake), the published files, and what a reader sees.

Everything published lives under one root that mirrors the workspace layout: the
workspace itself by default, or ``s3://bucket/prefix`` (``Settings.warehouse_url``,
``HARMONIZE_WAREHOUSE``)::

    published/tables/<table>/                     Delta tables, partitioned by submission_id
    published/phenopackets/<submission>/v<N>/     one Phenopacket JSON per individual
    published/inputs/<submission>/v<N>/           the accepted input files (and the mapping)
    published/reports/<submission>/v<N>/          the quality report

A change (a publication, a new version, a withdrawal) commits each table once, then the
registry records the Delta version of every table in the same transaction that registers
the DRS objects (:mod:`harmonize.warehouse.ledger`). A :class:`View` pins one such
publication; every read goes through one, so a reader never mixes two publications.
Only :mod:`harmonize.warehouse.delta` knows the table format.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from harmonize.settings import Settings
from harmonize.warehouse.delta import TABLES, DeltaWarehouse
from harmonize.warehouse.files import LocalFiles, S3Files, open_files

__all__ = ["TABLES", "View", "Warehouse", "as_of", "current", "view_at"]


@dataclass(frozen=True)
class View:
    """The tables as one committed publication left them."""

    seq: int  # 0: nothing published yet
    committed_time: datetime | None
    table_versions: dict[str, int] = field(default_factory=dict)


class Warehouse:
    """The published tables and files of one workspace or S3 prefix."""

    def __init__(self, files: LocalFiles | S3Files, storage_options: dict[str, str]) -> None:
        self.files = files
        self.tables = DeltaWarehouse(files, storage_options)

    @classmethod
    def of(cls, settings: Settings) -> Warehouse:
        root = settings.warehouse_url or str(settings.workspace)
        files = open_files(root, s3_endpoint_url=settings.s3_endpoint_url)
        options: dict[str, str] = {}
        if isinstance(files, S3Files) and settings.s3_endpoint_url:
            options["AWS_ENDPOINT_URL"] = settings.s3_endpoint_url
            if settings.s3_endpoint_url.startswith("http://"):
                options["AWS_ALLOW_HTTP"] = "true"
        return cls(files, options)

    def read(
        self,
        name: str,
        view: View,
        *,
        columns: list[str] | None = None,
        where: Mapping[str, str | Iterable[str]] | None = None,
    ) -> pa.Table:
        """Table ``name`` as ``view`` sees it (empty if the view's publication had none),
        the rows matching ``where`` only (see :meth:`DeltaTables.read`)."""
        from harmonize.warehouse.delta import schema

        version = view.table_versions.get(name)
        if version is None:
            table = schema(name).empty_table()
            return table.select(columns) if columns else table
        try:
            return self.tables.read(name, version, columns=columns, where=where)
        except Exception as exc:
            from deltalake.exceptions import DeltaError

            from harmonize.errors import ConfigurationError

            if not isinstance(exc, DeltaError) or version >= self.tables.oldest_version(name):
                raise
            raise ConfigurationError(
                f"publication {view.seq}'s version of table {name} was expired by an erasure",
                hint="an erasure removes the history that held withdrawn rows; read a "
                "later publication",
            ) from exc


def _view(row: Any) -> View:
    if row is None:
        return View(0, None, {})
    return View(row.seq, row.committed_time, dict(row.table_versions or {}))


def current(registry: Any) -> View:
    """What readers see now: the newest committed publication."""
    from harmonize.warehouse import ledger

    with registry.session() as session:
        return _view(ledger.latest(session))


def view_at(registry: Any, seq: int) -> View:
    """The tables as publication ``seq`` left them."""
    from harmonize.warehouse import ledger

    with registry.session() as session:
        return _view(ledger.at(session, seq))


def as_of(registry: Any, when: str) -> View:
    """The tables as publication ``when`` (a number) or the time ``when`` (ISO 8601) left them.

    Raises :class:`~harmonize.errors.ConfigurationError` for a point before the first
    publication, or a value that is neither.
    """
    from harmonize.errors import ConfigurationError
    from harmonize.warehouse import ledger

    with registry.session() as session:
        if when.strip().isdigit():
            row = ledger.at(session, int(when))
            what = f"publication {when}"
        else:
            try:
                moment = datetime.fromisoformat(when.strip())
            except ValueError as exc:
                raise ConfigurationError(
                    f"--as-of {when!r} is neither a publication number nor a time",
                    hint="give a number from `harmonize tables log`, or an ISO 8601 time "
                    "such as 2026-12-07T10:00:00Z",
                ) from exc
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            row = ledger.at_time(session, moment)
            what = moment.isoformat()
        if row is None:
            first = ledger.first(session)
            hint = (
                f"the first publication is number {first.seq}, committed {first.committed_time}"
                if first is not None
                else "nothing is published yet"
            )
            raise ConfigurationError(f"nothing was published at or before {what}", hint=hint)
        return _view(row)
