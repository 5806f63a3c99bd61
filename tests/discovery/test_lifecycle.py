"""The Beacon answers from the current publication: withdrawals and new versions show at once."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from harmonize.cli import app as cli
from harmonize.pipeline import ingest
from tests.discovery.kit import API, bearer, client, settings_for, submission

SUBJECT = "Proband 1 from PMID 9050047"  # a real individual of the SUOX cohort
PHENOPACKET = "PMID_36303223_Proband_1_from_PMID_9050047"


def _count(beacon, filters: str = "") -> int:
    params = {"requestedGranularity": "count"}
    if filters:
        params["filters"] = filters
    answer = beacon.get(f"{API}/individuals", params=params, headers=bearer("suox")).json()
    return int(answer["responseSummary"]["numTotalResults"])


def test_withdrawal_and_resubmission(tmp_path: Path, ontology_cache: Path) -> None:
    settings = settings_for(tmp_path / "workspace", ontology_cache)
    assert ingest(submission("SUOX", tmp_path / "v1"), settings).status == "published"
    beacon = client(settings)
    everyone, seizure = _count(beacon), _count(beacon, "HP:0001250")
    assert everyone == 35
    found = beacon.get(
        f"{API}/individuals/{PHENOPACKET}",
        params={"requestedGranularity": "record"},
        headers=bearer("suox"),
    ).json()
    (record,) = found["response"]["resultSets"][0]["results"]
    had_seizure = any(
        f["featureType"]["id"] == "HP:0001250" or f["featureType"]["label"].endswith("seizure")
        for f in record.get("phenotypicFeatures", [])
        if not f["excluded"]
    )

    run = CliRunner().invoke(
        cli,
        [
            "withdraw",
            "--dataset",
            "suox",
            "--subject",
            SUBJECT,
            "--by",
            "test",
            "--workspace",
            str(settings.workspace),
        ],
    )
    assert run.exit_code == 0, run.output
    # the same running Beacon sees the new publication
    assert _count(beacon) == everyone - 1
    assert _count(beacon, "HP:0001250") <= seizure - (1 if had_seizure else 0)
    gone = beacon.get(
        f"{API}/individuals/{PHENOPACKET}",
        params={"requestedGranularity": "record"},
        headers=bearer("suox"),
    )
    assert gone.status_code == 404
    assert gone.json()["error"]["errorCode"] == 404

    # a new version without its last 5 rows: only the new version counts
    result = ingest(submission("SUOX", tmp_path / "v2", drop_last=5), settings)
    assert result.status == "published", result.message
    folder = settings.workspace / "published" / "phenopackets" / "store-suox" / "v2"
    published = len(list(folder.glob("*.json")))
    assert published < everyone - 1
    assert _count(beacon) == published
    datasets = beacon.get(f"{API}/datasets/suox").json()["response"]["collections"][0]
    assert datasets["info"]["submissions"] == ["store-suox"]
