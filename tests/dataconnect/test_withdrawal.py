"""A withdrawn individual's rows are never returned: withdrawn with ``harmonize withdraw``.

A page token of a publication before the withdrawal (followed, or forged to start at row 0)
answers 410: no page reads an older publication.

Regression: a withdrawal (a Delta delete) rewrites the partition's files with
``string_view`` columns, and every search comparing a string column then failed with
"Function 'equal' has no kernel matching input types (string, string_view)" (DuckDB
pushed the filter into Arrow's scan); filters now stay in DuckDB.
"""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from harmonize.cli import app as cli
from harmonize.discovery.dataconnect.paging import Page, decode, encode
from harmonize.drs.registry import Registry
from harmonize.warehouse import Warehouse, current
from tests.dataconnect.conftest import API, ISOD, app_for, bearer, individuals, publish
from tests.dataconnect.spec import Schemas


def test_withdrawn_rows_are_gone_from_tables_and_search(
    tmp_path: Path, submissions: Path, ontology_cache: Path
) -> None:
    spec = Schemas()
    published = publish(tmp_path, submissions, ontology_cache)
    settings = published.settings
    view = current(Registry(settings.registry))
    people = Warehouse.of(settings).read("individuals", view, where={"dataset": ISOD})
    phenopacket = people.column("phenopacket_id")[0].as_py()
    subject = people.column("subject_id")[0].as_py()
    before = individuals(settings, ISOD)
    assert phenopacket in before

    with app_for(settings, page_size=1000) as client:
        query = {
            "query": "SELECT phenopacket_id FROM individuals WHERE phenopacket_id = ?",
            "parameters": [phenopacket],
        }
        found = client.post(f"{API}/search", json=query, headers=bearer(ISOD)).json()
        assert found["data"] == [{"phenopacket_id": phenopacket}]

        paged = app_for(settings, page_size=2)
        first = paged.get(f"{API}/table/{ISOD}.individuals/data", headers=bearer(ISOD)).json()
        later = first["pagination"]["next_page_url"]  # of the publication before the withdrawal
        done = CliRunner().invoke(
            cli,
            [
                "withdraw",
                "--dataset",
                ISOD,
                "--subject",
                subject,
                "--by",
                "test",
                "--workspace",
                str(settings.workspace),
            ],
        )
        assert done.exit_code == 0, done.output
        assert individuals(settings, ISOD) == before - {phenopacket}

        for table in ("individuals", "phenotypic_features", "diseases", "variants"):
            sql = f"SELECT count(*) AS n FROM {table} WHERE phenopacket_id = ?"
            answer = client.post(
                f"{API}/search",
                json={"query": sql, "parameters": [phenopacket]},
                headers=bearer(ISOD),
            ).json()
            spec.check(answer, "TableData")
            assert answer["data"] == [{"n": "0"}], table
        joined = (
            "SELECT i.phenopacket_id, count(*) AS n FROM individuals AS i JOIN "
            "phenotypic_features AS f ON f.phenopacket_id = i.phenopacket_id "
            "WHERE i.phenopacket_id > '' GROUP BY 1 ORDER BY 1 LIMIT 3"
        )
        answer = client.post(f"{API}/search", json={"query": joined}, headers=bearer(ISOD))
        assert answer.status_code == 200, answer.text
        assert len(answer.json()["data"]) == 3
        # a page of the publication before the withdrawal is gone, and so is a forged one
        assert "start again" in spec.error(paged.get(later, headers=bearer(ISOD)), 410)
        token = later.split("page_token=")[1]
        page = decode(token)
        forged = encode(Page(page.kind, page.target, page.seq, 0, page.parameters))
        spec.error(
            paged.get(
                f"{API}/table/{ISOD}.individuals/data?page_token={forged}", headers=bearer(ISOD)
            ),
            410,
        )
        paged.close()
        rows = client.get(f"{API}/table/{ISOD}.individuals/data", headers=bearer(ISOD)).json()
        spec.check(rows, "TableData")
        assert {row["phenopacket_id"] for row in rows["data"]} == before - {phenopacket}
        features = client.get(
            f"{API}/table/{ISOD}.phenotypic_features/data", headers=bearer(ISOD)
        ).json()
        assert phenopacket not in {row["phenopacket_id"] for row in features["data"]}
