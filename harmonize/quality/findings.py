"""Findings and the quality report: data-quality results are data, not exceptions.

>>> f = Finding(level="error", category="unknown-term", message="HP:9999999 is not in HPO",
...             validator="ontology-ids", location=Location(file="a.csv", row=3, column="hpo"))
>>> report = QualityReport(submission_id="s1", findings=[f], validators=["ontology-ids"])
>>> report.counts()["error"]
1
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Literal

from pydantic import BaseModel, Field

Level = Literal["error", "warning", "info"]
LEVELS: tuple[Level, ...] = ("error", "warning", "info")


class Location(BaseModel):
    """Where a finding points, in the submitter's own terms (1-based rows as a spreadsheet shows)."""

    file: str | None = None
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    value: str | None = None
    phenopacket_id: str | None = None
    path: str | None = None  # a JSON path inside a phenopacket, e.g. phenotypicFeatures[2].type.id

    def describe(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file)
        if self.sheet:
            parts.append(f"sheet {self.sheet}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column}")
        if self.phenopacket_id and not parts:
            parts.append(f"phenopacket {self.phenopacket_id}")
        if self.path:
            parts.append(self.path)
        return ", ".join(parts)


class Finding(BaseModel):
    level: Level
    category: str
    message: str
    validator: str
    location: Location = Field(default_factory=Location)
    hint: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)

    @property
    def weight(self) -> int:
        """How many findings this one stands for: a summary, its ``omitted``; else 1."""
        if self.data.get("summary"):
            return int(self.data.get("omitted") or 0)
        return 1


class QualityReport(BaseModel):
    """Everything known about one submission's quality: which validators ran and what they found."""

    submission_id: str
    status: Literal["published", "rejected", "pending"] = "pending"
    validators: list[str] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    stats: dict[str, int] = Field(default_factory=dict)
    data_docs: list[str] = Field(default_factory=list)
    mappings: list[dict[str, Any]] = Field(default_factory=list)

    def add(self, findings: list[Finding]) -> None:
        self.findings.extend(findings)

    def ran(self, validator: str) -> None:
        if validator not in self.validators:
            self.validators.append(validator)

    def counts(self) -> dict[str, int]:
        """Findings per level, a summary counting the findings it stands for."""
        c: Counter[str] = Counter()
        for f in self.findings:
            c[f.level] += f.weight
        return {level: c.get(level, 0) for level in LEVELS}

    def by_category(self) -> dict[tuple[str, str], list[Finding]]:
        groups: dict[tuple[str, str], list[Finding]] = {}
        for f in self.findings:
            groups.setdefault((f.level, f.category), []).append(f)
        return groups
