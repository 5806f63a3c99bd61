"""Discovery: what is published, found from outside, straight from the current tables.

Two halves, both served by ``harmonize serve``:

- :mod:`.beacon`: a GA4GH Beacon v2 at ``/ga4gh/beacon/v2`` (counts and booleans for
  anyone, records for holders of a ControlledAccessGrants visa), and ``harmonize discover``;
- :mod:`.dataconnect`: GA4GH Data Connect at ``/ga4gh/data-connect/v1`` (tables and SQL for
  grant holders).

Both read the published Delta tables at the current publication, never a copy of them: the
Beacon through DuckDB over the tables (:mod:`.tables`), Data Connect by loading the rows a
caller may read into a locked-down DuckDB of its own per request.
"""
