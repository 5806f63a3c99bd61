"""The redcap and omop readers: batches never split a record (REDCap) or a person (OMOP)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harmonize.errors import ReadError
from harmonize.readers.base import ReadOptions, reader_for
from harmonize.readers.formats.omop import OMOPReader
from harmonize.readers.formats.redcap import REDCapReader

SUBMISSIONS = Path(__file__).resolve().parents[1] / "data" / "submissions"
REGISTRY = SUBMISSIONS / "redcap-registry"
CDM = SUBMISSIONS / "omop-cdm"
RECORDS = REGISTRY / "RareRegistry_DATA_2024-06-03_1412.csv"


@pytest.mark.parametrize("size", [1, 2, 3, 50])
def test_redcap_batches_hold_whole_records(size: int) -> None:
    batches = list(REDCapReader().read(RECORDS, ReadOptions(label=RECORDS.name, batch_size=size)))
    ids = [b.table.column("record_id").to_pylist() for b in batches]
    assert [i for b in ids for i in b] == ["1", "1", "1", "2", "2", "3", "3", "3", "4", "5"]
    assert [n for b in batches for n in b.rows.to_pylist()] == list(range(2, 12))
    seen: set[str] = set()
    for batch_ids in ids:  # a record never continues in the next batch
        assert not seen & set(batch_ids)
        seen |= set(batch_ids)


def test_redcap_dictionary_yields_nothing() -> None:
    path = REGISTRY / "RareRegistry_DataDictionary.csv"
    assert list(REDCapReader().read(path, ReadOptions(label=path.name))) == []


def test_redcap_and_omop_readers_are_never_guessed() -> None:
    assert reader_for(RECORDS).name == "csv"
    assert reader_for(CDM / "PERSON.csv").name == "csv"


def _omop(path: Path, size: int = 50) -> list:  # type: ignore[type-arg]
    files = tuple((p.name, p) for p in sorted(CDM.glob("*.csv")))
    options = ReadOptions(label=path.name, batch_size=size, companions=files)
    return list(OMOPReader().read(path, options))


def test_omop_person_batches_hold_whole_persons() -> None:
    batches = _omop(CDM / "PERSON.csv", size=3)
    assert len(batches) > 1
    seen: set[str] = set()
    for batch in batches:
        people = set(batch.table.column("person_id").to_pylist())
        assert not seen & people
        seen |= people
    rows = [
        (t, f, r)
        for b in batches
        for t, f, r in zip(
            b.table.column("table").to_pylist(),
            b.table.column("file").to_pylist(),
            b.rows.to_pylist(),
            strict=True,
        )
        if t == "CONDITION_OCCURRENCE"
    ]
    assert sorted(r for _, _, r in rows) == list(range(2, 10))
    assert {f for _, f, _ in rows} == {"CONDITION_OCCURRENCE.csv"}
    record = json.loads(batches[0].table.column("record").to_pylist()[0])
    assert record["person_id"] == "1001" and "location_id" not in record  # empty cells left out


def test_omop_other_tables_yield_nothing() -> None:
    assert _omop(CDM / "CONDITION_OCCURRENCE.csv") == []
    assert _omop(CDM / "CONCEPT.csv") == []


def test_omop_without_person(tmp_path: Path) -> None:
    path = tmp_path / "MEASUREMENT.csv"
    path.write_text((CDM / "MEASUREMENT.csv").read_text())
    with pytest.raises(ReadError, match="PERSON"):
        list(OMOPReader().read(path, ReadOptions(label=path.name, companions=((path.name, path),))))


def test_omop_table_without_person_id(tmp_path: Path) -> None:
    for p in CDM.glob("*.csv"):
        (tmp_path / p.name).write_text(p.read_text())
    (tmp_path / "DRUG_EXPOSURE.csv").write_text("drug_exposure_id,drug_concept_id\n1,1503297\n")
    files = tuple((p.name, p) for p in sorted(tmp_path.glob("*.csv")))
    with pytest.raises(ReadError) as err:
        list(
            OMOPReader().read(
                tmp_path / "PERSON.csv", ReadOptions(label="PERSON.csv", companions=files)
            )
        )
    assert (err.value.file, err.value.column) == ("DRUG_EXPOSURE.csv", "person_id")
