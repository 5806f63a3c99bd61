"""One function compiles a Beacon query into one plan: the SQL that counts and pages it.

A plan counts matches per dataset (``counts``) and pages records (``page``), both over the
same ``FROM ... WHERE``: the individuals (alias ``i``) that pass every filter, the scoping
parameters and the datasets searched (``hz_people``: the current ``individuals`` with
an integer ``hz_id``, built once per snapshot by :func:`.catalog.index`); for
``g_variants``, the variants (alias ``v``) those individuals carry, one entry per dataset
and variant. Every value is a bound parameter. When every filter of an ``individuals``
query is a set atom (:mod:`.sets`), the plan also carries the count as a
:class:`~.sets.Selection`, which the per-snapshot bitmaps answer without SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from harmonize.discovery.beacon.errors import BeaconRequestError
from harmonize.discovery.beacon.filters import Terms, compile_filters
from harmonize.discovery.beacon.request import Query
from harmonize.discovery.beacon.sets import Selection

# the variant an entry stands for: its HGVS expression, else its description, else its id
VARIANT_KEY = "coalesce(v.hgvs, v.description, v.variant_id)"
_REFERENCE = re.compile(r"^(?:chr)?(?P<name>[1-9]|1[0-9]|2[0-2]|X|Y|MT?)$", re.IGNORECASE)
_REFSEQ = re.compile(r"^NC_0*(?P<number>\d+)(?:\.\d+)?$")
# hgvs.g on a RefSeq chromosome: NC_000021.9:g.44286616C>T -> chromosome 21, position
HGVS_G = r"^NC_0*([0-9]+)\.[0-9]+:g\.([0-9]+)"
# a VCF record's chromosome as _chromosome names it: chr6 -> 6, chrM / M -> MT
VCF_CHROMOSOME = (
    "CASE upper(regexp_replace(v.vcf_chrom, '^chr', '', 'i')) WHEN 'M' THEN 'MT' "
    "ELSE upper(regexp_replace(v.vcf_chrom, '^chr', '', 'i')) END"
)


@dataclass(frozen=True)
class Plan:
    counts: str  # dataset, count
    count_params: list[Any]
    page: str  # the page's rows, in a stable order
    page_params: list[Any]
    selection: Selection | None = None  # the same counts as sets, when sets can answer


def _chromosome(name: str) -> str:
    refseq = _REFSEQ.match(name)
    if refseq is not None:
        number = int(refseq["number"])
        return {23: "X", 24: "Y"}.get(number, str(number))
    match = _REFERENCE.match(name)
    if match is None:
        raise BeaconRequestError(
            f"referenceName {name!r} is not a chromosome", hint="use 1-22, X, Y or NC_0000NN"
        )
    found = match["name"].upper()
    return "MT" if found == "M" else found


def _variant_conditions(variant: dict[str, str]) -> tuple[list[str], list[Any]]:
    sql: list[str] = []
    params: list[Any] = []
    if "geneId" in variant:
        sql.append("(v.gene_id = ? OR v.gene_symbol = ?)")
        params += [variant["geneId"], variant["geneId"]]
    if "genomicAlleleShortForm" in variant:
        sql.append("v.hgvs = ?")
        params.append(variant["genomicAlleleShortForm"])
    if "start" in variant or "referenceName" in variant:
        if "start" not in variant or "referenceName" not in variant:
            raise BeaconRequestError("a coordinate query needs both referenceName and start")
        start = int(variant["start"])  # 0-based, as Beacon counts
        end = int(variant.get("end", start + 1))
        chromosome = _chromosome(variant["referenceName"])
        number = {"X": "23", "Y": "24"}.get(chromosome, chromosome)
        sql.append(
            f"((v.hgvs_syntax = 'hgvs.g' "
            f"AND ltrim(regexp_extract(v.hgvs, '{HGVS_G}', 1), '0') = ? "
            f"AND try_cast(regexp_extract(v.hgvs, '{HGVS_G}', 2) AS BIGINT) > ? "
            f"AND try_cast(regexp_extract(v.hgvs, '{HGVS_G}', 2) AS BIGINT) <= ?) "
            f"OR ({VCF_CHROMOSOME} = ? AND v.vcf_pos > ? AND v.vcf_pos <= ?))"
        )
        params += [number, start, end, chromosome, start, end]
    for name, column in (("referenceBases", "vcf_ref"), ("alternateBases", "vcf_alt")):
        if name in variant:  # only VCF records carry the bases
            sql.append(f"upper(v.{column}) = ?")
            params.append(variant[name].upper())
    return sql, params


def compile_query(
    query: Query,
    terms: Terms,
    *,
    datasets: list[str],
    max_filters: int,
    consents: list[str] | None = None,
) -> Plan:
    """The plan of ``query`` over ``datasets`` (the datasets it may search), limited to the
    individuals whose consent list (``hz_consent``) is one of ``consents`` when given."""
    condition = compile_filters(query.filters, terms, limit=max_filters)
    where = [f"({condition.sql})"]
    params: list[Any] = list(condition.params)
    where.append("i.dataset IN (SELECT unnest(?::VARCHAR[]))")
    params.append(list(datasets))
    if consents is not None:
        where.append("i.hz_consent IN (SELECT unnest(?::VARCHAR[]))")
        params.append(list(consents))
    if query.individual_id is not None:
        where.append("i.phenopacket_id = ?")
        params.append(query.individual_id)
    if query.entry == "g_variants":
        extra, extra_params = _variant_conditions(query.variant)
        source = (
            "variants v JOIN hz_people i ON v.submission_id = i.submission_id "
            "AND v.phenopacket_id = i.phenopacket_id"
        )
        where += [f"{VARIANT_KEY} IS NOT NULL", *extra]
        params += extra_params
        body = f"FROM {source} WHERE {' AND '.join(where)}"
        counts = f"SELECT i.dataset, count(DISTINCT {VARIANT_KEY}) FROM {source} " + (
            f"WHERE {' AND '.join(where)} GROUP BY i.dataset"
        )
        page = (
            f"SELECT i.dataset, {VARIANT_KEY} AS key, any_value(v.gene_id), "
            "any_value(v.gene_symbol), any_value(v.hgvs_syntax), any_value(v.description), "
            "count(DISTINCT i.submission_id || '/' || i.phenopacket_id) "
            f"{body} GROUP BY i.dataset, key ORDER BY i.dataset, key LIMIT ? OFFSET ?"
        )
        return Plan(counts, params, page, [*params, query.limit, query.skip])
    body = f"FROM hz_people i WHERE {' AND '.join(where)}"
    counts = f"SELECT i.dataset, count(*) {body} GROUP BY i.dataset"
    page = (
        "SELECT i.dataset, i.submission_id, i.phenopacket_id, i.sex, i.age_at_last_encounter, "
        f"i.submission_version {body} ORDER BY i.dataset, i.submission_id, i.phenopacket_id "
        "LIMIT ? OFFSET ?"
    )
    selection = None
    if condition.atoms is not None and query.individual_id is None:
        selection = Selection(
            condition.atoms,
            tuple(datasets),
            None if consents is None else tuple(consents),
        )
    return Plan(counts, params, page, [*params, query.limit, query.skip], selection)
