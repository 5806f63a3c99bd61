"""``POST /admin/drs/v1/withdrawals``: withdraw a participant, behind the admin token.

The same operation as ``harmonize withdraw`` (:mod:`harmonize.drs.withdrawals`): 201 with
what it did; 200 ``already-withdrawn`` for a repeat; 404 for a subject the dataset does not
hold, and then nothing changes.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Response

from harmonize.drs.deps import PipelineDep, RegistryDep
from harmonize.drs.http_errors import DrsHTTPError
from harmonize.drs.routes.admin import require_admin
from harmonize.drs.schemas import Error
from harmonize.drs.withdrawals import (
    UnknownSubject,
    WithdrawalAnswer,
    WithdrawalRequest,
    withdraw_subject,
)
from harmonize.errors import TransientError

RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": WithdrawalAnswer, "description": "already withdrawn: nothing changed"},
    400: {"model": Error, "description": "a malformed request"},
    401: {"model": Error, "description": "no valid admin token"},
    403: {"model": Error, "description": "the admin API is disabled"},
    404: {"model": Error, "description": "the dataset holds no such subject: nothing changed"},
    413: {"model": Error, "description": "the request body is over the service's limit"},
    503: {"model": Error, "description": "the warehouse is busy or unreachable; retry later"},
}

router = APIRouter(
    prefix="/withdrawals",
    tags=["Admin"],
    dependencies=[Depends(require_admin)],
    responses=RESPONSES,
)


@router.post("", response_model=WithdrawalAnswer, status_code=201)
def create_withdrawal(
    body: WithdrawalRequest, pipeline: PipelineDep, registry: RegistryDep, response: Response
) -> WithdrawalAnswer:
    """Remove a participant from every table, tombstone their DRS objects, record it."""
    try:
        done = withdraw_subject(pipeline, registry, body)
    except UnknownSubject as exc:
        raise DrsHTTPError(404, f"{exc.message}; nothing was changed") from exc
    except TransientError as exc:
        raise DrsHTTPError(503, str(exc)) from exc
    if done.status == "already-withdrawn":
        response.status_code = 200
    return done
