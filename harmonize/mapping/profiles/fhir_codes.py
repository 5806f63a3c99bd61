"""What the ``fhir`` profile knows about FHIR codings and times.

A FHIR ``Coding`` names its code system by URI; a Phenopacket names a term by CURIE. The
systems below are the ones Harmonize maps to a CURIE prefix of ``ontologies/manifest.yaml``;
a coding from any other system is a finding.

>>> curie("http://purl.obolibrary.org/obo/hp.owl", "HP:0001250")
'HP:0001250'
>>> curie("https://www.orpha.net", "Orphanet_558"), curie("http://snomed.info/sct", "22298006")
('ORPHA:558', 'SNOMEDCT:22298006')
>>> curie("http://example.org/local-codes", "X1") is None
True
>>> age_between(date(2010, 1, 31), date(2013, 4, 2))
'P3Y2M2D'
>>> age_between(date(2010, 1, 1), date(2010, 1, 1))
'P0D'
>>> age_quantity({"value": 2.5, "system": "http://unitsofmeasure.org", "code": "a"})
'P2Y6M'
>>> age_quantity({"value": 18, "system": "http://unitsofmeasure.org", "code": "mo"})
'P1Y6M'
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from harmonize.mapping.times import Time

# system URI (without a trailing slash) -> CURIE prefix
SYSTEMS: dict[str, str] = {
    "http://purl.obolibrary.org/obo/hp.owl": "HP",
    "http://purl.obolibrary.org/obo/hp": "HP",
    "http://human-phenotype-ontology.org": "HP",
    "http://www.human-phenotype-ontology.org": "HP",
    "https://hpo.jax.org": "HP",
    "http://omim.org": "OMIM",
    "https://omim.org": "OMIM",
    "http://www.omim.org": "OMIM",
    "https://www.omim.org": "OMIM",
    "urn:oid:2.16.840.1.113883.6.174": "OMIM",
    "http://www.orpha.net": "ORPHA",
    "https://www.orpha.net": "ORPHA",
    "http://www.orpha.net/ORDO": "ORPHA",
    "http://purl.obolibrary.org/obo/mondo.owl": "MONDO",
    "http://purl.obolibrary.org/obo/mondo": "MONDO",
    "http://hl7.org/fhir/sid/icd-10": "ICD10",
    "http://loinc.org": "LOINC",
    "http://unitsofmeasure.org": "UCUM",
    "http://snomed.info/sct": "SNOMEDCT",
    "http://www.nlm.nih.gov/research/umls/rxnorm": "RXNORM",
    "http://purl.obolibrary.org/obo/ncit.owl": "NCIT",
    "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl": "NCIT",
}
# what a code may already carry before its local id (HP:0001250, Orphanet_558)
_ALIASES: dict[str, tuple[str, ...]] = {
    "ORPHA": ("ORPHA", "Orphanet", "ORDO"),
    "SNOMEDCT": ("SNOMEDCT", "SNOMED", "SCTID"),
    "ICD10": ("ICD10", "ICD-10"),
}
PHENOTYPES = frozenset({"HP"})
DISEASES = frozenset({"OMIM", "ORPHA", "MONDO", "ICD10"})
MEASUREMENTS = frozenset({"LOINC"})
# UCUM codes of an Age quantity -> the ISO 8601 designator
_AGE_UNITS = {"a": "Y", "mo": "M", "wk": "W", "d": "D"}
_FULL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def known_systems() -> str:
    """The systems Harmonize maps, for a hint."""
    by_prefix: dict[str, str] = {}
    for system, prefix in SYSTEMS.items():
        by_prefix.setdefault(prefix, system)
    return ", ".join(f"{p} {s}" for p, s in by_prefix.items())


def prefix_of(system: str | None) -> str | None:
    """The CURIE prefix of a coding system URI, or None if Harmonize does not map it."""
    if not system:
        return None
    return SYSTEMS.get(system.strip().rstrip("/"))


def curie(system: str | None, code: str | None) -> str | None:
    """The CURIE of a coding, or None when its system is not mapped (or it has no code)."""
    prefix = prefix_of(system)
    if prefix is None or not code or not code.strip():
        return None
    text = code.strip()
    for alias in _ALIASES.get(prefix, (prefix,)):
        if text[: len(alias) + 1].upper() in (f"{alias.upper()}:", f"{alias.upper()}_"):
            text = text[len(alias) + 1 :]
            break
    return f"{prefix}:{text}"


def full_date(text: Any) -> date | None:
    """The day of a FHIR ``date`` or ``dateTime`` (None for a partial date such as 2012-05)."""
    if not isinstance(text, str) or not _FULL_DATE.match(text):
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def timestamp(text: str) -> datetime | None:
    """A full FHIR ``date``/``dateTime`` as a UTC timestamp."""
    day = full_date(text)
    if day is None:
        return None
    if len(text) == 10:
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return stamp.astimezone(UTC) if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def age_between(birth: date, when: date) -> str | None:
    """The ISO 8601 age on ``when`` of someone born on ``birth`` (None before birth)."""
    if when < birth:
        return None
    months = (when.year - birth.year) * 12 + when.month - birth.month
    if when.day < birth.day:
        months -= 1
    anniversary_year, anniversary_month = divmod(birth.month - 1 + months, 12)
    anniversary_year += birth.year
    day = min(birth.day, _days_in(anniversary_year, anniversary_month + 1))
    days = (when - date(anniversary_year, anniversary_month + 1, day)).days
    years, months = divmod(months, 12)
    parts = [
        f"{years}Y" if years else "",
        f"{months}M" if months else "",
        f"{days}D" if days else "",
    ]
    return "P" + ("".join(parts) or "0D")


def _days_in(year: int, month: int) -> int:
    nxt = date(year + month // 12, month % 12 + 1, 1)
    return (nxt - date(year, month, 1)).days


def age_quantity(quantity: dict[str, Any] | None) -> str | None:
    """A FHIR ``Age`` (UCUM ``a``, ``mo``, ``wk``, ``d``) as an ISO 8601 duration."""
    if not quantity or quantity.get("value") is None:
        return None
    unit = _AGE_UNITS.get(str(quantity.get("code") or ""))
    if unit is None or prefix_of(quantity.get("system")) != "UCUM":
        return None
    value = float(quantity["value"])
    if value < 0:
        return None
    if unit in "YM" and (unit == "M" or value != int(value)):  # 2.5 years, 18 months: P2Y6M, P1Y6M
        years, months = divmod(round(value * 12 if unit == "Y" else value), 12)
        return (
            f"P{years}Y{months}M" if years and months else f"P{years}Y" if years else f"P{months}M"
        )
    return f"P{round(value)}{unit}"


def when(text: Any, birth: date | None) -> Time | None:
    """A FHIR date/dateTime as a time: an age when the birth date is known, else a timestamp."""
    if not isinstance(text, str):
        return None
    day = full_date(text)
    if day is None:
        return None
    if birth is not None:
        age = age_between(birth, day)
        return Time(age=age) if age is not None else None
    stamp = timestamp(text)
    return Time(timestamp=stamp) if stamp is not None else None
