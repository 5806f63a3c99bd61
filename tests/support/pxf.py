"""The GA4GH reference Phenopacket validator (``../shared/tools/phenopacket-tools``), for tests.

CI has ``../shared``; a clone without it skips the tests marked :data:`needs_pxf`.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PXF = ROOT.parent / "shared" / "tools" / "phenopacket-tools" / "pxf-validate"


def available() -> bool:
    return PXF.exists() and shutil.which("java") is not None


needs_pxf = pytest.mark.skipif(
    not available(),
    reason="the reference validator (../shared/tools/phenopacket-tools) or Java is not here",
)


def pxf_errors(*paths: Path, exit_codes: tuple[int, ...] = (0,)) -> list[list[str]]:
    """The ERROR rows ``pxf-validate`` prints for ``paths`` (files or folders of them).

    ``exit_codes``: the exit statuses accepted (the validator exits 1 on some invalid files).
    """
    run = subprocess.run([str(PXF), *map(str, paths)], capture_output=True, text=True, timeout=600)
    assert run.returncode in exit_codes, run.stdout[-2000:] + run.stderr[-2000:]
    return [r for r in csv.reader(io.StringIO(run.stdout)) if len(r) >= 5 and r[1] == "ERROR"]
