"""The mapping loader: unreadable YAML is a ConfigurationError naming the file.

Regression tests for what fuzzing the loader (tests/fuzz/test_loaders.py) found.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harmonize.errors import ConfigurationError
from harmonize.mapping.profiles.mapping_file import load_mapping


@pytest.mark.parametrize(
    "raw",
    [
        b"\x80id_column: pid\n",  # UnicodeDecodeError from read_text
        b"id_column: 2001-02-30\n",  # ValueError from PyYAML's date constructor
        b"id_column: " + b"[" * 3000 + b"]" * 3000 + b"\n",  # RecursionError in PyYAML
        b"id_column: !!timestamp x\n",  # AttributeError inside PyYAML
        b"id_column: !!bool x\n",  # KeyError inside PyYAML
    ],
    ids=["invalid-utf8", "impossible-date", "deep-nesting", "timestamp-tag", "bool-tag"],
)
def test_unreadable_mapping_yaml(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_bytes(raw)
    with pytest.raises(ConfigurationError, match="cannot read mapping file") as info:
        load_mapping(path)
    assert info.value.file == "mapping.yaml"
