"""The built-in readers; importing this package registers them.

Order matters: :func:`harmonize.readers.base.reader_for` asks readers in registration order.
The generic JSON reader imports the Phenopacket module, so the Phenopacket reader always
registers (and is asked) first; the FHIR reader imports it too, and registers before the
generic JSON reader.
"""

from harmonize.readers.formats import beacon, csv, fhir, json, omop, phenopacket, redcap, xlsx

__all__ = ["beacon", "csv", "fhir", "json", "omop", "phenopacket", "redcap", "xlsx"]
