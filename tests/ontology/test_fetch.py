"""Fetching pinned releases, against a local HTTP server only (no other host is contacted)."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from harmonize.cli import app
from harmonize.errors import OntologyError
from harmonize.ontology.fetch import fetch_release, release_present
from harmonize.ontology.manifest import file_sha256, load_manifest

from .conftest import GENO_PATH

runner = CliRunner()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[str]:
    """``http://127.0.0.1:<port>`` serving a directory with a copy of the GENO slice."""
    served = tmp_path / "served"
    served.mkdir()
    shutil.copy(GENO_PATH, served / "geno.obo")
    handler = functools.partial(_QuietHandler, directory=str(served))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def _manifest(directory: Path, source: str, sha256: str, *, slice: bool = False) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    entry = {
        "prefix": "GENO",
        "name": "Genotype Ontology",
        "version": "harmonize-slice-1",
        "source": source,
        "file": "geno-slice.obo",
        "sha256": sha256,
        "iri_prefix": "http://purl.obolibrary.org/obo/GENO_",
        "url": "http://purl.obolibrary.org/obo/geno.owl",
        "slice": slice,
    }
    code_system = {
        "prefix": "OMIM",
        "name": "OMIM",
        "version": "unversioned",
        "iri_prefix": "https://omim.org/entry/",
        "url": "https://www.omim.org",
        "id_pattern": r"^\d{6}$",
    }
    (directory / "manifest.yaml").write_text(
        yaml.safe_dump({"ontologies": [entry, code_system]}), encoding="utf-8"
    )
    return directory


def test_fetch_downloads_and_verifies(tmp_path: Path, server: str) -> None:
    target = _manifest(tmp_path / "onto", f"{server}/geno.obo", file_sha256(GENO_PATH))
    entry = load_manifest(target, verify=False).entry("GENO")
    assert not release_present(entry, target)
    path = fetch_release(entry, target)
    assert path == target / "geno-slice.obo"
    assert path.read_bytes() == GENO_PATH.read_bytes()
    assert release_present(entry, target)
    load_manifest(target)  # now verifies
    assert sorted(p.name for p in target.iterdir()) == ["geno-slice.obo", "manifest.yaml"]


def test_present_file_is_not_downloaded_again(tmp_path: Path) -> None:
    target = _manifest(tmp_path / "onto", "http://127.0.0.1:9/unused.obo", file_sha256(GENO_PATH))
    shutil.copy(GENO_PATH, target / "geno-slice.obo")
    entry = load_manifest(target).entry("GENO")
    assert fetch_release(entry, target) == target / "geno-slice.obo"  # port 9 is never asked


def test_wrong_checksum_leaves_nothing(tmp_path: Path, server: str) -> None:
    target = _manifest(tmp_path / "onto", f"{server}/geno.obo", "a" * 64)
    entry = load_manifest(target, verify=False).entry("GENO")
    with pytest.raises(OntologyError) as caught:
        fetch_release(entry, target)
    message = str(caught.value)
    assert "a" * 64 in message and file_sha256(GENO_PATH) in message
    assert f"{server}/geno.obo" in message
    assert sorted(p.name for p in target.iterdir()) == ["manifest.yaml"]


def test_wrong_checksum_keeps_an_existing_file(tmp_path: Path, server: str) -> None:
    target = _manifest(tmp_path / "onto", f"{server}/geno.obo", "a" * 64)
    (target / "geno-slice.obo").write_text("old\n", encoding="utf-8")
    with pytest.raises(OntologyError):
        fetch_release(load_manifest(target, verify=False).entry("GENO"), target)
    assert (target / "geno-slice.obo").read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in target.iterdir()) == ["geno-slice.obo", "manifest.yaml"]


def test_not_found_is_a_clear_error(tmp_path: Path, server: str) -> None:
    target = _manifest(tmp_path / "onto", f"{server}/missing.obo", file_sha256(GENO_PATH))
    with pytest.raises(OntologyError, match="HTTP 404") as caught:
        fetch_release(load_manifest(target, verify=False).entry("GENO"), target)
    assert f"{server}/missing.obo" in str(caught.value)
    assert sorted(p.name for p in target.iterdir()) == ["manifest.yaml"]


def test_url_override_and_refused_schemes(tmp_path: Path, server: str) -> None:
    target = _manifest(tmp_path / "onto", f"{server}/missing.obo", file_sha256(GENO_PATH))
    entry = load_manifest(target, verify=False).entry("GENO")
    with pytest.raises(OntologyError, match="cannot fetch"):
        fetch_release(entry, target, url="ftp://127.0.0.1/geno.obo")
    assert fetch_release(entry, target, url=f"{server}/geno.obo").is_file()


def test_a_slice_is_never_downloaded(tmp_path: Path, server: str) -> None:
    target = _manifest(tmp_path / "onto", f"{server}/geno.obo", file_sha256(GENO_PATH), slice=True)
    entry = load_manifest(target, verify=False).entry("GENO")
    with pytest.raises(OntologyError, match="hand-made slice"):
        fetch_release(entry, target)
    shutil.copy(GENO_PATH, target / "geno-slice.obo")
    assert fetch_release(entry, target) == target / "geno-slice.obo"


def test_code_system_has_nothing_to_fetch(tmp_path: Path) -> None:
    target = _manifest(tmp_path / "onto", "http://127.0.0.1:9/x.obo", file_sha256(GENO_PATH))
    with pytest.raises(OntologyError, match="nothing to fetch"):
        fetch_release(load_manifest(target, verify=False).entry("OMIM"), target)


def test_cli_fetch(tmp_path: Path, server: str) -> None:
    target = _manifest(tmp_path / "onto", f"{server}/geno.obo", file_sha256(GENO_PATH))
    args = ["ontologies", "fetch", "--ontologies-dir", str(target)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "GENO harmonize-slice-1: downloaded" in result.output and "sha256 ok" in result.output
    result = runner.invoke(app, [*args, "GENO"])
    assert result.exit_code == 0, result.output
    assert "already present" in result.output


def test_cli_fetch_failures_exit_1(tmp_path: Path, server: str) -> None:
    target = _manifest(tmp_path / "onto", f"{server}/geno.obo", "b" * 64)
    args = ["ontologies", "fetch", "--ontologies-dir", str(target)]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert "does not match the manifest" in result.output
    result = runner.invoke(app, [*args, "GENO", "--url", f"{server}/nope.obo"])
    assert result.exit_code == 1 and "HTTP 404" in result.output
    result = runner.invoke(app, [*args, "OMIM"])
    assert result.exit_code == 1 and "nothing to fetch" in result.output
    result = runner.invoke(app, [*args, "NOPE"])
    assert result.exit_code == 1 and "not in the ontology manifest" in result.output
    assert sorted(p.name for p in target.iterdir()) == ["manifest.yaml"]


def test_cli_fetch_network_error(tmp_path: Path) -> None:
    """A closed local port stands in for an unreachable host."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    target = _manifest(tmp_path / "onto", f"http://127.0.0.1:{port}/geno.obo", "c" * 64)
    result = runner.invoke(
        app, ["ontologies", "fetch", "--ontologies-dir", str(target), "--timeout", "5"]
    )
    assert result.exit_code == 1
    assert "could not download the GENO release" in result.output
