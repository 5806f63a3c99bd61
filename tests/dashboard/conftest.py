"""Dashboard fixtures: an app over a temp workspace, three people, and hand-made submissions.

Submissions are written straight into the state store with a report JSON of our own, so
the page tests run in milliseconds; the review-loop and browser tests run the pipeline.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from harmonize.dashboard import AccessToken, DashboardSettings, JwtSettings
from harmonize.drs.config import DrsSettings, default_registry_url
from harmonize.settings import Settings
from harmonize.state.store import StateStore, submissions
from harmonize.web import WebSettings, create_app

CURATOR = "curator-token-for-tests-0001"
SUBMITTER_A = "submitter-a-token-for-tests-01"
SUBMITTER_B = "submitter-b-token-for-tests-01"
SECRET = "test-secret-key-" + "s" * 32


def tokens() -> list[AccessToken]:
    return [
        AccessToken(token=CURATOR, role="curator", name="dr.curator"),
        AccessToken(token=SUBMITTER_A, role="submitter", name="Clinic A", datasets=["clinic-a"]),
        AccessToken(token=SUBMITTER_B, role="submitter", name="Clinic B", datasets=["clinic-b"]),
    ]


@dataclass
class Env:
    """A workspace, its settings and the app serving it."""

    workspace: Path
    pipeline: Settings
    app: FastAPI
    landing: Path

    @property
    def store(self) -> StateStore:
        return StateStore(self.pipeline.registry)

    def client(self, token: str | None = None) -> TestClient:
        """A client; with a token it is signed in through the sign-in page (cookie session)."""
        client = TestClient(self.app, follow_redirects=False)
        if token is not None:
            sign_in(client, token)
        return client


def sign_in(client: TestClient, token: str) -> None:
    page = client.get("/dashboard/login")
    nonce = page.text.split('name="nonce" value="')[1].split('"')[0]
    done = client.post("/dashboard/login", data={"token": token, "nonce": nonce, "next": ""})
    assert done.status_code == 303, done.text


def csrf_of(html: str) -> str:
    return html.split('name="csrf" value="')[1].split('"')[0]


def make_env(
    workspace: Path, *, jwt: JwtSettings | None = None, pipeline: Settings | None = None
) -> Env:
    workspace.mkdir(parents=True, exist_ok=True)
    landing = workspace.parent / "landing"
    landing.mkdir(exist_ok=True)
    pipeline = pipeline or Settings(
        workspace=workspace, data_docs=False, run_great_expectations=False
    )
    settings = WebSettings(
        drs=DrsSettings(workspace=workspace, registry_url=default_registry_url(workspace)),
        dashboard=DashboardSettings(
            secret_key=SECRET, tokens=tokens(), jwt=jwt, landing_dir=landing, pipeline=pipeline
        ),
    )
    return Env(workspace, pipeline, create_app(settings), landing)


@pytest.fixture
def env(tmp_path: Path) -> Env:
    return make_env(tmp_path / "workspace")


def finding(
    category: str, level: str = "error", *, row: int = 3, column: str = "sex", value: str = "x"
) -> dict[str, Any]:
    return {
        "level": level,
        "category": category,
        "message": f"{category} in {column}",
        "validator": "test",
        "location": {
            "file": "cases.csv",
            "sheet": None,
            "row": row,
            "column": column,
            "value": value,
        },
        "hint": "fix the cell",
        "data": {},
    }


def add_submission(
    env: Env,
    sid: str,
    *,
    status: str = "published",
    submitter: str = "Clinic A",
    dataset: str = "clinic-a",
    access: str = "public",
    findings: list[dict[str, Any]] | None = None,
    mappings: list[dict[str, Any]] | None = None,
    individuals: int = 3,
    received_at: datetime | None = None,
) -> None:
    """A submission in the state store with a report JSON, as the pipeline leaves them."""
    report_dir = env.pipeline.reports_dir / sid
    report_dir.mkdir(parents=True, exist_ok=True)
    report = {
        "submission_id": sid,
        "status": status,
        "validators": ["test"],
        "findings": findings or [],
        "stats": {},
        "data_docs": [],
        "mappings": mappings or [],
    }
    (report_dir / "report.json").write_text(json.dumps(report))
    (report_dir / "report.html").write_text("<html><body>report</body></html>")
    sha = f"{abs(hash(sid)):064x}"[-64:]
    store = env.store
    store.set_status(sid, sha, "received", submitter=submitter, dataset=dataset, access=access)
    store.set_status(
        sid,
        sha,
        status,  # type: ignore[arg-type]
        report_path=str(report_dir / "report.json"),
        stats={"individuals": individuals, "phenotypic_features": individuals * 4},
    )
    if received_at is not None:
        with store.engine.begin() as conn:
            conn.execute(
                submissions.update()
                .where(submissions.c.id == sid)
                .values(received_at=received_at, updated_at=datetime.now(UTC))
            )
    time.sleep(0.002)  # distinct received_at order


@pytest.fixture
def seeded(env: Env) -> Env:
    add_submission(env, "a-good", individuals=5)
    add_submission(
        env,
        "a-bad",
        status="rejected",
        findings=[finding("missing-required-field", row=r) for r in range(2, 10)]
        + [finding("inexact-term-match", "warning", column="symptoms", value="Seizures")],
        individuals=4,
    )
    add_submission(
        env,
        "b-secret",
        submitter="Clinic B",
        dataset="clinic-b",
        access="controlled",
        status="rejected",
        findings=[finding("malformed-age", value="<script>alert(1)</script>", column="age")],
    )
    return env
