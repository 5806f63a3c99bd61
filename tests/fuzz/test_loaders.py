"""Fuzz the manifest and mapping loaders: only the project's own errors may come out.

Inputs are YAML documents built from the real keys (misspelled, mistyped, nested, with
anchors and tags) and rendered by PyYAML, with byte-level edits on top, plus raw bytes.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st

from harmonize.errors import HarmonizeError
from harmonize.mapping.profiles.mapping_file import MappingFile, load_mapping
from harmonize.submission.manifest import Manifest, ManifestFile, parse_manifest
from tests.fuzz.budget import budget
from tests.fuzz.strategies import edited, text

YAML_SCALARS = [
    "2001-02-30",
    "2024-01-02",
    "2024-01-02T25:61:00Z",
    "1e999",
    ".inf",
    ".nan",
    "0x1F",
    "0o17",
    "1_000",
    "~",
    "null",
    "yes",
    "no",
    "on",
    "True",
    "1:20:30",
    "!!binary Zm9v",
    "!!binary ?!",
    "!!timestamp 2001-02-30",
    "!!int abc",
    "!!float x",
    "!!python/object:os.system x",
    "!!set {a, b}",
    "!!omap [a: 1]",
    "&a x",
    "*a",
    "*missing",
    "<<: *a",
    "'",
    '"',
    "@",
    "`",
    "%YAML 1.2",
    "---",
    "...",
    "DUO:0000042",
    "HP:0001250",
    "../x.csv",
    "controlled",
    "public",
]


def scalars() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(),
        text,
        st.sampled_from(YAML_SCALARS),
    )


def values(keys: list[str]) -> st.SearchStrategy[Any]:
    key = st.sampled_from(keys) | text
    return st.recursive(
        scalars(),
        lambda children: (
            st.lists(children, max_size=3) | st.dictionaries(key, children, max_size=4)
        ),
        max_leaves=12,
    )


def _keys(*models: Any) -> list[str]:
    found: list[str] = []
    for model in models:
        for name in model.model_fields:
            found += [name, name[:-1], name.upper(), name + "s"]
    return found


@st.composite
def yaml_documents(draw: st.DrawFn, keys: list[str]) -> bytes:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=200))
    document = draw(st.dictionaries(st.sampled_from(keys) | text, values(keys), max_size=8))
    try:
        raw = yaml.safe_dump(document, allow_unicode=True).encode("utf-8", "surrogateescape")
    except yaml.YAMLError:
        raw = b"{}"
    lines = raw.split(b"\n")
    for _ in range(draw(st.integers(0, 2))):  # splice in raw YAML syntax PyYAML never writes
        at = draw(st.integers(0, len(lines)))
        key = draw(st.sampled_from(keys)).encode()
        value = draw(st.sampled_from(YAML_SCALARS)).encode()
        lines.insert(at, key + b": " + value)
    if draw(st.integers(0, 5)) == 0:
        depth = draw(st.integers(1, 3000))
        lines.append(b"files: " + b"[" * depth + b"]" * depth)
    return draw(edited(b"\n".join(lines)))


MANIFEST_KEYS = _keys(Manifest, ManifestFile)
MAPPING_KEYS = [*_keys(MappingFile), "column", "values", "term", "format", "label_column", "onset"]


@budget(300)
@given(raw=yaml_documents(MANIFEST_KEYS))
def test_manifest_loader(raw: bytes) -> None:
    try:
        manifest = parse_manifest(raw)
    except HarmonizeError as exc:
        str(exc)
        return
    manifest.canonical_bytes()
    assert manifest.access in ("public", "controlled")


@budget(300)
@given(raw=yaml_documents(MAPPING_KEYS))
def test_mapping_loader(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mapping.yaml"
        path.write_bytes(raw)
        try:
            load_mapping(path)
        except HarmonizeError as exc:
            str(exc)
