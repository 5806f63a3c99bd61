"""Collect findings without drowning in them.

A million rows with the same bad value should give one group with a count and the
first examples, not a million objects. The collector keeps the first ``max_examples``
findings per (validator, category, level) and counts the rest.

>>> c = FindingCollector(max_examples=2)
>>> for row in range(5):
...     c.add("error", "bad-sex", "sex 'X' not understood", "case-template", row=row + 3)
>>> [f.location.row for f in c.findings()]
[3, 4, None]
>>> c.findings()[-1].data["more"]
3
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from harmonize.quality.findings import Finding, Level, Location

# the finding level of an unmapped term under each unmapped-term policy
POLICY_LEVEL: dict[str, Level] = {"reject": "error", "flag": "warning", "drop": "info"}


class FindingCollector:
    def __init__(self, max_examples: int = 100) -> None:
        self.max_examples = max_examples
        self._kept: list[Finding] = []
        self._counts: Counter[tuple[str, str, str]] = Counter()
        self._first: dict[tuple[str, str, str], Finding] = {}
        self._kept_n: Counter[tuple[str, str, str]] = Counter()

    def add(
        self,
        level: Level,
        category: str,
        message: str,
        validator: str,
        *,
        hint: str | None = None,
        data: dict[str, Any] | None = None,
        **where: Any,
    ) -> None:
        key = (validator, category, level)
        self._counts[key] += 1
        if self._counts[key] > self.max_examples:
            return
        finding = Finding(
            level=level,
            category=category,
            message=message,
            validator=validator,
            location=Location(**{k: v for k, v in where.items() if v is not None}),
            hint=hint,
            data=data or {},
        )
        self._keep(key, finding)

    def room(self, validator: str, category: str, level: Level) -> int:
        """How many more findings of this group would be kept as examples."""
        return max(0, self.max_examples - self._counts[(validator, category, level)])

    def tally(self, validator: str, category: str, level: Level, n: int) -> None:
        """Count ``n`` findings of a group whose examples are already kept (see :meth:`room`)."""
        if n > 0:
            if (validator, category, level) not in self._first:
                raise ValueError("tally a group only after its first example was added")
            self._counts[(validator, category, level)] += n

    def extend(self, findings: list[Finding]) -> None:
        for f in findings:
            key = (f.validator, f.category, f.level)
            self._counts[key] += 1
            if self._counts[key] <= self.max_examples:
                self._keep(key, f)

    def _keep(self, key: tuple[str, str, str], finding: Finding) -> None:
        self._first.setdefault(key, finding)
        self._kept.append(finding)
        self._kept_n[key] += 1

    def dump(self) -> dict[str, Any]:
        """The kept findings and every group's count, JSON-safe: what :meth:`merge` takes."""
        return {
            "kept": [f.model_dump(mode="json") for f in self._kept],
            "counts": [[*key, n] for key, n in self._counts.items()],
        }

    def merge(self, dumped: dict[str, Any]) -> None:
        """Add another collector's :meth:`dump`, as if its findings had been added here.

        Batches checked apart (in separate processes) merge in batch order into the
        same findings, counts and examples one collector would have kept.
        """
        for data in dumped["kept"]:
            finding = Finding.model_validate(data)
            key = (finding.validator, finding.category, finding.level)
            if self._kept_n[key] < self.max_examples:
                self._keep(key, finding)
        for validator, category, level, n in dumped["counts"]:
            self._counts[(validator, category, level)] += n

    def category_count(self, category: str) -> int:
        """How many findings of ``category`` there were (every level, every validator)."""
        return sum(n for (_, cat, _), n in self._counts.items() if cat == category)

    def count(self, level: Level | None = None) -> int:
        return sum(n for (_, _, lvl), n in self._counts.items() if level is None or lvl == level)

    def findings(self) -> list[Finding]:
        """The kept examples, plus one summary per group that had more than it kept."""
        out = list(self._kept)
        for key, n in self._counts.items():
            more = n - self.max_examples
            if more > 0:
                first = self._first[key]
                out.append(
                    first.model_copy(
                        update={
                            "message": f"{more:,} more like: {first.message}",
                            "location": Location(file=first.location.file),
                            "data": {"more": more, "total": n},
                        }
                    )
                )
        return out
