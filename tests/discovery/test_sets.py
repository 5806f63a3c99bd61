"""The per-snapshot bitmaps count what the plan's SQL counts, on random hand-made tables.

Individuals with random datasets (some NULL), sexes, ages (some NULL, some not ISO 8601)
and consent lists; features from a small made-up hierarchy, some excluded; queries mixing
parent terms (with and without descendants), sex, age comparisons with every operator,
dataset lists and consent keys. For each, :meth:`People.count` must equal the SQL counts.
"""

from __future__ import annotations

import random

import duckdb
import pytest

from harmonize.discovery.beacon.catalog import INDEXES, index
from harmonize.discovery.beacon.filters import DAYS_MACRO, Filter, Terms
from harmonize.discovery.beacon.plan import compile_query
from harmonize.discovery.beacon.request import Query
from harmonize.discovery.beacon.sets import People

# a small hierarchy: term -> parent (HP:0000001 the root)
PARENT = {f"HP:{n:07d}": f"HP:{max(1, n // 3):07d}" for n in range(2, 40)}
TERMS = ["HP:0000001", *PARENT]
DATASETS = ["d1", "d2", "d3", None]
SEXES = ["FEMALE", "MALE", "UNKNOWN_SEX", None]
AGES = ["P3Y", "P36M", "P2Y11M", "P40Y", "P1Y6M2D", "P10W", None, "unknown", "P0D"]
CONSENTS = [["DUO:0000042"], ["DUO:0000007", "DUO:0000019"], None, []]


def _ancestors(term: str) -> list[str]:
    found = [term]
    while found[-1] in PARENT:
        found.append(PARENT[found[-1]])
    return found


@pytest.fixture(scope="module")
def tables() -> tuple[duckdb.DuckDBPyConnection, People]:
    rng = random.Random(20)
    con = duckdb.connect()
    con.execute(DAYS_MACRO)
    con.execute(
        "CREATE TABLE individuals (submission_id VARCHAR, phenopacket_id VARCHAR, "
        "dataset VARCHAR, sex VARCHAR, age_at_last_encounter VARCHAR, "
        "submission_version INTEGER, consent VARCHAR[])"
    )
    con.execute(
        "CREATE TABLE phenotypic_features (submission_id VARCHAR, phenopacket_id VARCHAR, "
        "term_id VARCHAR, excluded BOOLEAN)"
    )
    people, features = [], []
    for n in range(400):
        sid, pid = f"s{n % 3}", f"p{n}"
        people.append(
            (
                sid,
                pid,
                rng.choice(DATASETS),
                rng.choice(SEXES),
                rng.choice(AGES),
                1,
                rng.choice(CONSENTS),
            )
        )
        for _ in range(rng.randrange(0, 5)):
            features.append((sid, pid, rng.choice(TERMS), rng.choice([False, False, True, None])))
    con.executemany("INSERT INTO individuals VALUES (?, ?, ?, ?, ?, ?, ?)", people)
    con.executemany("INSERT INTO phenotypic_features VALUES (?, ?, ?, ?)", features)
    con.execute("CREATE TABLE diseases AS SELECT * FROM phenotypic_features WHERE false")
    index(con)
    pairs = [(t, a) for t in TERMS for a in _ancestors(t)]
    con.execute("CREATE TABLE hz_closure (term_id VARCHAR, ancestor_id VARCHAR)")
    con.executemany("INSERT INTO hz_closure VALUES (?, ?)", pairs)
    return con, People.build(con, INDEXES)


def _random_filters(rng: random.Random) -> list[Filter]:
    found = []
    for _ in range(rng.randrange(0, 4)):
        kind = rng.choice(["term", "term", "sex", "age"])
        if kind == "term":
            found.append(Filter(rng.choice(TERMS), descendants=rng.random() < 0.7))
        elif kind == "sex":
            found.append(Filter(rng.choice(["NCIT:C16576", "NCIT:C20197", "NCIT:C17998"])))
        else:
            operator = rng.choice(["=", "<", ">", "!", ">=", "<="])
            found.append(Filter("age", operator=operator, value=rng.choice(AGES[:6])))
    return found


def test_bitmap_counts_equal_the_sql_counts(
    tables: tuple[duckdb.DuckDBPyConnection, People],
) -> None:
    con, people = tables
    rng = random.Random(7)
    keys = [k for (k,) in con.execute("SELECT DISTINCT hz_consent FROM hz_people").fetchall()]
    nonzero = 0
    for _ in range(300):
        query = Query("individuals", filters=_random_filters(rng), granularity="count")
        datasets = rng.sample(["d1", "d2", "d3", "default"], rng.randrange(1, 5))
        consents = rng.sample(keys, rng.randrange(0, len(keys) + 1)) if rng.random() < 0.3 else None
        plan = compile_query(
            query, Terms(lambda _: True), datasets=datasets, max_filters=10, consents=consents
        )
        assert plan.selection is not None, query.filters
        expected = {d: int(n) for d, n in con.execute(plan.counts, plan.count_params).fetchall()}
        assert people.count(plan.selection) == expected, (query.filters, datasets, consents)
        nonzero += bool(expected)
    assert nonzero > 150  # the queries are not all empty


def test_a_parent_term_is_the_union_of_its_observed_descendants(
    tables: tuple[duckdb.DuckDBPyConnection, People],
) -> None:
    con, people = tables
    query = Query("individuals", filters=[Filter("HP:0000001")], granularity="count")
    plan = compile_query(query, Terms(lambda _: True), datasets=["d1", "d2", "d3"], max_filters=5)
    assert plan.selection is not None
    observed = con.execute(
        "SELECT dataset, count(DISTINCT phenopacket_id) FROM individuals i WHERE EXISTS ("
        "SELECT 1 FROM phenotypic_features f WHERE f.phenopacket_id = i.phenopacket_id "
        "AND f.submission_id = i.submission_id AND f.excluded IS NOT TRUE) "
        "AND dataset IS NOT NULL GROUP BY dataset"
    ).fetchall()
    assert people.count(plan.selection) == dict(observed)


def test_filters_without_a_set_form_leave_the_count_to_sql() -> None:
    terms = Terms(lambda _: True)
    for filters in (
        [Filter("HGNC:3603")],
        [Filter("LOINC:718-7", operator=">", value="12")],
        [Filter("EFO:0004847", operator=">=", value="P1Y")],
        [Filter("HP:0001250"), Filter("HGNC:3603")],
    ):
        query = Query("individuals", filters=filters, granularity="count")
        assert compile_query(query, terms, datasets=["d"], max_filters=5).selection is None
    one = Query("individuals", filters=[Filter("HP:0001250")], individual_id="p1")
    assert compile_query(one, terms, datasets=["d"], max_filters=5).selection is None
    variants = Query("g_variants", filters=[Filter("HP:0001250")])
    assert compile_query(variants, terms, datasets=["d"], max_filters=5).selection is None
