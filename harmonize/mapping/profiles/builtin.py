"""Imports the built-in profiles so that they register themselves."""

from harmonize.mapping.profiles import (
    beacon,
    case_template,
    fhir,
    omop,
    phenopacket,
    redcap,
    tabular,
)

__all__ = ["beacon", "case_template", "fhir", "omop", "phenopacket", "redcap", "tabular"]
