"""A session-wide check: every Phenopacket any test published passes the v2 JSON Schema.

At the end of the session, every ``published/phenopackets/<submission>/v<N>/*.json`` under the session's
temporary directory is checked with :func:`harmonize.quality.schema.schema_errors`; a
failure is reported as an error of the session's last test, naming each file.
(``tests/quality/test_phenopacket_conformance.py`` runs the full set of checks, the
reference validator included, on every sample submission and real cohort.)
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session", autouse=True)
def published_phenopackets_conform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    yield
    from harmonize.quality.schema import schema_errors

    broken: dict[str, list[str]] = {}
    checked = 0
    for path in tmp_path_factory.getbasetemp().rglob("published/phenopackets/*/v*/*.json"):
        checked += 1
        try:
            doc = json.loads(path.read_bytes())
        except ValueError as exc:
            broken[str(path)] = [f"not JSON: {exc}"]
            continue
        errors = schema_errors(doc)
        if errors:
            broken[str(path)] = [f"{e.path}: {e.message}" for e in errors]
    assert not broken, f"{len(broken)} of {checked} published Phenopackets break the schema: " + (
        json.dumps(dict(list(broken.items())[:10]), indent=1)
    )
