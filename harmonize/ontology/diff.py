"""Re-validation on a new release: what changed, and which publications it touches.

:func:`diff_releases` compares two compiled releases of one ontology term by term and
lists every primary id of the old release that, in the new one, became obsolete
(with its ``replaced_by`` or ``consider`` suggestions), was merged into another term
(it is now an alternative id), changed label, or is gone. :func:`affected_publications`
scans the published Parquet tables for those ids and returns one :class:`Impact` per
published row, with its lineage (submission, Phenopacket, source file, row, column).
"""

from __future__ import annotations

import gzip
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from harmonize.ontology.index import TermIndex
from harmonize.settings import Settings

Change = Literal["obsolete", "merged", "label", "removed"]
"""``obsolete``: made obsolete; ``merged``: now an alt id of another term;
``label``: the label changed; ``removed``: the id is not in the new release at all."""

TERM_TABLES = ("phenotypic_features", "diseases")
"""Published tables whose ``term_id`` column names ontology terms."""

_COLUMNS = ("phenopacket_id", "term_id", "term_label", "source_file", "source_row")
_OPTIONAL_COLUMNS = ("source_column", "ontology_release")
_HEADER_LINES = 200


@dataclass(frozen=True, slots=True)
class TermChange:
    """How one term of the old release fares in the new one."""

    term_id: str
    change: Change
    old_label: str
    new_label: str | None
    """The term's label in the new release (``None`` when removed)."""
    replacement: str | None = None
    """The live term to use instead: ``replaced_by`` (followed), or the merged-into id."""
    replacement_label: str | None = None
    consider: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ReleaseDiff:
    """Changes from ``old_release`` to ``new_release`` that matter to published terms."""

    prefix: str
    old_release: str
    new_release: str
    changes: dict[str, TermChange] = field(default_factory=dict)

    def of_kind(self, change: Change) -> list[TermChange]:
        """The changes of one kind, in id order."""
        return [c for c in self.changes.values() if c.change == change]

    def counts(self) -> dict[str, int]:
        """Number of changes per kind (every kind listed)."""
        return {
            kind: len(self.of_kind(kind)) for kind in ("obsolete", "merged", "label", "removed")
        }


@dataclass(frozen=True, slots=True)
class Impact:
    """One published row whose term the new release changes."""

    submission_id: str
    phenopacket_id: str
    table: str
    term_id: str
    term_label: str | None
    change: Change
    replacement: str | None
    new_label: str | None
    consider: tuple[str, ...]
    source_file: str | None
    source_row: int | None
    source_column: str | None
    ontology_release: str | None = None
    replacement_label: str | None = None
    version: int = 1  # the submission version the row belongs to

    @property
    def phenopacket_path(self) -> str:
        """The published Phenopacket, relative to the warehouse root."""
        return (
            f"published/phenopackets/{self.submission_id}/v{self.version}/"
            f"{self.phenopacket_id}.json"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields, plus ``phenopacket_path``."""
        data = asdict(self)
        data["consider"] = list(self.consider)
        data["phenopacket_path"] = self.phenopacket_path
        return data


def diff_releases(old: TermIndex, new: TermIndex) -> ReleaseDiff:
    """Every primary id of ``old`` that ``new`` obsoletes, merges, relabels or drops.

    Terms already obsolete in ``old`` are left out (nothing published should use
    them: they were replaced, or rejected, when mapped); so are ``old``'s alt ids.
    """
    if old.prefix != new.prefix:
        raise ValueError(f"cannot diff {old.release} against {new.release}: other ontology")
    changes: dict[str, TermChange] = {}
    for code in range(len(old)):
        if old.is_obsolete(code):
            continue
        term_id = old.term_id(code)
        found = _change(term_id, old.label(code), new)
        if found is not None:
            changes[term_id] = found
    return ReleaseDiff(new.prefix, old.release, new.release, changes)


def _change(term_id: str, old_label: str, new: TermIndex) -> TermChange | None:
    new_code = new.code(term_id)
    if new_code is None:
        return TermChange(term_id, "removed", old_label, None)
    if new.is_alt_id(term_id):
        target = new.resolve(new.term_id(new_code))
        return TermChange(
            term_id,
            "merged",
            old_label,
            new.label(new_code),
            target.term_id if target else new.term_id(new_code),
            target.label if target else new.label(new_code),
        )
    new_label = new.label(new_code)
    if new.is_obsolete(new_code):
        target = new.resolve(term_id)  # follows replaced_by to a live term
        replacement: str | None
        replacement_label: str | None
        if target is not None and target.replaced_from is not None:
            replacement, replacement_label = target.term_id, target.label
        else:  # no replaced_by, or one the new release does not define
            replacement, replacement_label = new.replaced_by(new_code), None
        return TermChange(
            term_id,
            "obsolete",
            old_label,
            new_label,
            replacement,
            replacement_label,
            tuple(new.consider(new_code)),
        )
    if new_label != old_label:
        return TermChange(term_id, "label", old_label, new_label)
    return None


def affected_publications(diff: ReleaseDiff, settings: Settings) -> list[Impact]:
    """Published rows (phenotypic features and diseases) whose term ``diff`` changes.

    Reads the current publication of the tables, filtered on ``term_id`` so only
    matching rows are loaded. Sorted by submission, Phenopacket, table, source row and term.
    """
    impacts: list[Impact] = []
    if not diff.changes:
        return impacts
    from harmonize.drs.registry import Registry
    from harmonize.warehouse import Warehouse, current

    registry_file = settings.workspace / "registry.sqlite"
    if settings.registry_url is None and not registry_file.exists():
        return impacts  # nothing was ever published here
    registry = Registry(settings.registry)
    registry.create_all()
    view = current(registry)
    if view.seq == 0:
        return impacts
    warehouse = Warehouse.of(settings)
    for table in TERM_TABLES:
        impacts.extend(_scan(warehouse, view, table, diff))
    impacts.sort(
        key=lambda i: (
            i.submission_id,
            i.phenopacket_id,
            i.table,
            i.source_row if i.source_row is not None else -1,
            i.term_id,
        )
    )
    return impacts


def _scan(warehouse: Any, view: Any, table: str, diff: ReleaseDiff) -> list[Impact]:
    from harmonize.warehouse.delta import schema

    present = set(schema(table).names)
    wanted = ["submission_id", "submission_version", *_COLUMNS, *_OPTIONAL_COLUMNS]
    columns = [c for c in wanted if c in present]
    rows = warehouse.read(
        table, view, columns=columns, where={"term_id": diff.changes.keys()}
    ).to_pylist()
    impacts = []
    for row in rows:
        change = diff.changes[row["term_id"]]
        impacts.append(
            Impact(
                submission_id=row.get("submission_id") or "",
                phenopacket_id=row.get("phenopacket_id") or "",
                table=table,
                term_id=change.term_id,
                term_label=row.get("term_label"),
                change=change.change,
                replacement=change.replacement,
                new_label=change.new_label,
                consider=change.consider,
                source_file=row.get("source_file"),
                source_row=row.get("source_row"),
                source_column=row.get("source_column"),
                ontology_release=row.get("ontology_release"),
                replacement_label=change.replacement_label,
                version=row.get("submission_version") or 1,
            )
        )
    return impacts


def load_release(path: Path, prefix: str, cache_dir: Path) -> TermIndex:
    """The compiled index of any release file (cached in ``cache_dir``).

    The version is the file's ``data-version``; a file without one is named by its
    file name's stem.
    """
    version = None if _has_data_version(path) else path.stem
    return TermIndex.load(path, prefix, cache_dir, version=version)


def _has_data_version(path: Path) -> bool:
    """Whether the OBO header (before the first stanza) has a ``data-version`` line.

    A ``.gz`` file (how older releases are kept in ``ontologies/``) is read decompressed.
    """
    try:
        with _open_text(path) as handle:
            for number, line in enumerate(handle):
                if line.startswith("[") or number >= _HEADER_LINES:
                    return False
                if line.startswith("data-version:") and line.partition(":")[2].strip():
                    return True
    except (OSError, EOFError):
        return True  # let TermIndex.load report the unreadable file
    return False


def _open_text(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return path.open(encoding="utf-8", errors="replace")


def report(
    diff: ReleaseDiff, impacts: list[Impact], *, old: TermIndex, new: TermIndex
) -> dict[str, Any]:
    """The JSON document ``harmonize ontologies diff`` writes (and the dashboard reads)."""
    from datetime import UTC, datetime

    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "prefix": diff.prefix,
        "old": {"release": old.release, "sha256": old.sha256, "terms": len(old)},
        "new": {"release": new.release, "sha256": new.sha256, "terms": len(new)},
        "summary": {
            "changes": diff.counts(),
            "affected_rows": len(impacts),
            "affected_phenopackets": len({(i.submission_id, i.phenopacket_id) for i in impacts}),
            "affected_submissions": len({i.submission_id for i in impacts}),
            "affected_terms": len({i.term_id for i in impacts}),
        },
        "impacts": [i.to_dict() for i in impacts],
        "changes": [{**asdict(c), "consider": list(c.consider)} for c in diff.changes.values()],
    }
