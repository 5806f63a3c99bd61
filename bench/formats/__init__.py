"""Helpers of ``bench/table_formats.py``: one module per table format, and the shared parts.

- ``data``: the published tables of a real 100k ingest, with ``submission_id`` as a column,
  and small publications cut from them;
- ``base``: what the bench asks of a table format (:class:`base.TableFormat`);
- ``delta`` and ``iceberg``: the two candidates (``deltalake``, ``pyiceberg`` SQL catalog);
- ``erasure``: a search for a value in every file under a table location, decompressed;
- ``duck``: DuckDB with its delta, avro and iceberg extensions loaded from the wheels;
- ``s3``: the same append and delete against a moto S3 server;
- ``steps``: the measured steps, each run in a child process; ``report``: their printout.
"""
