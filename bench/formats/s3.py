"""The same append and delete on S3: a moto server (the only mock: a cloud store).

For each format: create the five tables, append one publication, delete one individual;
then the commit-safety checks:

- does moto refuse a second ``PutObject`` with ``If-None-Match: *`` (what delta-rs 1.x
  relies on to commit)?
- Delta: a commit file planted at the next version, then an append from a stale handle:
  is the planted file kept (a conditional put) or overwritten (a plain put)? With and
  without ``AWS_S3_ALLOW_UNSAFE_RENAME``, and with ``AWS_CONDITIONAL_PUT=disabled``;
- both: concurrent appends from several threads, each with its own handle: are all rows
  there, or did a writer fail loudly?
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from formats.base import TableFormat
from formats.data import Publication, rows
from formats.delta import Delta
from formats.iceberg import Iceberg

BUCKET = "bench-tables"
KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
APPENDS = 2  # by each concurrent writer


class Moto:
    """A moto S3 server on a free port, with one bucket."""

    def __enter__(self) -> Moto:
        from moto.server import ThreadedMotoServer

        os.environ.update(KEYS, AWS_DEFAULT_REGION="us-east-1")
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        import boto3

        self.client = boto3.client("s3", endpoint_url=self.endpoint)
        self.client.create_bucket(Bucket=BUCKET)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()

    def delta_options(self, **extra: str) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ALLOW_HTTP": "true",
            "AWS_REGION": "us-east-1",
            **KEYS,
            **extra,
        }

    def iceberg_options(self, prefix: str) -> dict[str, Any]:
        return {
            "warehouse": f"s3://{BUCKET}/{prefix}",
            "catalog_properties": {
                "s3.endpoint": self.endpoint,
                "s3.access-key-id": KEYS["AWS_ACCESS_KEY_ID"],
                "s3.secret-access-key": KEYS["AWS_SECRET_ACCESS_KEY"],
                "s3.region": "us-east-1",
            },
        }

    def objects(self, prefix: str) -> int:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
        return sum(len(page.get("Contents", [])) for page in pages)


def if_none_match(moto: Moto) -> str:
    moto.client.put_object(Bucket=BUCKET, Key="probe", Body=b"1", IfNoneMatch="*")
    try:
        moto.client.put_object(Bucket=BUCKET, Key="probe", Body=b"2", IfNoneMatch="*")
    except Exception as exc:  # botocore ClientError
        return f"refused ({type(exc).__name__}: {str(exc)[:60]}...)"
    return "ACCEPTED: moto ignores If-None-Match"


def lifecycle(fmt: TableFormat, pub: Publication, pid: str) -> dict[str, Any]:
    """Create, append one publication, delete one individual; seconds and row counts."""
    sid = str(pub["individuals"]["submission_id"][0])
    started = time.perf_counter()
    for name, table in pub.items():
        fmt.create(name, table.schema)
    create_s = time.perf_counter() - started
    started = time.perf_counter()
    fmt.publish(pub)
    append_s = time.perf_counter() - started
    started = time.perf_counter()
    for name in pub:
        fmt.delete_individual(name, sid, pid)
    delete_s = time.perf_counter() - started
    got = {name: fmt.read(name).num_rows for name in pub}
    gone = {name: n - got[name] for name, n in rows(pub).items()}
    return {"create_s": create_s, "append_s": append_s, "delete_s": delete_s, "removed": gone}


def concurrent(
    make: Callable[[], TableFormat], name: str, table: Any, writers: int
) -> tuple[int, list[str]]:
    """``writers`` threads append APPENDS times each, own handles; rows seen after, errors."""
    errors: list[str] = []

    def work() -> None:
        try:
            fmt = make()
            fmt.reopen(name)
            for _ in range(APPENDS):
                fmt.append(name, table)
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {str(exc)[:80]}")

    threads = [threading.Thread(target=work) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    check = make()
    check.reopen(name)
    return check.read(name).num_rows, errors


def planted_commit(moto: Moto, prefix: str, table: Any, **extra: str) -> str:
    """Plant the next Delta commit file, append from a stale handle: kept or overwritten?"""
    from deltalake import DeltaTable, write_deltalake

    options = moto.delta_options(**extra)
    uri = f"s3://{BUCKET}/{prefix}"
    try:
        DeltaTable.create(
            uri, table.schema, partition_by=["submission_id"], storage_options=options
        )
        stale = DeltaTable(uri, storage_options=options)
        marker = json.dumps({"commitInfo": {"timestamp": 1, "operation": "PLANTED"}}) + "\n"
        key = f"{prefix}/_delta_log/{1:020d}.json"
        moto.client.put_object(Bucket=BUCKET, Key=key, Body=marker.encode())
        write_deltalake(stale, table, mode="append")
        body = moto.client.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()
        version = DeltaTable(uri, storage_options=options).version()
    except Exception as exc:
        return f"fails: {type(exc).__name__}: {str(exc).strip()[:110]}"
    kept = (
        "planted commit kept, append landed at" if body == marker else "planted commit OVERWRITTEN;"
    )
    return f"{kept} version {version}"


def run(pub: Publication, pid: str, writers: int) -> dict[str, Any]:
    out: dict[str, Any] = {"writers": writers, "appends": APPENDS, "tables": list(pub)}
    small = pub["individuals"]
    with Moto() as moto:
        out["if_none_match"] = if_none_match(moto)
        delta = Delta(f"s3://{BUCKET}/delta", storage_options=moto.delta_options())
        out["delta"] = lifecycle(delta, pub, pid)
        out["delta"]["objects"] = moto.objects("delta/")
        n, errors = concurrent(
            lambda: Delta(f"s3://{BUCKET}/delta", storage_options=moto.delta_options()),
            "individuals",
            small,
            writers,
        )
        out["delta"]["concurrent"] = {"rows": n, "errors": errors}
        out["delta"]["planted"] = {
            "default": planted_commit(moto, "plant-default", small),
            "AWS_S3_ALLOW_UNSAFE_RENAME=true": planted_commit(
                moto, "plant-unsafe", small, AWS_S3_ALLOW_UNSAFE_RENAME="true"
            ),
            "AWS_CONDITIONAL_PUT=disabled": planted_commit(
                moto, "plant-disabled", small, AWS_CONDITIONAL_PUT="disabled"
            ),
        }
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            options = moto.iceberg_options("iceberg")
            ice = Iceberg(root, **options)
            out["iceberg"] = lifecycle(ice, pub, pid)
            out["iceberg"]["objects"] = moto.objects("iceberg/")
            n, errors = concurrent(lambda: Iceberg(root, **options), "individuals", small, writers)
            out["iceberg"]["concurrent"] = {"rows": n, "errors": errors}
    base = small.num_rows - 1  # after the deletion
    out["concurrent_expected"] = base + writers * APPENDS * small.num_rows
    return out
