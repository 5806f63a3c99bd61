"""Receive refuses unsafe or damaged submissions, each with an error naming the file."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from harmonize.errors import SubmissionError
from harmonize.submission.manifest import parse_manifest
from harmonize.submission.receive import receive, safe_member

LIMIT = 10 * 1024 * 1024


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make(
    tmp_path: Path, files: dict[str, bytes], entries: list[dict] | None = None, **extra: str
) -> Path:
    root = tmp_path / "sub"
    root.mkdir()
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    entries = (
        entries
        if entries is not None
        else [{"path": n, "sha256": sha(d)} for n, d in files.items()]
    )
    lines = ["submitter: test", "dataset: ds", "profile: tabular", "access: public"]
    lines += [f"{k}: {v}" for k, v in extra.items()]
    lines.append("files:")
    for e in entries:
        lines.append(f"  - path: {e['path']}")
        if e.get("sha256"):
            lines.append(f"    sha256: '{e['sha256']}'")
    (root / "manifest.yaml").write_text("\n".join(lines) + "\n")
    return root


def test_receives_a_good_submission_and_derives_its_id(tmp_path: Path) -> None:
    root = make(tmp_path, {"a.csv": b"id\n1\n"})
    sub = receive(root, max_file_bytes=LIMIT)
    assert sub.id.startswith("sub-") and len(sub.id) == 20
    assert sub.files[0].sha256 == sha(b"id\n1\n")
    assert sub.manifest_sha256 == sha((root / "manifest.yaml").read_bytes())
    # the same content gives the same id: replays are recognisable
    assert receive(root, max_file_bytes=LIMIT).id == sub.id


def test_wrong_checksum_is_refused(tmp_path: Path) -> None:
    root = make(tmp_path, {"a.csv": b"id\n1\n"}, [{"path": "a.csv", "sha256": "0" * 64}])
    with pytest.raises(SubmissionError) as err:
        receive(root, max_file_bytes=LIMIT)
    assert err.value.file == "a.csv"
    assert "sha-256 mismatch" in str(err.value)
    assert "re-upload" in str(err.value)


@pytest.mark.parametrize("name", ["../outside.csv", "/etc/passwd", "dir/../../x.csv"])
def test_path_traversal_is_refused(tmp_path: Path, name: str) -> None:
    root = make(tmp_path, {"a.csv": b"x"}, [{"path": name, "sha256": "0" * 64}])
    with pytest.raises(SubmissionError) as err:
        receive(root, max_file_bytes=LIMIT)
    assert "leaves the submission" in str(err.value)


def test_symlink_out_of_the_submission_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_bytes(b"id\n1\n")
    root = make(tmp_path, {}, [{"path": "link.csv", "sha256": sha(b"id\n1\n")}])
    os.symlink(secret, root / "link.csv")
    with pytest.raises(SubmissionError) as err:
        receive(root, max_file_bytes=LIMIT)
    assert "symbolic link" in str(err.value) and err.value.file == "link.csv"


def test_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    data = b"x" * 2048
    root = make(tmp_path, {"big.csv": data})
    with pytest.raises(SubmissionError) as err:
        receive(root, max_file_bytes=1024)
    assert "over the limit of 1,024 bytes" in str(err.value)


def test_empty_file_is_refused(tmp_path: Path) -> None:
    root = make(tmp_path, {"empty.csv": b""})
    with pytest.raises(SubmissionError) as err:
        receive(root, max_file_bytes=LIMIT)
    assert "empty" in str(err.value) and err.value.file == "empty.csv"


def test_missing_file_is_refused(tmp_path: Path) -> None:
    root = make(tmp_path, {}, [{"path": "gone.csv", "sha256": "0" * 64}])
    with pytest.raises(SubmissionError, match="missing"):
        receive(root, max_file_bytes=LIMIT)


def test_single_file_needs_a_profile(tmp_path: Path) -> None:
    f = tmp_path / "a.csv"
    f.write_bytes(b"id\n1\n")
    with pytest.raises(SubmissionError, match="--profile"):
        receive(f, max_file_bytes=LIMIT)
    sub = receive(f, profile="tabular", max_file_bytes=LIMIT)
    assert sub.manifest.profile == "tabular" and sub.files[0].name == "a.csv"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("profile: x\naccess: public\nfiles: [{path: a.csv}]\nconsent: [DUO:42]\n", "DUO CURIEs"),
        ("profile: x\naccess: public\nfiles: []\n", "at least one"),
        (
            "profile: x\naccess: public\nfiles: [{path: a.csv}]\nsubmission_id: ../evil\n",
            "submission_id",
        ),
        ("profile: x\nfiles: [{path: a.csv}]\naccess: secret\n", "access"),
        ("profile: [unclosed\n", "not valid YAML"),
    ],
)
def test_bad_manifests_name_the_field(text: str, expected: str) -> None:
    with pytest.raises(SubmissionError, match=expected.replace("[", r"\[")):
        parse_manifest(text.encode())


def test_safe_member_allows_nested_files(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f.json").write_text("{}")
    assert safe_member(tmp_path, "d/f.json") == (tmp_path / "d" / "f.json").resolve()
