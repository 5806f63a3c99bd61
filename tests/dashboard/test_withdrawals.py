"""Withdrawal as a curator action: the form, its refusals, the outcome and the audit log."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from harmonize.drs.registry import Registry
from harmonize.pipeline import ingest
from harmonize.warehouse import Warehouse, current

from .conftest import CURATOR, SUBMITTER_A, Env, csrf_of, make_env
from .pipeline_data import pipeline_settings

DATASET = "phenopacket-store"
SUBJECT = "Proband 1 from PMID 9050047"  # a real individual of the SUOX cohort
FORM = {"dataset": DATASET, "subject": SUBJECT, "reason": "consent withdrawn", "confirm": "yes"}


def audit_entries(env: Env) -> list[dict[str, object]]:
    return env.app.state.dashboard.audit.entries()


def test_only_curators_with_the_form_token(env: Env) -> None:
    submitter = env.client(SUBMITTER_A)
    assert submitter.get("/dashboard/withdrawals").status_code == 403
    token = csrf_of(submitter.get("/dashboard/submissions").text)
    assert submitter.post("/dashboard/withdrawals", data={**FORM, "csrf": token}).status_code == 403
    assert 'href="/dashboard/withdrawals"' not in submitter.get("/dashboard/submissions").text

    curator = env.client(CURATOR)
    page = curator.get("/dashboard/withdrawals")
    assert page.status_code == 200 and 'data-testid="withdraw-form"' in page.text
    assert 'href="/dashboard/withdrawals"' in page.text  # in the curator's menu
    assert curator.post("/dashboard/withdrawals", data=FORM).status_code == 403  # no CSRF token
    forged = curator.post("/dashboard/withdrawals", data={**FORM, "csrf": "guessed"})
    assert forged.status_code == 403
    csrf = csrf_of(page.text)
    blank = curator.post("/dashboard/withdrawals", data={**FORM, "subject": " ", "csrf": csrf})
    assert blank.status_code == 400 and "Give the dataset and the subject id" in blank.text
    nul = curator.post("/dashboard/withdrawals", data={**FORM, "dataset": "a\x00b", "csrf": csrf})
    assert nul.status_code == 400  # PostgreSQL refuses NUL in text: refused before any query
    unconfirmed = {**FORM, "csrf": csrf}
    del unconfirmed["confirm"]
    refused = curator.post("/dashboard/withdrawals", data=unconfirmed)
    assert refused.status_code == 400 and "cannot be undone" in refused.text
    assert SUBJECT not in refused.text  # the form keeps the dataset and reason, not the id
    assert 'value="phenopacket-store"' in refused.text
    assert curator.get("/dashboard/withdrawals/1").status_code == 404
    assert not [e for e in audit_entries(env) if str(e["action"]).startswith("withdrawal")]


def test_an_unknown_subject_changes_nothing_and_is_audited_without_the_id(env: Env) -> None:
    curator = env.client(CURATOR)
    csrf = csrf_of(curator.get("/dashboard/withdrawals").text)
    answer = curator.post("/dashboard/withdrawals", data={**FORM, "csrf": csrf})
    assert answer.status_code == 404
    assert "nothing was changed" in answer.text and SUBJECT not in answer.text
    entry = audit_entries(env)[0]
    assert (entry["actor"], entry["action"], entry["detail"]) == (
        "dr.curator",
        "withdrawal.not-found",
        DATASET,
    )
    assert SUBJECT not in str(audit_entries(env))


@pytest.mark.integration
def test_a_curator_withdraws_a_participant(
    tmp_path: Path, submissions: Path, ontology_cache: Path
) -> None:
    settings = pipeline_settings(tmp_path / "workspace", ontology_cache)
    env = make_env(settings.workspace, pipeline=settings)
    source = Path(shutil.copytree(submissions / "suox-isod", tmp_path / "suox-isod"))
    assert ingest(source, settings).status == "published"
    registry = Registry(settings.registry)

    def subjects() -> list[str]:
        table = Warehouse.of(settings).read("individuals", current(registry))
        return table.column("subject_id").to_pylist()

    assert SUBJECT in subjects() and len(subjects()) == 35
    submitter = env.client(SUBMITTER_A)
    token = csrf_of(submitter.get("/dashboard/submissions").text)
    assert submitter.post("/dashboard/withdrawals", data={**FORM, "csrf": token}).status_code == 403
    curator = env.client(CURATOR)
    assert curator.post("/dashboard/withdrawals", data=FORM).status_code == 403  # no CSRF
    assert SUBJECT in subjects()  # neither refusal changed anything

    csrf = csrf_of(curator.get("/dashboard/withdrawals").text)
    done = curator.post("/dashboard/withdrawals", data={**FORM, "csrf": csrf})
    assert done.status_code == 303
    target = done.headers["location"]
    assert re.fullmatch(r"/dashboard/withdrawals/(\d+)\?outcome=withdrawn", target), target
    withdrawal_id = int(target.split("/")[-1].split("?")[0])
    assert SUBJECT not in subjects() and len(subjects()) == 34

    page = curator.get(target)
    assert page.status_code == 200 and 'data-testid="outcome"' in page.text
    assert '<td class="num" data-table="individuals">1</td>' in page.text
    assert "dr.curator" in page.text and "consent withdrawn" in page.text
    assert 'href="/dashboard/submissions/suox-isod"' in page.text
    assert SUBJECT not in page.text
    listed = curator.get("/dashboard/withdrawals").text
    assert f'data-withdrawal="{withdrawal_id}"' in listed and SUBJECT not in listed

    entry = audit_entries(env)[0]
    assert entry["actor"] == "dr.curator" and entry["action"] == "withdrawal"
    assert entry["target"] == f"withdrawal/{withdrawal_id}"
    assert DATASET in str(entry["detail"]) and "withdrawn" in str(entry["detail"])
    assert entry["at"] is not None
    assert SUBJECT not in str(audit_entries(env))
    assert SUBJECT not in curator.get("/dashboard/audit").text

    # the same form again: already withdrawn, pointing at the same withdrawal
    again = curator.post("/dashboard/withdrawals", data={**FORM, "csrf": csrf})
    assert again.headers["location"] == (
        f"/dashboard/withdrawals/{withdrawal_id}?outcome=already-withdrawn"
    )
    assert "Already withdrawn" in curator.get(again.headers["location"]).text
    assert len(subjects()) == 34


def test_withdrawal_pages_refuse_bad_ids(tmp_path: Path) -> None:
    env = make_env(tmp_path / "workspace")
    curator = env.client(CURATOR)
    assert curator.get("/dashboard/withdrawals/0").status_code == 400
    assert curator.get(f"/dashboard/withdrawals/{2**63}").status_code == 400
    assert curator.get("/dashboard/withdrawals/7").status_code == 404
