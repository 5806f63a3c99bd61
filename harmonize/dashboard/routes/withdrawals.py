"""Withdrawals (curators only): withdraw a participant from a dataset, and the record of it.

The form runs :func:`harmonize.drs.withdrawals.withdraw_subject` as the signed-in curator:
the operation behind ``harmonize withdraw`` and ``POST /admin/drs/v1/withdrawals``.
The audit log and the pages keep the withdrawal's id, dataset and times, never the
subject id.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from harmonize.dashboard.context import PREFIX, Dashboard
from harmonize.dashboard.deps import Caller, CuratorDep, DashboardDep, FormDep, render
from harmonize.dashboard.errors import NotFound, Unavailable
from harmonize.errors import TransientError
from harmonize.warehouse import TABLES
from harmonize.warehouse.ledger import PublicationRow, WithdrawalRow

router = APIRouter()

RECENT = 50  # withdrawals listed under the form


def _record(row: WithdrawalRow, publication: PublicationRow | None) -> dict[str, Any]:
    counts = (publication.counts if publication is not None else None) or {}
    return {
        "id": row.id,
        "dataset": row.dataset,
        "by": row.by,
        "reason": row.reason,
        "created_time": row.created_time,
        "erased_time": row.erased_time,
        "publication": row.seq,
        "rows": {name: int((row.rows or {}).get(name, 0)) for name in TABLES},
        "objects": row.objects,
        "submissions": list(counts.get("submissions") or []),
    }


def _recent(dashboard: Dashboard) -> list[dict[str, Any]]:
    query = select(WithdrawalRow).order_by(WithdrawalRow.id.desc()).limit(RECENT)
    with dashboard.registry.session() as session:
        return [_record(row, None) for row in session.scalars(query)]


def _page(
    dashboard: Dashboard,
    who: Caller,
    *,
    status: int = 200,
    refused: str | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    return render(
        "withdrawals.html.j2",
        who,
        status=status,
        withdrawals=_recent(dashboard),
        datasets=dashboard.read.facets(who.principal)["dataset"],
        refused=refused,
        form=form or {},
    )


@router.get("/withdrawals", response_class=HTMLResponse)
def withdrawals_page(dashboard: DashboardDep, who: CuratorDep) -> Response:
    """The form, and the latest withdrawals."""
    return _page(dashboard, who)


@router.post("/withdrawals", response_class=HTMLResponse)
def withdraw_subject(dashboard: DashboardDep, who: CuratorDep, form: FormDep) -> Response:
    """Withdraw the subject as the signed-in curator; then show the withdrawal's record."""
    from pydantic import ValidationError

    from harmonize.drs import withdrawals

    dataset = (form.get("dataset") or "").strip()
    subject = (form.get("subject") or "").strip()
    reason = (form.get("reason") or "").strip() or None
    kept = {"dataset": dataset, "reason": reason or ""}  # the subject id is never echoed
    principal = who.principal
    try:
        request = withdrawals.WithdrawalRequest(
            dataset=dataset, subject=subject, by=principal.name, reason=reason
        )
    except ValidationError:
        return _page(
            dashboard,
            who,
            status=400,
            refused="Give the dataset and the subject id (plain text), and a reason of at "
            "most 4096 characters.",
            form=kept,
        )
    if form.get("confirm") != "yes":
        return _page(
            dashboard,
            who,
            status=400,
            refused="Tick the box to confirm: a withdrawal cannot be undone.",
            form=kept,
        )
    try:  # the admin API's code path, without erasure
        done = withdrawals.withdraw_subject(dashboard.pipeline, dashboard.registry, request)
    except withdrawals.UnknownSubject:  # nothing was changed
        dashboard.audit.record(
            principal.name, principal.role, "withdrawal.not-found", "withdrawals", dataset
        )
        return _page(
            dashboard,
            who,
            status=404,
            refused=f"Dataset {dataset} holds no individual with that subject id, now or in "
            "an earlier version: nothing was changed. Check the id the submitter gave.",
            form=kept,
        )
    except TransientError as exc:
        raise Unavailable(f"the withdrawal could not run now; try again shortly ({exc})") from exc
    dashboard.audit.record(
        principal.name,
        principal.role,
        "withdrawal",
        f"withdrawal/{done.id}",
        f"dataset {dataset}; {done.status}; publication {done.publication or '-'}",
    )
    return RedirectResponse(
        f"{PREFIX}/withdrawals/{done.id}?outcome={done.status}", status_code=303
    )


@router.get("/withdrawals/{withdrawal_id}", response_class=HTMLResponse)
def withdrawal_page(
    withdrawal_id: Annotated[int, Path(ge=1, lt=2**63)],
    dashboard: DashboardDep,
    who: CuratorDep,
    outcome: str | None = None,
) -> Response:
    """One withdrawal: when, by whom, what it removed, and the submissions it touched."""
    with dashboard.registry.session() as session:
        row = session.get(WithdrawalRow, withdrawal_id)
        if row is None:
            raise NotFound(f"no withdrawal {withdrawal_id}")
        publication = session.get(PublicationRow, row.seq) if row.seq is not None else None
        record = _record(row, publication)
    return render(
        "withdrawal.html.j2",
        who,
        w=record,
        outcome=outcome if outcome in ("withdrawn", "already-withdrawn") else None,
    )
