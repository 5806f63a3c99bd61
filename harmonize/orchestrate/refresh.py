"""The weekly ontology refresh: diff each pinned release against a newly placed one.

A curator (or a fetch job) places candidate releases in an incoming directory, named
after their prefix (``hp-2025-06-01.obo`` for HP). For each pinned release with a newer
candidate this writes ``WORKSPACE/reports/ontology-refresh/<PREFIX>.json``: the term
changes and the published Phenopackets they affect. Nothing is re-pinned automatically.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harmonize.settings import Settings

REPORTS = Path("reports") / "ontology-refresh"


def candidates(incoming: Path, prefix: str) -> list[Path]:
    """Release files in ``incoming`` named for ``prefix``, newest name last.

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> for n in ("hp-2025-06-01.obo", "hp-2025-03-01.obo", "mondo.obo"):
    ...     _ = (d / n).write_text("")
    >>> [p.name for p in candidates(d, "HP")]
    ['hp-2025-03-01.obo', 'hp-2025-06-01.obo']
    """
    if not incoming.is_dir():
        return []
    stem = prefix.lower()
    return sorted(
        p
        for p in incoming.glob("*.obo")
        if p.name.lower() == f"{stem}.obo" or p.name.lower().startswith(f"{stem}-")
    )


def refresh_ontologies(settings: Settings, *, incoming: Path) -> list[dict[str, Any]]:
    """Diff pinned releases against their newest candidates; one summary per prefix diffed."""
    from harmonize.ontology.diff import affected_publications, diff_releases, load_release, report
    from harmonize.ontology.manifest import file_sha256, load_manifest

    manifest = load_manifest(settings.ontologies_dir)
    out_dir = settings.workspace / REPORTS
    summaries = []
    for entry in manifest.ontologies:
        pinned = manifest.path(entry.prefix)
        found = candidates(incoming, entry.prefix)
        if pinned is None or not found or file_sha256(found[-1]) == entry.sha256:
            continue
        new_file = found[-1]
        old_index = load_release(pinned, entry.prefix, settings.cache_dir)
        new_index = load_release(new_file, entry.prefix, settings.cache_dir)
        changes = diff_releases(old_index, new_index)
        impacts = affected_publications(changes, settings)
        document = report(changes, impacts, old=old_index, new=new_index)
        document["old"]["file"], document["new"]["file"] = str(pinned), str(new_file)
        out_dir.mkdir(parents=True, exist_ok=True)
        target = out_dir / f"{entry.prefix}.json"
        target.write_text(json.dumps(document, indent=2))
        summaries.append({"prefix": entry.prefix, "report": str(target), **document["summary"]})
    return summaries
