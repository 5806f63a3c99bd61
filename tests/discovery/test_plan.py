"""The compiled plan on hand-made tables: coordinates from hgvs.g, variant counts per dataset."""

from __future__ import annotations

import duckdb
import pytest

from harmonize.discovery.beacon.catalog import index
from harmonize.discovery.beacon.errors import BeaconRequestError
from harmonize.discovery.beacon.filters import DAYS_MACRO, Terms
from harmonize.discovery.beacon.plan import compile_query
from harmonize.discovery.beacon.request import from_get


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(DAYS_MACRO)
    con.execute(
        "CREATE TABLE individuals AS SELECT * FROM (VALUES "
        "('s', 'a', 'd1', 'FEMALE', 'P3Y', 1, NULL::VARCHAR[]), "
        "('s', 'b', 'd1', 'MALE', 'P36M', 1, NULL), ('s', 'c', 'd2', 'MALE', 'P2Y11M', 1, NULL)) "
        "t(submission_id, phenopacket_id, dataset, sex, age_at_last_encounter, "
        "submission_version, consent)"
    )
    con.execute(
        "CREATE TABLE variants AS SELECT * FROM (VALUES "
        "('s', 'a', NULL::VARCHAR, 'HGNC:1', 'G1', 'NC_000006.12:g.98875673G>A', 'hgvs.g', "
        "NULL::VARCHAR), "
        "('s', 'b', NULL, 'HGNC:1', 'G1', 'NC_000006.12:g.98875673G>A', 'hgvs.g', NULL), "
        "('s', 'c', NULL, 'HGNC:2', 'G2', 'NC_000023.11:g.100C>T', 'hgvs.g', NULL), "
        "('s', 'c', NULL, 'HGNC:1', 'G1', 'NM_1.1:c.5A>G', 'hgvs.c', NULL)) "
        "t(submission_id, phenopacket_id, variant_id, gene_id, gene_symbol, hgvs, hgvs_syntax, "
        "description)"
    )
    for column, kind in (("vcf_chrom", "VARCHAR"), ("vcf_pos", "BIGINT"), ("vcf_ref", "VARCHAR")):
        con.execute(f"ALTER TABLE variants ADD COLUMN {column} {kind}")
    con.execute("ALTER TABLE variants ADD COLUMN vcf_alt VARCHAR")
    # one variant known only by its VCF record (chrM, 1-based position 3243)
    con.execute(
        "INSERT INTO variants VALUES ('s', 'b', 'v9', 'HGNC:7', 'MT-TL1', NULL, NULL, NULL, "
        "'chrM', 3243, 'A', 'G')"
    )
    con.execute(
        "CREATE TABLE phenotypic_features (submission_id VARCHAR, phenopacket_id VARCHAR, "
        "term_id VARCHAR, excluded BOOLEAN)"
    )
    con.execute("CREATE TABLE diseases AS SELECT * FROM phenotypic_features")
    index(con)
    return con


def _counts(con: duckdb.DuckDBPyConnection, params: dict[str, str]) -> dict[str, int]:
    plan = compile_query(
        from_get("g_variants", params),
        Terms(lambda _: True),
        datasets=["d1", "d2"],
        max_filters=10,
    )
    return dict(con.execute(plan.counts, plan.count_params).fetchall())


def test_coordinates_match_hgvs_g_positions(con: duckdb.DuckDBPyConnection) -> None:
    # Beacon start is 0-based: position 98875673 is start 98875672
    assert _counts(con, {"referenceName": "6", "start": "98875672"}) == {"d1": 1}
    assert _counts(con, {"referenceName": "chr6", "start": "98875600", "end": "98875700"}) == {
        "d1": 1
    }
    assert _counts(con, {"referenceName": "NC_000006.12", "start": "98875673"}) == {}
    assert _counts(con, {"referenceName": "X", "start": "99"}) == {"d2": 1}
    # a VCF record: 1-based position 3243 on chrM is start 3242 on MT (or M, chrM)
    for name in ("MT", "M", "chrM"):
        assert _counts(con, {"referenceName": name, "start": "3242"}) == {"d1": 1}
    assert _counts(con, {"referenceName": "MT", "start": "3243"}) == {}
    bases = {"referenceName": "MT", "start": "3000", "end": "4000", "referenceBases": "a"}
    assert _counts(con, {**bases, "alternateBases": "G"}) == {"d1": 1}
    assert _counts(con, {**bases, "alternateBases": "T"}) == {}
    with pytest.raises(BeaconRequestError, match="both referenceName and start"):
        _counts(con, {"start": "5"})
    with pytest.raises(BeaconRequestError, match="not a chromosome"):
        _counts(con, {"referenceName": "chr99", "start": "5"})


def test_gene_counts_distinct_variants_and_filters_apply_to_carriers(
    con: duckdb.DuckDBPyConnection,
) -> None:
    assert _counts(con, {"geneId": "G1"}) == {"d1": 1, "d2": 1}
    assert _counts(con, {"geneId": "HGNC:1", "filters": "NCIT:C16576"}) == {"d1": 1}
    # P36M equals P3Y; P2Y11M is younger
    assert _counts(con, {"geneId": "G1", "filters": "age:>=P3Y"}) == {"d1": 1}
    assert _counts(con, {"filters": "age:<P3Y"}) == {"d2": 2}


def test_consents_limit_the_individuals(con: duckdb.DuckDBPyConnection) -> None:
    """Records are limited per individual: only consent lists that permit the use match."""
    con.execute(
        "UPDATE individuals SET consent = CASE phenopacket_id WHEN 'a' THEN ['DUO:0000007'] "
        "WHEN 'b' THEN ['DUO:0000006', 'DUO:0000021'] END"
    )
    index(con)
    query = from_get("individuals", {})
    terms = Terms(lambda _: True)

    def counts(consents: list[str] | None) -> dict[str, int]:
        plan = compile_query(query, terms, datasets=["d1", "d2"], max_filters=10, consents=consents)
        return dict(con.execute(plan.counts, plan.count_params).fetchall())

    assert counts(None) == {"d1": 2, "d2": 1}
    assert counts(["DUO:0000007"]) == {"d1": 1}
    assert counts(["DUO:0000006|DUO:0000021"]) == {"d1": 1}
    assert counts([]) == {}  # c has no consent at all: never matched
