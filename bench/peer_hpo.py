"""The pinned HPO as obographs JSON for hpotk (so pyphetools), converted offline with pronto.

hpotk loads obographs JSON only, and pronto's obojson serializer writes what it reads,
with two differences hpotk trips over: ``null`` values (hpotk reads ``"definition": null``
as a definition) and ``"deprecated": false`` on every term, the obsolete ones included
(hpotk takes the key's presence for deprecation). The conversion drops the nulls and sets
``deprecated`` from pronto's own ``obsolete`` flag, only where it is true, as the
released ``hp.json`` does.
"""

from __future__ import annotations

import hashlib
import io
import json
import warnings
from pathlib import Path
from typing import Any

PURL = "http://purl.obolibrary.org/obo/"


def hp_json(ontologies: Path, out_dir: Path) -> Path:
    """``out_dir/hp-<sha256 prefix>.json`` from the pinned ``hp-*.obo``; converted once."""
    obo = _pinned_hp(ontologies)
    digest = hashlib.sha256(obo.read_bytes()).hexdigest()[:16]
    target = out_dir / f"hp-{digest}.json"
    if not target.is_file():
        import pronto

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pronto guesses the encoding aloud
            ontology = pronto.Ontology(str(obo))
        buffer = io.BytesIO()
        ontology.dump(buffer, format="json")
        document = _clean(json.loads(buffer.getvalue()))
        obsolete = {PURL + t.id.replace(":", "_") for t in ontology.terms() if t.obsolete}
        for node in document["graphs"][0]["nodes"]:
            if node["id"] in obsolete:
                node.setdefault("meta", {})["deprecated"] = True
        out_dir.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".part")
        partial.write_text(json.dumps(document))
        partial.replace(target)
    return target


def _pinned_hp(ontologies: Path) -> Path:
    import yaml

    manifest = yaml.safe_load((ontologies / "manifest.yaml").read_text())
    for entry in manifest["ontologies"]:
        if entry.get("prefix") == "HP" and entry.get("file"):
            return ontologies / entry["file"]
    raise SystemExit(f"no HP release pinned in {ontologies / 'manifest.yaml'}")


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _clean(v)
            for k, v in value.items()
            if v is not None and not (k == "deprecated" and v is False)
        }
    if isinstance(value, list):
        return [_clean(v) for v in value if v is not None]
    return value
