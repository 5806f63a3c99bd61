"""The DUO codes Harmonize applies when no DUO release is pinned.

This is **not a DUO release** and has no hierarchy: it is the list of GA4GH Data Use
Ontology codes this pipeline knows how to carry and apply, each with its label, its
abbreviation and its kind (a data use *permission* or a data use *modifier*), as GA4GH
publishes them for DUO 1.0 (2021-02-23). A code outside this list is refused rather
than carried unchecked; pinning a DUO release in ``ontologies/manifest.yaml`` replaces
the list with the release's own terms and hierarchy (:mod:`harmonize.consent.vocabulary`).

>>> KNOWN["DUO:0000042"].abbreviation, KNOWN["DUO:0000042"].kind
('GRU', 'permission')
>>> sorted(c for c, k in KNOWN.items() if k.kind == "permission")
['DUO:0000004', 'DUO:0000006', 'DUO:0000007', 'DUO:0000011', 'DUO:0000042', 'DUO:0000043']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["permission", "modifier"]

PERMISSION_ROOT = "DUO:0000001"  # data use permission: what a dataset may be used for
MODIFIER_ROOT = "DUO:0000017"  # data use modifier: conditions on that use
NO_RESTRICTION = "DUO:0000004"  # NRES: permits every use
IRI_PREFIX = "http://purl.obolibrary.org/obo/DUO_"


@dataclass(frozen=True, slots=True)
class Code:
    id: str
    label: str
    abbreviation: str
    kind: Kind


_LIST = [
    Code("DUO:0000004", "no restriction", "NRES", "permission"),
    Code("DUO:0000042", "general research use", "GRU", "permission"),
    Code("DUO:0000006", "health or medical or biomedical research", "HMB", "permission"),
    Code("DUO:0000007", "disease specific research", "DS", "permission"),
    Code("DUO:0000011", "population origins or ancestry research only", "POA", "permission"),
    Code("DUO:0000043", "clinical care use", "CC", "permission"),
    Code("DUO:0000012", "research specific restrictions", "RS", "modifier"),
    Code("DUO:0000015", "no general methods research", "NMDS", "modifier"),
    Code("DUO:0000016", "genetic studies only", "GSO", "modifier"),
    Code("DUO:0000018", "not for profit, non commercial use only", "NPUNCU", "modifier"),
    Code("DUO:0000019", "publication required", "PUB", "modifier"),
    Code("DUO:0000020", "collaboration required", "COL", "modifier"),
    Code("DUO:0000021", "ethics approval required", "IRB", "modifier"),
    Code("DUO:0000022", "geographical restriction", "GS", "modifier"),
    Code("DUO:0000024", "publication moratorium", "MOR", "modifier"),
    Code("DUO:0000025", "time limit on use", "TS", "modifier"),
    Code("DUO:0000026", "user specific restriction", "US", "modifier"),
    Code("DUO:0000027", "project specific restriction", "PS", "modifier"),
    Code("DUO:0000028", "institution specific restriction", "IS", "modifier"),
    Code("DUO:0000029", "return to database or resource", "RTN", "modifier"),
    Code("DUO:0000044", "population origins or ancestry research prohibited", "NPOA", "modifier"),
    Code("DUO:0000045", "not for profit organisation use only", "NPU", "modifier"),
    Code("DUO:0000046", "non-commercial use only", "NCU", "modifier"),
]
KNOWN: dict[str, Code] = {c.id: c for c in _LIST}


def iri(code: str) -> str:
    """The PURL of a DUO code.

    >>> iri("DUO:0000042")
    'http://purl.obolibrary.org/obo/DUO_0000042'
    """
    return IRI_PREFIX + code.partition(":")[2]
