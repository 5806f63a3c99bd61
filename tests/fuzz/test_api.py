"""Schemathesis against the project's own OpenAPI: the intake, admin and dashboard routes.

(DRS is checked against the official GA4GH spec in tests/drs/test_conformance.py.) The app
runs in process (ASGI) on a workspace where a real submission is published, with every
feature configured; each request carries the credentials its route family expects, so the
generated cases reach the handlers and not only the 401s. The dashboard's routes are left
out of the served OpenAPI (they are HTML pages); here their schema is generated from the
same route definitions.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig

from harmonize.dashboard.config import AccessToken, DashboardSettings
from harmonize.drs.config import DrsSettings
from harmonize.intake.config import IntakeSettings
from harmonize.pipeline import ingest
from harmonize.settings import Settings
from harmonize.web import WebSettings, create_app
from tests.fuzz.budget import SCALE

pytestmark = pytest.mark.slow

ADMIN = "admin-token-" + "a" * 20
INTAKE = "intake-token-" + "i" * 20
CURATOR = "curator-token-" + "c" * 20
FAMILIES = ("/submissions", "/admin/drs/v1", "/dashboard")
# positive_data_acceptance: a schema-valid request can still be wrong about the world (a
# file that is not in the workspace, a sha-256 that does not match it, an unknown review
# item) and is then refused with a documented 4xx, as in tests/drs/test_conformance.py
EXCLUDED = [schemathesis.checks.positive_data_acceptance]
# a request that breaks the schema may be refused for its size before it is read: 413 is
# documented on those routes (schemathesis's default rejection statuses, plus 413)
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "negative_data_rejection": {
                "expected-statuses": [
                    *("400", "401", "403", "404", "405", "406", "409", "413", "415"),
                    *("422", "428", "429", "5xx"),
                ]
            }
        }
    }
)


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI for the three route families, the dashboard's pages included."""
    from harmonize.dashboard.context import PREFIX
    from harmonize.dashboard.errors import PAGE_RESPONSES
    from harmonize.dashboard.routes import impact, review, session, submissions, trends

    served = app.openapi()
    pages = FastAPI()
    for module in (session, submissions, trends, review, impact):
        pages.include_router(module.router, prefix=PREFIX, responses=PAGE_RESPONSES)
    dashboard = pages.openapi()
    paths = {k: v for k, v in served["paths"].items() if k.startswith(FAMILIES)}
    paths.update(dashboard["paths"])
    components = copy.deepcopy(served.get("components", {}))
    for kind, entries in dashboard.get("components", {}).items():
        components.setdefault(kind, {}).update(entries)
    return {**served, "paths": paths, "components": components}


@pytest.fixture(scope="module")
def api_schema(
    tmp_path_factory: pytest.TempPathFactory, ontology_cache: Path, submissions: Path
) -> Iterator[Any]:
    workspace = tmp_path_factory.mktemp("api") / "ws"
    pipeline = Settings(
        workspace=workspace,
        ontology_cache=ontology_cache,
        run_great_expectations=False,
        data_docs=False,
    )
    result = ingest(submissions / "clinic-tabular", pipeline)
    assert result.status == "published", result.message
    app = create_app(
        WebSettings(
            drs=DrsSettings(
                workspace=workspace,
                registry_url=pipeline.registry,
                auth={"admin_token": ADMIN},
            ),
            dashboard=DashboardSettings(
                secret_key="k" * 40,
                tokens=[AccessToken(token=CURATOR, role="curator", name="dr.curator")],
                pipeline=pipeline,
            ),
            intake=IntakeSettings(tokens={INTAKE: "Clinic A"}),
        )
    )
    schema = schemathesis.openapi.from_dict(_openapi(app), config=CONFIG)
    schema.app = app
    yield schema


def _token(path: str) -> str:
    if path.startswith("/admin"):
        return ADMIN
    if path.startswith("/submissions"):
        return INTAKE
    return CURATOR


def _fuzz(operation: Any) -> None:
    """Schemathesis's cases for one operation, each sent and checked (every default check)."""
    headers = {"Authorization": f"Bearer {_token(operation.path)}"}

    @hypothesis_settings(
        max_examples=15 * SCALE,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(
        case=operation.as_strategy(GenerationMode.POSITIVE)
        | operation.as_strategy(GenerationMode.NEGATIVE)
    )
    def run(case: Any) -> None:
        case.call_and_validate(headers=headers, excluded_checks=EXCLUDED, allow_redirects=False)

    run()


def test_api(api_schema: Any) -> None:
    """Every operation of the three families; all failures are reported together."""
    failures = []
    labels = []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        labels.append(operation.label)
        try:
            _fuzz(operation)
        except (Exception, BaseExceptionGroup) as exc:  # report every operation
            failures.append(f"{operation.label}: {exc}")
    assert len(labels) >= 15, labels  # intake 3, admin 3, dashboard pages and forms
    assert not failures, "\n\n".join(failures)
