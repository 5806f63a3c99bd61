"""Collect findings without drowning in them.

A million rows with the same bad value should give one group with a count and the
first examples, not a million objects. The collector keeps the first ``max_examples``
findings per (validator, category, level) and counts the rest *per column*: the report
gets one summary per (file, sheet, column) saying exactly how many more there were.

A finding may stand for more than itself: a summary (``data['summary']``) stands for its
``data['omitted']`` findings. :attr:`Finding.weight` says how many; :meth:`count` and
:meth:`QualityReport.counts` both count weights, so a headline count and the report agree.

>>> c = FindingCollector(max_examples=2)
>>> for row in range(5):
...     c.add("error", "bad-sex", "sex 'X' not understood", "case-template", row=row + 3,
...           column="sex" if row < 4 else "gender")
>>> [(f.location.row, f.location.column) for f in c.findings()]
[(3, 'sex'), (4, 'sex'), (None, 'sex'), (None, 'gender')]
>>> [f.data["omitted"] for f in c.findings()[2:]]
[2, 1]
>>> c.count("error") == sum(f.weight for f in c.findings())
True
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from harmonize.quality.findings import Finding, Level, Location

# the finding level of an unmapped term under each unmapped-term policy
POLICY_LEVEL: dict[str, Level] = {"reject": "error", "flag": "warning", "drop": "info"}

Key = tuple[str, str, str]  # (validator, category, level)
Place = tuple[str | None, str | None, str | None]  # (file, sheet, column)


def _place(f: Finding) -> Place:
    return (f.location.file, f.location.sheet, f.location.column)


class FindingCollector:
    def __init__(self, max_examples: int = 100) -> None:
        self.max_examples = max_examples
        self._kept: list[Finding] = []
        self._counts: Counter[Key] = Counter()  # every finding's weight, kept or not
        self._first: dict[Key, Finding] = {}
        self._kept_n: Counter[Key] = Counter()  # findings kept as examples
        self._beyond: Counter[tuple[Key, Place]] = Counter()  # weight not kept, per column
        self._beyond_first: dict[tuple[Key, Place], Finding] = {}

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
        finding = Finding(
            level=level,
            category=category,
            message=message,
            validator=validator,
            location=Location(**{k: v for k, v in where.items() if v is not None}),
            hint=hint,
            data=data or {},
        )
        self._take(finding)

    def room(self, validator: str, category: str, level: Level) -> int:
        """How many more findings of this group would be kept as examples."""
        return max(0, self.max_examples - self._kept_n[(validator, category, level)])

    def tally(
        self, validator: str, category: str, level: Level, n: int, column: str | None = None
    ) -> None:
        """Count ``n`` findings of a group whose examples are already kept (see :meth:`room`).

        They are counted at the first example's file and sheet, in ``column`` (default:
        the first example's column).
        """
        if n > 0:
            key = (validator, category, level)
            if key not in self._first:
                raise ValueError("tally a group only after its first example was added")
            first = self._first[key]
            place = (first.location.file, first.location.sheet, column or first.location.column)
            self._counts[key] += n
            self._beyond[(key, place)] += n
            self._beyond_first.setdefault((key, place), first)

    def extend(self, findings: list[Finding]) -> None:
        for f in findings:
            self._take(f)

    def _take(self, finding: Finding) -> None:
        key = (finding.validator, finding.category, finding.level)
        self._counts[key] += finding.weight
        if self._kept_n[key] < self.max_examples:
            self._first.setdefault(key, finding)
            self._kept.append(finding)
            self._kept_n[key] += 1
            return
        where = (key, _place(finding))
        self._beyond[where] += finding.weight
        self._beyond_first.setdefault(where, finding)

    def dump(self) -> dict[str, Any]:
        """The kept findings and every group's count, JSON-safe: what :meth:`merge` takes."""
        return {
            "kept": [f.model_dump(mode="json") for f in self._kept],
            "beyond": [
                [self._beyond_first[w].model_dump(mode="json"), n] for w, n in self._beyond.items()
            ],
        }

    def merge(self, dumped: dict[str, Any]) -> None:
        """Add another collector's :meth:`dump`, as if its findings had been added here.

        Batches checked apart (in separate processes) merge in batch order into the
        same findings, counts and examples one collector would have kept.
        """
        for data in dumped["kept"]:
            self._take(Finding.model_validate(data))
        for data, n in dumped.get("beyond", []):
            first = Finding.model_validate(data)
            key = (first.validator, first.category, first.level)
            where = (key, _place(first))
            self._counts[key] += n
            self._beyond[where] += n
            self._beyond_first.setdefault(where, first)

    def category_count(self, category: str) -> int:
        """How many findings of ``category`` there were (every level, every validator)."""
        return sum(n for (_, cat, _), n in self._counts.items() if cat == category)

    def count(self, level: Level | None = None) -> int:
        return sum(n for (_, _, lvl), n in self._counts.items() if level is None or lvl == level)

    def findings(self) -> list[Finding]:
        """The kept examples, plus one summary per group and column beyond them."""
        out = list(self._kept)
        for (key, (file, sheet, column)), more in self._beyond.items():
            if more <= 0:
                continue
            first = self._beyond_first[(key, (file, sheet, column))]
            where = f" in column {column!r}" if column else ""
            out.append(
                first.model_copy(
                    update={
                        "message": f"{more:,} more{where} like: {first.message}",
                        "location": Location(file=file, sheet=sheet, column=column),
                        "data": {
                            "summary": True,
                            "omitted": more,
                            "more": more,
                            "total": self._counts[key],
                        },
                    }
                )
            )
        return out
