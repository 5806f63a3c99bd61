"""g_variants by genomic coordinates from VCF records, on real phenopacket-store Phenopackets.

The FBXL4 Phenopackets (``tests/data/submissions/fbxl4-phenopackets``) carry each variant
as HGVS (``hgvs.c`` first, so the variants table's ``hgvs`` is the transcript form) and as
a ``vcfRecord`` (hg38, chr6, position, ref, alt). A coordinate query finds them by the VCF
record. The expected answers are counted here from the submitted JSON files: distinct
variants (by their first HGVS expression) whose VCF position lies in the queried range.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harmonize.pipeline import ingest
from tests.discovery.kit import API, bearer, client, settings_for

FOLDER = "fbxl4-phenopackets"
DATASET = "phenopacket-store"


def _variants(folder: Path) -> list[dict[str, Any]]:
    found = []
    for path in sorted((folder / "phenopackets").glob("*.json")):
        doc = json.loads(path.read_text())
        for interpretation in doc.get("interpretations", []):
            for gi in interpretation["diagnosis"].get("genomicInterpretations", []):
                vd = gi["variantInterpretation"]["variationDescriptor"]
                hgvs = next(e["value"] for e in vd["expressions"] if e["syntax"] == "hgvs.c")
                found.append({"id": doc["id"], "hgvs": hgvs, **vd["vcfRecord"]})
    return found


@pytest.fixture(scope="module")
def fbxl4(
    tmp_path_factory: pytest.TempPathFactory, submissions: Path, ontology_cache: Path
) -> tuple[Any, Any, list[dict[str, Any]]]:
    settings = settings_for(tmp_path_factory.mktemp("fbxl4") / "workspace", ontology_cache)
    result = ingest(submissions / FOLDER, settings)
    assert result.status == "published", result.message
    return client(settings), settings, _variants(submissions / FOLDER)


def _ask(beacon: Any, params: dict[str, str], granularity: str = "count") -> dict[str, Any]:
    answer = beacon.get(
        f"{API}/g_variants",
        params={**params, "requestedGranularity": granularity, "limit": "100"},
        headers=bearer(DATASET),
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_coordinates_find_variants_by_their_vcf_record(
    fbxl4: tuple[Any, Any, list[dict[str, Any]]], beacon_schemas: Any
) -> None:
    beacon, _, variants = fbxl4
    assert len(variants) >= 9 and all(v["chrom"] == "chr6" for v in variants)
    cases = [
        ({"referenceName": "6", "start": "98875672"}, None),  # one position (0-based start)
        ({"referenceName": "chr6", "start": "98874000", "end": "98876000"}, None),
        ({"referenceName": "NC_000006.12", "start": "98800000", "end": "99000000"}, None),
        ({"referenceName": "6", "start": "98874000", "end": "98876000"}, ("G", "A")),
        ({"referenceName": "7", "start": "98875672"}, None),  # another chromosome
    ]
    nonzero = 0
    for params, bases in cases:
        start = int(params["start"])
        end = int(params.get("end", start + 1))
        chromosome = params["referenceName"]
        expected = {
            v["hgvs"]
            for v in variants
            if chromosome in ("6", "chr6", "NC_000006.12")
            and start < int(v["pos"]) <= end
            and (bases is None or (v["ref"], v["alt"]) == bases)
        }
        asked = dict(params)
        if bases is not None:
            asked.update(referenceBases=bases[0], alternateBases=bases[1])
        count = _ask(beacon, asked)
        beacon_schemas.response(count)
        assert count["responseSummary"]["numTotalResults"] == len(expected), params
        records = _ask(beacon, asked, "record")
        beacon_schemas.response(records)
        found = {
            r["variantInternalId"] for s in records["response"]["resultSets"] for r in s["results"]
        }
        assert found == expected, params
        nonzero += bool(expected)
    assert nonzero == 4


def test_carriers_and_the_published_vcf_record(
    fbxl4: tuple[Any, Any, list[dict[str, Any]]],
) -> None:
    beacon, settings, variants = fbxl4
    carriers = [v for v in variants if v["pos"] == "98875673"]
    assert len(carriers) == 3
    records = _ask(beacon, {"referenceName": "6", "start": "98875672"}, "record")
    (record,) = [r for s in records["response"]["resultSets"] for r in s["results"]]
    assert record["info"]["carriers"] == len(carriers)
    # the published Phenopackets keep the VCF record they were submitted with
    submitted = {(v["id"], v["pos"], v["ref"], v["alt"]) for v in variants}
    published = set()
    for path in (settings.workspace / "published" / "phenopackets").rglob("*.json"):
        doc = json.loads(path.read_text())
        for interpretation in doc.get("interpretations", []):
            for gi in interpretation["diagnosis"].get("genomicInterpretations", []):
                vcf = gi["variantInterpretation"]["variationDescriptor"]["vcfRecord"]
                assert vcf["genomeAssembly"] == "hg38" and vcf["chrom"] == "chr6"
                published.add((doc["id"], vcf["pos"], vcf["ref"], vcf["alt"]))
    assert published == submitted


def test_a_column_a_table_version_lacks_reads_as_null(
    fbxl4: tuple[Any, Any, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A table written before a column was added (the 1M bench's variants predate the VCF
    columns) is read with the column NULL, so the plans that name it still run."""
    import pyarrow as pa

    from harmonize.discovery.tables import attach_pinned
    from harmonize.drs.registry import Registry
    from harmonize.warehouse import Warehouse, current, delta
    from harmonize.warehouse.duck import connect

    _, settings, variants = fbxl4
    real = delta.schema
    monkeypatch.setattr(
        delta, "schema", lambda name: real(name).append(pa.field("hz_later", pa.int64()))
    )
    registry = Registry(settings.registry)
    try:
        con = connect()
        attach_pinned(con, Warehouse.of(settings), current(registry))
        rows, later, positions = con.execute(
            "SELECT count(*), count(hz_later), count(vcf_pos) FROM variants"
        ).fetchone()
    finally:
        registry.dispose()
    assert rows == positions == len(variants) and later == 0
