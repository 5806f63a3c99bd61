"""A workspace published before the table format migrates into Delta tables without losing a row."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from harmonize.cli import app
from harmonize.drs.ids import bundle_id, drs_id
from harmonize.drs.registry import Registry
from harmonize.drs.specs import BundleSpec, ObjectSpec
from harmonize.errors import ConfigurationError
from harmonize.mapping.tables import SCHEMAS
from harmonize.pipeline import ingest
from harmonize.settings import Settings
from harmonize.state.store import StateStore
from harmonize.warehouse import TABLES, Warehouse, current

pytestmark = pytest.mark.integration


def legacy_workspace(source: Settings, dest: Path, sid: str) -> dict[str, int]:
    """``dest`` laid out as Harmonize published ``sid`` before the table format: hive
    Parquet tables whose files were DRS objects, and unversioned Phenopacket folders.
    The rows come from a real publication in ``source``. Returns rows per table."""
    view = current(Registry(source.registry))
    warehouse = Warehouse.of(source)
    registry = Registry(f"sqlite:///{dest / 'registry.sqlite'}")
    registry.create_all()
    manifest_sha = "ab" * 32
    specs, counts = [], {}
    now = datetime.now(UTC)

    def spec(rel: str, data: bytes, role: str) -> ObjectSpec:
        digest = hashlib.sha256(data).hexdigest()
        name = rel.rsplit("/", 1)[1]
        return ObjectSpec(
            id=drs_id(sid, rel, digest),
            name=name,
            path=rel,
            size=len(data),
            sha256=digest,
            mime_type="application/json",
            submission_id=sid,
            dataset="legacy",
            access="public",
            role=role,
            created_time=now,  # type: ignore[arg-type]
        )

    for name in TABLES:
        rows = warehouse.read(name, view)
        rows = rows.filter(pc.equal(rows.column("submission_id"), sid))
        if rows.num_rows == 0:
            continue
        counts[name] = rows.num_rows
        rel = f"published/tables/{name}/submission_id={sid}/part-0.parquet"
        (dest / rel).parent.mkdir(parents=True)
        legacy = [c for c in SCHEMAS[name].names if c != "consent"]  # consent was not kept
        pq.write_table(rows.select(legacy), dest / rel, compression="zstd")
        specs.append(spec(rel, (dest / rel).read_bytes(), "published"))
    for doc in sorted((source.workspace / "published/phenopackets" / sid / "v1").glob("*.json")):
        rel = f"published/phenopackets/{sid}/{doc.name}"
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_bytes(doc.read_bytes())
        specs.append(spec(rel, doc.read_bytes(), "published"))
    bundle = bundle_id(sid, manifest_sha)
    registry.register(
        specs,
        BundleSpec(
            id=bundle,
            name=sid,
            submission_id=sid,
            dataset="legacy",
            access="public",
            member_ids=[s.id for s in specs],
        ),
    )
    StateStore(registry.url).set_status(sid, manifest_sha, "published", bundle_id=bundle)
    return counts


def test_migrate_converts_without_losing_a_row(
    tmp_path: Path, submissions: Path, ontology_cache: Path
) -> None:
    scratch = Settings(
        workspace=tmp_path / "scratch",
        ontology_cache=ontology_cache,
        run_great_expectations=False,
        data_docs=False,
    )
    assert ingest(submissions / "suox-isod", scratch).status == "published"
    ws = tmp_path / "legacy"
    counts = legacy_workspace(scratch, ws, "suox-isod")
    settings = Settings(workspace=ws, ontology_cache=ontology_cache)

    # nothing is published into a workspace that still has the old layout
    with pytest.raises(ConfigurationError, match="tables migrate"):
        ingest(submissions / "fbxl4-phenopackets", settings)

    result = CliRunner().invoke(app, ["tables", "migrate", "-w", str(ws)])
    assert result.exit_code == 0, result.output
    assert "migrated suox-isod as version 1" in result.output
    assert not (ws / "published/tables.pre-delta").exists()

    registry = Registry(settings.registry)
    view = current(registry)
    for name, n in counts.items():
        table = Warehouse.of(settings).read(name, view)
        assert table.num_rows == n, name
        assert set(table.column("submission_version").to_pylist()) == {1}
    # the Phenopackets moved into v1/, and their DRS objects still resolve to the same bytes
    rows = registry.objects_for_submission("suox-isod", include_deleted=True)
    docs = [r for r in rows if r.path and r.path.startswith("published/phenopackets/")]
    assert len(docs) == 35 and all("/v1/" in r.path for r in docs)
    for r in docs[:5]:
        assert hashlib.sha256((ws / r.path).read_bytes()).hexdigest() == r.sha256
    tables = [r for r in rows if r.name.endswith(".parquet")]
    assert tables and all(r.deleted and r.tombstone == "migrated" for r in tables)
    # consent was not kept before the table format: none is recorded, so no export has it
    individuals = Warehouse.of(settings).read("individuals", view)
    assert set(map(tuple, individuals.column("consent").to_pylist())) == {()}
    assert all(r.consent is None for r in rows)
    export = CliRunner().invoke(app, ["tables", "export", "--use", "DUO:0000007", "-w", str(ws)])
    assert export.exit_code == 0, export.output
    assert "0 of 35 rows exported" in export.output

    # running it again does nothing; the same submission again is already published
    again = CliRunner().invoke(app, ["tables", "migrate", "-w", str(ws)])
    assert "nothing to migrate" in again.output
    assert ingest(submissions / "fbxl4-phenopackets", settings).status == "published"
    summary = CliRunner().invoke(app, ["tables", "-w", str(ws)])
    assert "suox-isod v1: 35" in summary.output and "fbxl4-phenopackets v1: 8" in summary.output
    log = CliRunner().invoke(app, ["tables", "log", "-w", str(ws)])
    assert "migrate   suox-isod v1" in log.output


def test_migrate_records_the_consent_the_data_centre_gives(
    tmp_path: Path, submissions: Path, ontology_cache: Path
) -> None:
    """Before the table format no consent was kept: ``--consent`` says what it was, and
    export then finds the migrated rows. A wrong code is a usage error that changes nothing."""
    scratch = Settings(
        workspace=tmp_path / "scratch",
        ontology_cache=ontology_cache,
        run_great_expectations=False,
        data_docs=False,
    )
    assert ingest(submissions / "suox-isod", scratch).status == "published"
    ws = tmp_path / "legacy"
    legacy_workspace(scratch, ws, "suox-isod")
    settings = Settings(workspace=ws, ontology_cache=ontology_cache)
    runner = CliRunner()

    wrong = runner.invoke(app, ["tables", "migrate", "-w", str(ws), "--consent", "DUO:9999999"])
    assert wrong.exit_code == 2 and "DUO:9999999" in wrong.output
    unknown = runner.invoke(
        app, ["tables", "migrate", "-w", str(ws), "--consent", "nope=DUO:0000042"]
    )
    assert unknown.exit_code == 1 and "nope" in unknown.output
    assert (ws / "published/tables/individuals/submission_id=suox-isod").is_dir()  # untouched

    done = runner.invoke(
        app, ["tables", "migrate", "-w", str(ws), "--consent", "suox-isod=DUO:0000007,DUO:0000021"]
    )
    assert done.exit_code == 0, done.output
    assert "migrated suox-isod as version 1 with consent DUO:0000007, DUO:0000021" in done.output
    registry = Registry(settings.registry)
    individuals = Warehouse.of(settings).read("individuals", current(registry))
    assert set(map(tuple, individuals.column("consent").to_pylist())) == {
        ("DUO:0000007", "DUO:0000021")
    }
    rows = registry.objects_for_submission("suox-isod")
    assert rows and all(r.consent == ["DUO:0000007", "DUO:0000021"] for r in rows)
    export = ["tables", "export", "--use", "DUO:0000007", "-w", str(ws)]
    assert "0 of 35 rows exported" in runner.invoke(app, export).output  # IRB not declared met
    met = runner.invoke(app, [*export, "--meets", "DUO:0000021"])
    assert met.exit_code == 0 and "35 of 35 rows exported" in met.output
