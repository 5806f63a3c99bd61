"""``harmonize tables export --use``: the rows whose individual's consent permits a use."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from harmonize.cli import app
from harmonize.consent import DataUse
from harmonize.consent.export import export
from harmonize.drs.registry import Registry
from harmonize.settings import Settings
from harmonize.warehouse import Warehouse, current, view_at
from tests.support.warehouse import publish_rows

runner = CliRunner()
CODES = pa.list_(pa.string())
GRU, HMB, DS, IRB = "DUO:0000042", "DUO:0000006", "DUO:0000007", "DUO:0000021"


def people(ids: list[str], consent: list[list[str] | None]) -> pa.Table:
    return pa.table({"phenopacket_id": ids, "subject_id": ids, "consent": pa.array(consent, CODES)})


def features(ids: list[str]) -> pa.Table:
    return pa.table({"phenopacket_id": ids, "term_id": ["HP:0001250"] * len(ids)})


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Two submissions: ``a`` under HMB with per-row consent, ``b`` under DS (manifest only)."""
    settings = Settings(workspace=tmp_path / "ws")
    publish_rows(
        settings,
        "a",
        {
            "individuals": people(
                ["a1", "a2", "a3", "a4"], [None, [DS], [HMB, IRB], []]
            ),  # a1: the manifest's HMB; a2 narrows to DS; a3 needs IRB; a4 bad code: nothing
            "phenotypic_features": features(["a1", "a1", "a2", "a3", "a4"]),
        },
        consent=[HMB],
    )
    publish_rows(
        settings,
        "b",
        {
            "individuals": people(["a1", "b2"], [None, None]),
            "phenotypic_features": features(["a1"]),
        },
        consent=[DS],
    )
    return settings


def _export(settings: Settings, table: str, use: str, meets: set[str] | None = None) -> pa.Table:
    registry = Registry(settings.registry)
    try:
        return export(
            Warehouse.of(settings), current(registry), table, use, DataUse(), meets or set()
        ).rows
    finally:
        registry.dispose()


def _keys(rows: pa.Table) -> list[tuple[str, str]]:
    return sorted(
        zip(
            rows.column("submission_id").to_pylist(),
            rows.column("phenopacket_id").to_pylist(),
            strict=True,
        )
    )


def test_the_row_consent_replaces_the_manifest_and_modifiers_must_be_met(
    settings: Settings,
) -> None:
    people_rows = _export(settings, "individuals", HMB)
    assert _keys(people_rows) == [("a", "a1")]
    assert people_rows.column("consent").to_pylist() == [[HMB]]  # the manifest's, filled in
    assert _keys(_export(settings, "individuals", HMB, {IRB})) == [("a", "a1"), ("a", "a3")]
    assert _keys(_export(settings, "individuals", DS)) == [("a", "a2"), ("b", "a1"), ("b", "b2")]
    assert _keys(_export(settings, "individuals", GRU)) == []


def test_other_tables_follow_their_individual(settings: Settings) -> None:
    """Rows join on submission_id + phenopacket_id: b's a1 is not a's a1."""
    rows = _export(settings, "phenotypic_features", HMB)
    assert _keys(rows) == [("a", "a1"), ("a", "a1")]
    assert _keys(_export(settings, "phenotypic_features", DS)) == [("a", "a2"), ("b", "a1")]
    assert _export(settings, "measurements", DS).num_rows == 0


def test_as_of_an_earlier_publication(settings: Settings) -> None:
    publish_rows(settings, "a", {"individuals": people(["a1"], [[GRU]])}, version=2, consent=[HMB])
    registry = Registry(settings.registry)
    try:
        first = view_at(registry, 1)
        then = export(Warehouse.of(settings), first, "individuals", HMB, DataUse()).rows
        now = export(Warehouse.of(settings), current(registry), "individuals", HMB, DataUse()).rows
    finally:
        registry.dispose()
    assert _keys(then) == [("a", "a1")]
    assert _keys(now) == []  # version 2 gives a1 GRU, which covers HMB only with a DUO release


def _cli(settings: Settings, *args: str) -> object:
    return runner.invoke(app, ["tables", "export", "-w", str(settings.workspace), *args])


def test_cli_prints_json_lines_and_writes_parquet(settings: Settings, tmp_path: Path) -> None:
    result = _cli(settings, "--use", DS, "--table", "phenotypic_features")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted((r["submission_id"], r["phenopacket_id"]) for r in lines) == [
        ("a", "a2"),
        ("b", "a1"),
    ]
    assert "2 of 6 rows" in result.stderr
    out = tmp_path / "hmb.parquet"
    result = _cli(settings, "--use", HMB, "--meets", IRB, "--out", str(out), "--as-of", "1")
    assert result.exit_code == 0, result.output
    assert _keys(pq.read_table(out)) == [("a", "a1"), ("a", "a3")]


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--use", "DUO:0000099"], "DUO:0000099"),
        (["--use", IRB], "modifier"),
        (["--use", "GRU"], "GRU"),
        (["--use", HMB, "--meets", GRU], "--meets"),
        (["--use", HMB, "--table", "people"], "--table"),
        (["--use", HMB, "--out", "x.csv"], "--out"),
    ],
)
def test_cli_usage_errors_exit_2_and_name_the_value(
    settings: Settings, args: list[str], named: str
) -> None:
    result = _cli(settings, *args)
    assert result.exit_code == 2, result.output
    assert named in result.output
