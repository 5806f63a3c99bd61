"""POST /submissions and GET /submissions/{id} through the whole web app (TestClient)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from harmonize.drs.config import DrsSettings, default_registry_url
from harmonize.events import SUBMISSIONS, LocalEventLog, created_data, parse_envelope
from harmonize.intake.config import IntakeSettings
from harmonize.state.store import StateStore
from harmonize.web import WebSettings, create_app

CLINIC_TOKEN = "clinic-token-0123456789abcdef"
OTHER_TOKEN = "other-lab-token-0123456789abcdef"
CLINIC = "Example Children's Clinic"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return tmp_path / "ws"


def make_client(workspace: Path, **limits: int) -> TestClient:
    settings = WebSettings(
        drs=DrsSettings(workspace=workspace, registry_url=default_registry_url(workspace)),
        intake=IntakeSettings(tokens={CLINIC_TOKEN: CLINIC, OTHER_TOKEN: "Other Lab"}, **limits),
    )
    return TestClient(create_app(settings))


@pytest.fixture
def client(workspace: Path) -> Iterator[TestClient]:
    with make_client(workspace) as c:
        yield c


def auth(token: str = CLINIC_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def parts(directory: Path, *, manifest: bytes | None = None, names: dict[str, str] | None = None):
    """The multipart parts of a submission directory (``names`` renames file parts)."""
    names = names or {}
    out = [("manifest", ("manifest.yaml", manifest or (directory / "manifest.yaml").read_bytes()))]
    for f in ("clinic_export.csv", "mapping.yaml"):
        out.append(("files", (names.get(f, f), (directory / f).read_bytes())))
    return out


def events(workspace: Path) -> list[bytes]:
    log = LocalEventLog(workspace / "events")
    try:
        return [m.value for m in log.consume(SUBMISSIONS, group="t", timeout_s=0, max_messages=50)]
    finally:
        log.close()


def landed(workspace: Path) -> list[str]:
    root = workspace / "landing"
    return (
        sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
        if root.exists()
        else []
    )


def test_upload_is_landed_announced_and_tracked(
    client: TestClient, clinic: Path, workspace: Path
) -> None:
    answer = client.post("/submissions", files=parts(clinic), headers=auth())
    assert answer.status_code == 202, answer.text
    body = answer.json()
    sha = body["manifest_sha256"]  # the manifest as landed: the mapping's digest added
    manifest = workspace / "landing" / "clinic-2026-11" / sha / "manifest.yaml"
    assert hashlib.sha256(manifest.read_bytes()).hexdigest() == sha
    assert yaml.safe_load(manifest.read_text()) == {
        **yaml.safe_load((clinic / "manifest.yaml").read_text()),
        "mapping_sha256": hashlib.sha256((clinic / "mapping.yaml").read_bytes()).hexdigest(),
    }
    assert body["submission_id"] == "clinic-2026-11"
    assert body["status_url"] == "http://testserver/submissions/clinic-2026-11"
    assert answer.headers["location"] == body["status_url"]
    assert landed(workspace) == [
        f"clinic-2026-11/{sha}/{n}" for n in ("clinic_export.csv", "manifest.yaml", "mapping.yaml")
    ]
    [value] = events(workspace)
    data = created_data(parse_envelope(value))
    assert (data.submission_id, data.manifest_sha256) == ("clinic-2026-11", sha)
    assert parse_envelope(value).source == "urn:harmonize:intake:api"
    assert not any((workspace / "uploads").iterdir())  # the staging upload is gone

    status = client.get(body["status_url"], headers=auth()).json()
    assert status["status"] == "received"
    [version] = status["versions"]
    assert [h["status"] for h in version["history"]] == ["received"]
    assert version["received_at"].endswith("Z") and version["report_url"] is None

    # processing moves it on; the status follows, with the report
    report = workspace / "reports" / "clinic.json"
    report.parent.mkdir(parents=True)
    report.write_text(json.dumps({"status": "rejected", "findings": []}))
    store = StateStore(default_registry_url(workspace))
    store.set_status("clinic-2026-11", sha, "processing")
    store.set_status("clinic-2026-11", sha, "rejected", report_path=str(report), detail="2 errors")
    status = client.get(body["status_url"], headers=auth()).json()
    assert status["status"] == "rejected"
    history = status["versions"][0]["history"]
    assert [h["status"] for h in history] == ["received", "processing", "rejected"]
    assert history[0]["at"] <= history[1]["at"] <= history[2]["at"]
    fetched = client.get(status["versions"][0]["report_url"], headers=auth())
    assert fetched.status_code == 200 and fetched.json()["status"] == "rejected"


@pytest.mark.parametrize(
    "headers", [{}, auth("wrong-token-0123456789abcdef"), {"Authorization": "Basic eDp5"}]
)
def test_without_a_valid_token_401(
    client: TestClient, clinic: Path, workspace: Path, headers: dict[str, str]
) -> None:
    answer = client.post("/submissions", files=parts(clinic), headers=headers)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"
    assert client.get("/submissions/clinic-2026-11", headers=headers).status_code == 401
    assert landed(workspace) == [] and events(workspace) == []


def test_wrong_checksum_422_names_the_file(
    client: TestClient, clinic: Path, workspace: Path
) -> None:
    (clinic / "clinic_export.csv").write_bytes((clinic / "clinic_export.csv").read_bytes() + b"\n")
    answer = client.post("/submissions", files=parts(clinic), headers=auth())
    assert answer.status_code == 422
    assert answer.json()["file"] == "clinic_export.csv"
    assert "sha-256 mismatch" in answer.json()["msg"]
    assert landed(workspace) == [] and events(workspace) == []


def test_oversized_file_413(clinic: Path, workspace: Path) -> None:
    with make_client(workspace, max_file_bytes=100) as small:
        answer = small.post("/submissions", files=parts(clinic), headers=auth())
    assert answer.status_code == 413
    assert answer.json()["file"] in ("clinic_export.csv", "mapping.yaml")
    assert landed(workspace) == [] and events(workspace) == []


def test_oversized_request_413(clinic: Path, workspace: Path) -> None:
    with make_client(workspace, max_request_bytes=1000) as small:
        answer = small.post("/submissions", files=parts(clinic), headers=auth())
    assert answer.status_code == 413
    assert landed(workspace) == []


@pytest.mark.parametrize(
    "name", ["../clinic_export.csv", "/etc/clinic_export.csv", "a/../../x.csv", "..\\x.csv"]
)
def test_traversal_in_file_names_422(
    client: TestClient, clinic: Path, workspace: Path, name: str
) -> None:
    answer = client.post(
        "/submissions", files=parts(clinic, names={"clinic_export.csv": name}), headers=auth()
    )
    assert answer.status_code == 422, answer.text
    assert "leaves the submission" in answer.json()["msg"]
    assert landed(workspace) == [] and events(workspace) == []
    assert not (workspace.parent / "clinic_export.csv").exists()


def test_files_not_in_the_manifest_are_refused(
    client: TestClient, clinic: Path, workspace: Path
) -> None:
    extra = [*parts(clinic), ("files", ("notes.txt", b"hello"))]
    answer = client.post("/submissions", files=extra, headers=auth())
    assert answer.status_code == 422 and answer.json()["file"] == "notes.txt"


def test_manifest_must_name_the_token_submitter(
    client: TestClient, clinic: Path, workspace: Path
) -> None:
    answer = client.post("/submissions", files=parts(clinic), headers=auth(OTHER_TOKEN))
    assert answer.status_code == 403
    assert events(workspace) == []


def test_bad_manifest_422(client: TestClient, clinic: Path) -> None:
    answer = client.post(
        "/submissions", files=parts(clinic, manifest=b"profile: [unclosed\n"), headers=auth()
    )
    assert answer.status_code == 422 and answer.json()["file"] == "manifest.yaml"


def test_another_submitters_submission_is_404_and_its_id_is_taken(
    client: TestClient, clinic: Path, workspace: Path
) -> None:
    assert client.post("/submissions", files=parts(clinic), headers=auth()).status_code == 202
    assert client.get("/submissions/clinic-2026-11", headers=auth(OTHER_TOKEN)).status_code == 404
    assert client.get("/submissions/never-submitted", headers=auth()).status_code == 404
    # the other lab cannot publish under the clinic's id either
    data = yaml.safe_load((clinic / "manifest.yaml").read_text())
    data["submitter"] = "Other Lab"
    answer = client.post(
        "/submissions",
        files=parts(clinic, manifest=yaml.safe_dump(data).encode()),
        headers=auth(OTHER_TOKEN),
    )
    assert answer.status_code == 409
    assert len(events(workspace)) == 1


def test_not_served_without_tokens(workspace: Path) -> None:
    settings = WebSettings(
        drs=DrsSettings(workspace=workspace, registry_url=default_registry_url(workspace))
    )
    with TestClient(create_app(settings)) as plain:
        assert plain.post("/submissions", headers=auth()).status_code in (404, 405)
