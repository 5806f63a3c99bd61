"""The built-in readers; importing this package registers them.

Order matters: :func:`harmonize.readers.base.reader_for` asks readers in registration order.
The generic JSON reader imports the Phenopacket module, so the Phenopacket reader always
registers (and is asked) first.
"""

from harmonize.readers.formats import beacon, csv, json, phenopacket, xlsx

__all__ = ["beacon", "csv", "json", "phenopacket", "xlsx"]
