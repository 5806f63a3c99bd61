"""The built-in profiles: :data:`MODULES` names each one's module; importing it registers it.

Importing this module imports them all (:func:`~harmonize.mapping.profiles.profiles`
lists them); :func:`~harmonize.mapping.profiles.get_profile` imports only the one it
is asked for, so an ``hpo-case-template`` ingest does not import the FHIR, OMOP, REDCap,
Beacon and tabular profiles.
"""

import importlib

# profile name -> the module that defines and registers it
MODULES = {
    "beacon": "harmonize.mapping.profiles.beacon",
    "hpo-case-template": "harmonize.mapping.profiles.case_template",
    "fhir": "harmonize.mapping.profiles.fhir",
    "omop": "harmonize.mapping.profiles.omop",
    "phenopacket": "harmonize.mapping.profiles.phenopacket",
    "redcap": "harmonize.mapping.profiles.redcap",
    "tabular": "harmonize.mapping.profiles.tabular",
}


def import_all() -> None:
    for module in MODULES.values():
        importlib.import_module(module)


__all__ = ["MODULES", "import_all"]
