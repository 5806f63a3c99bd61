"""One root exception, a family per stage, each marked transient or terminal.

Findings about the *data* are not exceptions (see :mod:`harmonize.quality.findings`).
Exceptions are for failures to run. A *terminal* error means retrying the same input
cannot help (bad input, bad configuration): the submission is rejected with a report.
A *transient* error means a retry may help (a broker down, a storage timeout).

>>> err = SubmissionError("checksum mismatch", file="cases.csv", hint="re-upload the file")
>>> err.transient
False
>>> str(err)
'cases.csv: checksum mismatch. re-upload the file'
"""

from __future__ import annotations

from typing import Any


class HarmonizeError(Exception):
    """Root of every error Harmonize raises on purpose.

    Attributes carry the evidence: where it happened and what to do next.
    """

    transient: bool = False

    def __init__(
        self,
        message: str,
        *,
        submission_id: str | None = None,
        file: str | None = None,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
        value: Any = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.submission_id = submission_id
        self.file = file
        self.sheet = sheet
        self.row = row
        self.column = column
        self.value = value
        self.hint = hint

    @property
    def where(self) -> str:
        """``file [sheet] row N, column C`` as far as known."""
        parts = []
        if self.file:
            parts.append(self.file)
        if self.sheet:
            parts.append(f"sheet {self.sheet!r}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column!r}")
        return ", ".join(parts)

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.hint:
            text += f". {self.hint}"
        return text


class TransientError(HarmonizeError):
    """A retry may help."""

    transient = True


class TerminalError(HarmonizeError):
    """Retrying the same input cannot help."""

    transient = False


class ConfigurationError(TerminalError):
    """Settings, a profile or a mapping file are wrong."""


class SubmissionError(TerminalError):
    """The submission itself is unusable: manifest, checksums, paths, sizes."""


class ReadError(TerminalError):
    """A data file cannot be parsed."""


class LimitExceeded(ReadError):
    """A file is over one of the reader limits (:class:`harmonize.settings.Limits`).

    ``limit`` names the field, e.g. ``max_rows``; the message gives the figure and the limit.
    """

    def __init__(self, message: str, *, limit: str, **evidence: Any) -> None:
        evidence.setdefault(
            "hint",
            f"split the file, or ask the data centre to raise limits.{limit} "
            f"(HARMONIZE_LIMIT_{limit.upper()})",
        )
        super().__init__(message, **evidence)
        self.limit = limit


class MappingError(TerminalError):
    """Rows cannot be mapped to Phenopackets with the chosen profile."""


class OntologyError(TerminalError):
    """An ontology release is missing, corrupt or does not match its manifest."""


class PublishError(TransientError):
    """Writing or committing published output failed; a retry may help."""


class AlreadyPublished(HarmonizeError):
    """The same submission (id and manifest hash) was published before."""


class RegistryError(TransientError):
    """The DRS registry could not be reached or written."""
