"""``layout: long`` streamed in batches: an individual's rows are never split between two."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from harmonize.readers import reader_for
from harmonize.readers.base import ReadOptions
from harmonize.readers.grouping import keep_together
from harmonize.settings import Settings

from .conftest import run_ingest, write_submission
from .test_tabular_long import MAPPING


def submit(root: Path, text: str) -> Path:
    return write_submission(
        root,
        submission_id=f"long-{root.name}",
        files={"visits.csv": text, "mapping.yaml": MAPPING},
        mapping="mapping.yaml",
    )


# sorted by id: p1 has 4 rows, p2 3, p3 5; batches of 2 rows cut through every individual
ROWS = [
    ("p1", "f", "P40Y", "E11", "Seizure", "6.1"),
    ("p1", "", "P41Y", "", "Hypotonia", "6.5"),
    ("p1", "", "P42Y", "I10", "", "6.0"),
    ("p1", "", "", "", "", "5.9"),
    ("p2", "m", "P30Y", "I10", "", "5.0"),
    ("p2", "", "P31Y", "", "Seizure", "5.2"),
    ("p2", "", "P33Y", "", "", "5.5"),
    ("p3", "f", "P10Y", "G30.9", "", "7.0"),
    ("p3", "", "P11Y", "", "Seizure", "7.1"),
    ("p3", "", "P12Y", "", "", "7.2"),
    ("p3", "", "P13Y", "", "Hypotonia", "7.3"),
    ("p3", "", "P14Y", "", "", "7.4"),
]


def csv(rows: list[tuple[str, ...]]) -> str:
    return "id,sex,age,dx,symptom,wbc\n" + "".join(",".join(r) + "\n" for r in rows)


def test_batches_keep_each_individuals_rows_together(tmp_path: Path) -> None:
    path = tmp_path / "visits.csv"
    path.write_text(csv(ROWS))
    options = ReadOptions(label="visits.csv", batch_size=2, group_by="id")
    batches = list(keep_together(reader_for(path).read(path, options), "id"))
    ids = [b.table.column("id").to_pylist() for b in batches]
    assert ids == [["p1"] * 4, ["p2"] * 3, ["p3"] * 5]
    assert [b.rows.to_pylist() for b in batches][1] == [6, 7, 8]  # the file's row numbers


def test_a_long_file_in_small_batches_publishes_what_one_batch_does(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    whole = run_ingest(submit(tmp_path / "one", csv(ROWS)), settings())
    small = run_ingest(submit(tmp_path / "many", csv(ROWS)), settings(batch_size=2))
    for out in (whole, small):
        assert out.result.status == "published", out.report["findings"]

    def content(out: object, name: str) -> list[tuple[object, ...]]:
        keep = ("phenopacket_id", "term_id", "sex", "age_at_last_encounter", "value", "source_row")
        rows = out.rows(name)  # type: ignore[attr-defined]
        return sorted(tuple(r.get(k) for k in keep) for r in rows)

    for name in ("individuals", "diseases", "phenotypic_features", "measurements"):
        assert content(small, name) == content(whole, name), name
    people = {r["phenopacket_id"]: r for r in small.rows("individuals")}
    assert sorted(people) == ["p1", "p2", "p3"]
    assert people["p1"]["age_at_last_encounter"] == "P42Y"  # its last encounter, 3 batches on
    assert len(small.rows("measurements")) == 12
    assert small.documents() == whole.documents() or _same_but_created(small, whole)


def _same_but_created(a: object, b: object) -> bool:
    docs_a, docs_b = a.documents(), b.documents()  # type: ignore[attr-defined]
    for docs in (docs_a, docs_b):
        for doc in docs.values():
            doc["metaData"].pop("created", None)
    return bool(docs_a == docs_b)


def test_an_individual_whose_rows_are_apart_across_batches_is_an_error_at_its_row(
    tmp_path: Path, settings: Callable[..., Settings]
) -> None:
    rows = [ROWS[0], ROWS[4], ROWS[5], ROWS[1]]  # p1, p2, p2, then p1 again
    out = run_ingest(submit(tmp_path / "apart", csv(rows)), settings(batch_size=1))
    assert out.result.status == "rejected"
    [error] = [f for f in out.report["findings"] if f["level"] == "error"]
    where = error["location"]
    assert (where["file"], where["row"], where["column"], where["value"]) == (
        "visits.csv",
        5,
        "id",
        "p1",
    )
    assert "not together" in error["message"] and "sort the file" in error["hint"]
    # the same rows in one batch merge, as before
    again = run_ingest(submit(tmp_path / "again", csv(rows)), settings())
    assert again.result.status == "published", again.report["findings"]
