"""A participant's withdrawal through the admin API: the request, the answer, and the call.

``POST /admin/drs/v1/withdrawals`` (:mod:`harmonize.drs.routes.withdrawals`) runs the same
operation as ``harmonize withdraw``: :func:`harmonize.lifecycle.withdraw.withdraw`, then,
with ``erase``, :func:`harmonize.lifecycle.erase.erase`. The answer carries ids and counts,
never the subject id.

>>> WithdrawalRequest(dataset="d", subject="P1", by="dr.c").erase
False
>>> from pydantic import ValidationError
>>> try:
...     WithdrawalRequest(dataset="d", subject="P1", by="  ")
... except ValidationError as exc:
...     print(exc.errors()[0]["loc"])
('by',)
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from harmonize.errors import ConfigurationError

if TYPE_CHECKING:
    from harmonize.drs.registry import Registry
    from harmonize.settings import Settings


class UnknownSubject(ConfigurationError):
    """The dataset holds no such subject (now or in any version): nothing was changed."""


class WithdrawalRequest(BaseModel):
    """Who leaves which dataset, who asks, and why."""

    model_config = ConfigDict(extra="forbid")

    dataset: str = Field(min_length=1, max_length=255)
    subject: str = Field(
        min_length=1, max_length=255, description="The subject id the submitter gave."
    )
    by: str = Field(min_length=1, max_length=255, description="Who withdraws the subject.")
    reason: str | None = Field(default=None, max_length=4096)
    erase: bool = Field(
        default=False, description="Also expire the tables' history that still holds the rows."
    )

    # checked here, not as a schema pattern: JSON Schema and Python disagree on what \s is
    @field_validator("dataset", "subject", "by")
    @classmethod
    def _text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        if any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise ValueError("must not contain control characters")
        return value

    @field_validator("reason")
    @classmethod
    def _no_nul(cls, value: str | None) -> str | None:
        if value is not None and "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value


class Erased(BaseModel):
    """What ``erase`` removed: history before ``publication`` is gone."""

    publication: int
    files: int  # old table files removed


class WithdrawalAnswer(BaseModel):
    """What the withdrawal did (or, for a repeat, which earlier withdrawal did it)."""

    id: int
    status: Literal["withdrawn", "already-withdrawn"]
    dataset: str
    publication: int | None = Field(description="The withdrawal's publication; null on a repeat.")
    created_time: datetime | None
    submissions: list[str] = Field(description="The submissions that held the subject.")
    rows: dict[str, int] = Field(description="Rows removed from the current tables, per table.")
    objects: int = Field(description="DRS objects tombstoned as withdrawn.")
    bundles: list[str] = Field(description="Bundles that lost members (new checksums).")
    erased: Erased | None = None


def withdraw_subject(
    settings: Settings, registry: Registry, request: WithdrawalRequest
) -> WithdrawalAnswer:
    """Withdraw, then erase when asked.

    Raises :class:`UnknownSubject` when the dataset does not hold the subject (nothing
    changes then); transient errors (the warehouse lock, the registry) as they come.
    """
    from harmonize.lifecycle.erase import erase
    from harmonize.lifecycle.withdraw import withdraw

    try:
        done = withdraw(
            settings,
            registry,
            dataset=request.dataset,
            subject=request.subject,
            by=request.by,
            reason=request.reason,
        )
    except ConfigurationError as exc:  # the one it raises: no such subject, nothing done
        raise UnknownSubject(exc.message, hint=exc.hint) from exc
    erased = None
    if request.erase:
        result = erase(settings, registry)
        erased = Erased(publication=result.seq, files=sum(result.files.values()))
    return WithdrawalAnswer(
        id=done.id,
        status="withdrawn" if done.status == "withdrawn" else "already-withdrawn",
        dataset=request.dataset,
        publication=done.seq or None,
        created_time=done.created_time,
        submissions=done.submissions,
        rows=done.rows,
        objects=done.objects,
        bundles=done.bundles,
        erased=erased,
    )
