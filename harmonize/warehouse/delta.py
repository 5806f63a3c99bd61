"""The published tables as Delta Lake tables (``deltalake``): the only module that knows the format.

Each of the seven tables (``TABLES``) is one Delta table under ``published/tables/<name>``, partitioned
by ``submission_id``. A publication changes a table in one Delta commit:

- a new version of a submission replaces that submission's partition: its data files
  are written batch by batch (pyarrow), then one ``create_write_transaction`` adds them
  and removes the partition's old files (``mode="overwrite"`` on the partition);
- a withdrawal deletes one individual's rows (``DeltaTable.delete``), rewriting only the
  files of its submission's partition.

Every commit carries the publication's sequence number as a Delta *app transaction*
(``harmonize``), so a commit repeated after a crash is recognised and skipped. Time travel
is by Delta version; the registry records which version of each table a publication made
(see :mod:`harmonize.warehouse.publication`). History is kept (log retention ~100 years)
until :func:`erase` expires it: vacuum, checkpoint and log cleanup with zero retention,
which removes every file and log entry that still holds deleted rows.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import quote

import pyarrow as pa
import pyarrow.compute as pc

from harmonize.errors import PublishError, TransientError
from harmonize.mapping import tables as mapped
from harmonize.warehouse.files import FileStore, S3Files

APP_ID = "harmonize"
PARTITION = "submission_id"
TABLES = mapped.TABLES
# the columns every published row carries besides the mapped ones
LIFECYCLE = [
    pa.field("submission_id", pa.string(), nullable=False),
    pa.field("submission_version", pa.int32()),
    pa.field("dataset", pa.string()),
]
CONSENT = pa.field("consent", pa.list_(pa.string()))  # individuals: DUO codes that apply
KEEP_HISTORY = {
    "delta.logRetentionDuration": "interval 36500 days",
    "delta.deletedFileRetentionDuration": "interval 36500 days",
}
# no per-file min/max statistics: with them every commit and every open parses them for
# every file, so a commit's cost grows with the submissions published (bench/table_formats.py:
# a withdrawal 6.6x slower at 1,000 publications than at 10; without, 1.4x); submissions
# are found by partition, not by statistics
CREATE = {**KEEP_HISTORY, "delta.dataSkippingNumIndexedCols": "0"}
# a new data file past this many bytes (compressed), as delta-rs's default target file size
TARGET_FILE_BYTES = 100 * 1024 * 1024
# rows per row group of a data file: the rows written at a time (a few MB for most tables)
ROW_GROUP_ROWS = 65_536
FORGET_HISTORY = {
    "delta.logRetentionDuration": "interval 0 seconds",
    "delta.deletedFileRetentionDuration": "interval 0 seconds",
}


def schema(name: str) -> pa.Schema:
    """The schema of a published table: lifecycle columns, consent (individuals), mapped columns."""
    extra = [CONSENT] if name == "individuals" else []
    columns = [f for f in mapped.SCHEMAS[name] if f.name != CONSENT.name]  # a row's own consent
    return pa.schema([*LIFECYCLE, *extra, *columns])


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def submission_predicate(submission_id: str) -> str:
    return f"{PARTITION} = {_quote(submission_id)}"


Where = Mapping[str, str | Iterable[str]]  # column: a value, or any of these values


def _values(value: str | Iterable[str]) -> list[str]:
    return [value] if isinstance(value, str) else sorted(set(value))


def rows_predicate(rows: Mapping[str, Iterable[str]]) -> str:
    """Rows of some individuals (phenopacket ids), per submission."""
    clauses = []
    for submission_id, phenopacket_ids in sorted(rows.items()):
        ids = ", ".join(_quote(i) for i in sorted(set(phenopacket_ids)))
        clauses.append(f"({submission_predicate(submission_id)} AND phenopacket_id IN ({ids}))")
    return " OR ".join(clauses)


def partition_folder(submission_id: str) -> str:
    """A submission's partition folder, escaped as delta-rs escapes it (``%XX``).

    >>> partition_folder("s1"), partition_folder("a b/c")
    ('submission_id=s1', 'submission_id=a%20b%2Fc')
    """
    return f"{PARTITION}={quote(submission_id, safe='')}"


def _finish(
    writer: Any, sink: Any, path: str, submission_id: str, rows: int, add_action: Any
) -> Any:
    """Close a data file; its add action (delta-rs URI-encodes the path in the log)."""
    writer.close()
    size = int(sink.tell())
    sink.close()
    return add_action(
        path=path,
        size=size,
        partition_values={PARTITION: submission_id},
        modification_time=int(time.time() * 1000),
        data_change=True,
        stats=json.dumps({"numRecords": rows, "minValues": {}, "maxValues": {}, "nullCount": {}}),
    )


def _row_groups(data: pa.RecordBatchReader, name: str, submission_id: str) -> Iterator[pa.Table]:
    """``data``'s batches gathered into row groups of ``ROW_GROUP_ROWS`` (the last may be
    smaller), without the partition column, which must hold ``submission_id``."""
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in data:
        others = pc.invert(pc.equal(batch.column(PARTITION), submission_id))
        if pc.any(pc.fill_null(others, True)).as_py():
            raise PublishError(
                f"rows of another submission among the rows of {submission_id} for table {name}"
            )
        if batch.num_rows:
            pending.append(batch.drop_columns([PARTITION]))
            count += batch.num_rows
        if count >= ROW_GROUP_ROWS:
            yield pa.Table.from_batches(pending)
            pending, count = [], 0
    if count:
        yield pa.Table.from_batches(pending)


def _merged_schema(current: Any, data: pa.Schema) -> Any:
    """The table's schema with the columns of ``data`` it lacks added (a table published
    before a column was added gains it), as ``schema_mode="merge"`` did."""
    from deltalake import Schema

    have = {f.name for f in current.fields}
    missing = [f for f in data if f.name not in have]
    if not missing:
        return current
    return Schema([*current.fields, *Schema.from_arrow(pa.schema(missing)).fields])


class DeltaWarehouse:
    """The Delta tables of a warehouse (a local workspace or an S3 prefix)."""

    def __init__(self, files: FileStore, storage_options: dict[str, str] | None = None) -> None:
        self.files = files
        self.storage_options = storage_options or {}
        self._latest: dict[str, Any] = {}  # name -> DeltaTable at its latest version
        self._s3: Any = None  # Arrow's S3 file system, made on the first S3 scan

    def uri(self, name: str) -> str:
        if name not in TABLES:
            raise PublishError(f"no published table named {name!r}", hint=f"use one of {TABLES}")
        return self.files.uri(f"published/tables/{name}")

    def _open(self, name: str, version: int | None = None) -> Any:
        """The table at ``version`` (latest when None). Opening replays the log, which costs
        more with every file in the table, so each table is opened once per instance and
        brought up to date (incrementally) when its latest state is asked for again."""
        from deltalake import DeltaTable

        cached = self._latest.get(name)
        if cached is None:
            cached = self._latest[name] = DeltaTable(
                self.uri(name), storage_options=self.storage_options
            )
        else:
            cached.update_incremental()
        if version is None or version == cached.version():
            return cached
        return DeltaTable(self.uri(name), version=version, storage_options=self.storage_options)

    def exists(self, name: str) -> bool:
        from deltalake import DeltaTable

        return bool(DeltaTable.is_deltatable(self.uri(name), storage_options=self.storage_options))

    def ensure(self, name: str) -> None:
        """Create the table (empty, partitioned by submission) if it does not exist yet."""
        if self.exists(name):
            return
        from deltalake import DeltaTable

        try:
            DeltaTable.create(
                self.uri(name),
                schema(name),
                partition_by=[PARTITION],
                mode="ignore",
                name=name,
                configuration=CREATE,
                storage_options=self.storage_options,
            )
        except OSError as exc:
            raise TransientError(f"creating table {name} failed: {exc}") from exc

    def version(self, name: str) -> int:
        return int(self._open(name).version())

    def applied(self, name: str) -> int:
        """The highest publication number committed to this table (0 if none)."""
        if not self.exists(name):
            return 0
        return int(self._open(name).transaction_version(APP_ID) or 0)

    @staticmethod
    def _writer() -> Any:
        from deltalake import WriterProperties

        return WriterProperties(compression="ZSTD")

    def _commit(self, seq: int, operation: str) -> Any:
        from deltalake import CommitProperties, Transaction

        return CommitProperties(
            app_transactions=[Transaction(app_id=APP_ID, version=seq)],
            custom_metadata={"harmonize.publication": str(seq), "harmonize.operation": operation},
        )

    def replace_submission(
        self, name: str, submission_id: str, data: pa.RecordBatchReader, *, seq: int
    ) -> int:
        """One commit: the submission's rows become ``data`` (none when it is empty).

        The data files are written here, batch by batch (:meth:`_write_files`), and then
        committed in one Delta transaction that adds them and removes the partition's old
        files. ``write_deltalake`` held most of what it wrote: a fresh process's RSS rose by
        820 MB for the 9.5M phenotypic-feature rows of 1M individuals, by 126 MB this way.
        A crash before the commit leaves only data files no version references, as a crash in
        ``write_deltalake`` did.
        """
        self.ensure(name)
        table = self._open(name)
        if (table.transaction_version(APP_ID) or 0) >= seq:
            return int(table.version())  # committed before a crash
        try:
            added = self._write_files(name, submission_id, data)
            table.create_write_transaction(
                added,
                mode="overwrite",
                schema=_merged_schema(table.schema(), data.schema),
                partition_by=[PARTITION],
                partition_filters=[(PARTITION, "=", submission_id)],
                commit_properties=self._commit(seq, "publish"),
            )
        except OSError as exc:
            raise TransientError(f"committing table {name} failed: {exc}") from exc
        table.update_incremental()
        return int(table.version())

    def _write_files(self, name: str, submission_id: str, data: pa.RecordBatchReader) -> list[Any]:
        """Write ``data`` (rows of one submission) as Parquet data files in the submission's
        partition of table ``name``, one batch at a time, starting a new file past
        ``TARGET_FILE_BYTES``. Returns the Delta add actions that commit them."""
        import pyarrow.parquet as pq
        from deltalake.transaction import AddAction

        fs = self.scan_filesystem(name)
        folder = partition_folder(submission_id)
        if not isinstance(self.files, S3Files):
            fs.create_dir(folder, recursive=True)  # (on S3 a folder is no object)
        file_schema = pa.schema([f for f in data.schema if f.name != PARTITION])
        added: list[Any] = []
        sink: Any = None
        writer: pq.ParquetWriter | None = None
        path, rows = "", 0
        try:
            for group in _row_groups(data, name, submission_id):
                if writer is None:
                    path = f"{folder}/part-{uuid.uuid4()}.zstd.parquet"
                    sink = fs.open_output_stream(path)
                    writer = pq.ParquetWriter(sink, file_schema, compression="zstd")
                    rows = 0
                writer.write_table(group, row_group_size=group.num_rows)
                rows += group.num_rows
                if sink.tell() >= TARGET_FILE_BYTES:
                    added.append(_finish(writer, sink, path, submission_id, rows, AddAction))
                    writer = sink = None
            if writer is not None:
                added.append(_finish(writer, sink, path, submission_id, rows, AddAction))
                writer = sink = None
        finally:
            if writer is not None:  # an error half way: the file stays unreferenced
                writer.close()
                sink.close()
        return added

    def append(self, name: str, data: pa.RecordBatchReader, *, seq: int) -> int:
        """One commit adding rows (of submissions not in the table yet: a bulk load)."""
        from deltalake import write_deltalake

        self.ensure(name)
        table = self._open(name)
        if (table.transaction_version(APP_ID) or 0) >= seq:
            return int(table.version())
        write_deltalake(
            table,
            data,
            mode="append",
            partition_by=[PARTITION],
            schema_mode="merge",
            writer_properties=self._writer(),
            commit_properties=self._commit(seq, "append"),
            storage_options=self.storage_options,
        )
        table.update_incremental()
        return int(table.version())

    def delete_rows(self, name: str, rows: Mapping[str, Iterable[str]], *, seq: int) -> int:
        """One commit: delete the rows of these individuals (phenopacket ids per submission)."""
        self.ensure(name)
        table = self._open(name)
        if (table.transaction_version(APP_ID) or 0) >= seq:
            return int(table.version())
        try:
            table.delete(
                rows_predicate(rows),
                writer_properties=self._writer(),
                commit_properties=self._commit(seq, "withdraw"),
            )
        except OSError as exc:
            raise TransientError(f"deleting rows of table {name} failed: {exc}") from exc
        return int(table.version())

    def read(
        self,
        name: str,
        version: int | None = None,
        *,
        columns: list[str] | None = None,
        where: Where | None = None,
    ) -> pa.Table:
        """The table at a Delta version (the latest when None): the rows whose columns hold
        the values ``where`` gives (a value, or any of a collection), ANDed.

        The submission id prunes partitions; other columns are matched after the scan, on
        the table's own types: a Delta delete rewrites files with ``string_view`` columns,
        which a scan filter on ``string`` cannot compare (Arrow has no such kernel).
        """
        wanted = schema(name).empty_table() if not self.exists(name) else None
        conditions = {k: _values(v) for k, v in (where or {}).items()}
        partitions = conditions.pop(PARTITION, None)
        if wanted is None and partitions == []:
            wanted = schema(name).empty_table()
        if wanted is None:
            needed = None if columns is None else list(dict.fromkeys([*columns, *conditions]))
            wanted = self._open(name, version).to_pyarrow_table(
                columns=needed,
                partitions=[(PARTITION, "in", partitions)] if partitions is not None else None,
                filesystem=self.scan_filesystem(name),
            )
        for column, values in conditions.items():
            wanted = wanted.filter(pc.is_in(wanted[column], value_set=pa.array(values)))
        return wanted.select(columns) if columns is not None else wanted

    def dataset(
        self, name: str, version: int | None = None, *, submissions: Iterable[str] | None = None
    ) -> Any:
        """A ``pyarrow.dataset`` over the table at a version, for streaming scans; with
        ``submissions``, made of those submissions' files only (never empty: pass some)."""
        partitions = None
        if submissions is not None:
            partitions = [(PARTITION, "in", sorted(set(submissions)))]
        return self._open(name, version).to_pyarrow_dataset(
            partitions=partitions, filesystem=self.scan_filesystem(name)
        )

    def scan_filesystem(self, name: str) -> Any:
        """Arrow's own file system over a table's files: local, or S3 (:func:`arrow_s3`).

        deltalake's default hands Arrow's reader threads a Python file system over its Rust
        store; a process that exits after such a scan aborts now and then ("terminate
        called without an active exception", delta-io/delta-rs#2184): 2 in 20 runs of
        ``harmonize tables show``, none with Arrow's own file systems.
        """
        import pyarrow.fs as pafs

        if isinstance(self.files, S3Files):
            if self._s3 is None:
                self._s3 = arrow_s3(self.files.endpoint_url)
            return pafs.SubTreeFileSystem(
                f"{self.files.bucket}/{self.files.key(f'published/tables/{name}')}", self._s3
            )
        return pafs.SubTreeFileSystem(self.uri(name), pafs.LocalFileSystem())

    def erase(self, name: str) -> list[str]:
        """Forget history: remove every file and log entry the current version does not need.

        Afterwards no deleted row survives anywhere under the table, and time travel to
        versions before now is gone. Returns the data files removed.
        """
        if not self.exists(name):
            return []
        from deltalake import DeltaTable

        self._latest.pop(name, None)
        table = self._open(name)
        self._latest.pop(name, None)  # the log is rewritten below: open afresh next time
        table.alter.set_table_properties(FORGET_HISTORY, raise_if_not_exists=False)
        removed: list[str] = table.vacuum(
            retention_hours=0, dry_run=False, enforce_retention_duration=False
        )
        table = DeltaTable(self.uri(name), storage_options=self.storage_options)
        table.create_checkpoint()
        table.cleanup_metadata()
        # history is kept again from here on; this commit holds properties, no data
        table.alter.set_table_properties(KEEP_HISTORY, raise_if_not_exists=False)
        return removed

    def oldest_version(self, name: str) -> int:
        """The oldest Delta version still readable (after an erasure, the erasure's)."""
        history = self._open(name).history()
        return int(min(h["version"] for h in history)) if history else 0


def arrow_s3(endpoint_url: str | None) -> Any:
    """Arrow's S3 file system with boto3's credentials and region (the ones every other S3
    call of Harmonize uses), at ``endpoint_url`` when one is configured."""
    import boto3
    import pyarrow.fs as pafs

    session = boto3.session.Session()
    options: dict[str, Any] = {"region": session.region_name or "us-east-1"}
    credentials = session.get_credentials()
    if credentials is not None:
        frozen = credentials.get_frozen_credentials()
        options.update(
            access_key=frozen.access_key, secret_key=frozen.secret_key, session_token=frozen.token
        )
    if endpoint_url:
        scheme, _, host = endpoint_url.partition("://")
        options.update(endpoint_override=host.rstrip("/"), scheme=scheme)
    return pafs.S3FileSystem(**options)
