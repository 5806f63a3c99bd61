"""Imports the built-in profiles so that they register themselves."""

from harmonize.mapping.profiles import case_template, fhir, phenopacket, tabular

__all__ = ["case_template", "fhir", "phenopacket", "tabular"]
