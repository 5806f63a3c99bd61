"""A 2,000-individual synthetic ingest publishes the same bytes as before the memory work.

``tests/data/golden/synth-2000.json`` holds, for the ``bench/synth.py`` submission of 2,000
individuals (seed 0) ingested in batches of 700 rows, the sha-256 of every published
Phenopacket file (its ``metaData.created`` time set to a fixed value; nothing else is
touched) and of every published table's rows (in order, as orjson writes them). It was
written on main before issue #14's memory changes (documents built and written in slices,
compact seen ids), so building the documents in slices, or anything else, must not change
one byte of the output.

Regenerate (only when the output is meant to change):
``HARMONIZE_WRITE_GOLDEN=1 .venv/bin/pytest tests/pipeline/test_same_output.py``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from harmonize.pipeline import ingest
from harmonize.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests/data/golden/synth-2000.json"
sys.path.insert(0, str(ROOT / "bench"))
from synth import write_submission  # noqa: E402

_CREATED = re.compile(rb'"created": "[^"]*"')


def digests(workspace: Path, sid: str) -> dict[str, Any]:
    """The sha-256 of each published Phenopacket (created time fixed) and table's rows."""
    from harmonize.warehouse import Warehouse
    from harmonize.warehouse.delta import PARTITION, TABLES

    settings = Settings(workspace=workspace)
    tables: dict[str, str] = {}
    for name in TABLES:
        table = Warehouse.of(settings).tables.read(name, where={PARTITION: sid})
        if table.num_rows:
            rows = table.drop_columns([PARTITION]).to_pylist()
            tables[name] = hashlib.sha256(orjson.dumps(rows, default=str)).hexdigest()
    folder = workspace / "published" / "phenopackets" / sid
    (version,) = [p for p in folder.iterdir() if p.is_dir()]
    files = {}
    for path in sorted(version.iterdir()):
        data = _CREATED.sub(b'"created": "2000-01-01T00:00:00.000000Z"', path.read_bytes())
        files[path.name] = hashlib.sha256(data).hexdigest()
    return {"tables": tables, "phenopackets": files}


def test_same_output_as_before(tmp_path: Path, ontology_cache: Path) -> None:
    source = tmp_path / "synth"
    write_submission(source, 2_000, seed=0)
    workspace = tmp_path / "ws"
    shutil.copytree(ontology_cache, workspace / "cache", dirs_exist_ok=True)
    settings = Settings(workspace=workspace, batch_size=700, run_great_expectations=False)
    result = ingest(source, settings)
    assert result.status == "published", result.message
    got = digests(workspace, result.submission_id)
    assert len(got["phenopackets"]) == 2_000
    if os.environ.get("HARMONIZE_WRITE_GOLDEN"):
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
        pytest.skip("golden written")
    want = json.loads(GOLDEN.read_text())
    assert got["tables"] == want["tables"]
    differ = [n for n, h in got["phenopackets"].items() if want["phenopackets"].get(n) != h]
    assert not differ and got["phenopackets"].keys() == want["phenopackets"].keys(), differ[:5]
