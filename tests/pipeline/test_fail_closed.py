"""Configuration fails closed: a misspelled or missing key never falls back to a default.

Regression tests for the hardening issue's first finding: a manifest saying ``acess:
controlled`` was accepted, ``access`` defaulted to ``public``, and every object of the
submission was served to anyone.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml

from harmonize.drs.registry import Registry
from harmonize.errors import ConfigurationError
from harmonize.mapping.profiles.mapping_file import load_mapping
from harmonize.pipeline import ingest
from harmonize.settings import Settings
from tests.pipeline.test_bad_input import assert_nothing_published, first_error, write_case


@pytest.fixture
def settings(tmp_path: Path, ontology_cache: Path) -> Settings:
    return Settings(
        workspace=tmp_path / "ws",
        ontology_cache=ontology_cache,
        run_great_expectations=False,
        data_docs=False,
    )


def _submission(root: Path, **manifest: object) -> Path:
    root.mkdir(parents=True)
    data = write_case(root / "cases.csv")
    digest = hashlib.sha256(data.read_bytes()).hexdigest()
    body = {
        "submission_id": "typo-1",
        "profile": "hpo-case-template",
        **manifest,
        "files": [{"path": "cases.csv", "sha256": digest}],
    }
    (root / "manifest.yaml").write_text(yaml.safe_dump(body, sort_keys=False))
    return root


def test_misspelled_access_key_publishes_nothing(tmp_path: Path, settings: Settings) -> None:
    """``acess: controlled`` was ignored and the submission published as public."""
    root = _submission(tmp_path / "sub", acess="controlled")
    report = assert_nothing_published(settings, ingest(root, settings))
    err = first_error(report)
    assert "'acess'" in err["message"] and "did you mean 'access'" in err["message"]
    assert err["location"]["file"] == "manifest.yaml"


def test_omitted_access_publishes_nothing(tmp_path: Path, settings: Settings) -> None:
    root = _submission(tmp_path / "sub")
    report = assert_nothing_published(settings, ingest(root, settings))
    err = first_error(report)
    assert "'access'" in err["message"] and "required" in err["message"]
    assert "access: public or access: controlled" in err["hint"]


def test_unknown_key_in_a_file_entry_names_the_nearest(tmp_path: Path, settings: Settings) -> None:
    root = tmp_path / "sub"
    root.mkdir()
    write_case(root / "cases.csv")
    (root / "manifest.yaml").write_text(
        "profile: hpo-case-template\naccess: public\nfiles:\n  - path: cases.csv\n    sheat: x\n"
    )
    report = assert_nothing_published(settings, ingest(root, settings))
    assert "did you mean 'sheet'" in first_error(report)["message"]


def test_a_single_file_is_controlled_unless_the_data_centre_says_otherwise(
    tmp_path: Path, settings: Settings
) -> None:
    """A synthesized manifest takes ``Settings.default_access``, which is ``controlled``."""
    case = write_case(tmp_path / "one.csv")
    result = ingest(case, settings, profile="hpo-case-template")
    assert result.status == "published", result.message
    rows = Registry(settings.registry).objects_for_submission(result.submission_id)
    assert rows and {r.access for r in rows} == {"controlled"}

    open_settings = settings.model_copy(
        update={"workspace": tmp_path / "ws2", "default_access": "public"}
    )
    result = ingest(case, open_settings, profile="hpo-case-template")
    rows = Registry(open_settings.registry).objects_for_submission(result.submission_id)
    assert rows and {r.access for r in rows} == {"public"}


def test_mapping_file_typo_names_the_nearest_key(tmp_path: Path) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text(
        "id_column: pid\nphenotypes:\n  - column: s\n    term: HP:0001250\n    valus: {}\n"
    )
    with pytest.raises(ConfigurationError, match="did you mean 'values'") as info:
        load_mapping(path)
    assert info.value.column == "phenotypes.0.valus"


def test_auth_config_typo_is_an_error(tmp_path: Path) -> None:
    from harmonize.drs.config import DrsEnvSettings

    auth = tmp_path / "auth.yaml"
    auth.write_text("token_issuer: []\n")
    with pytest.raises(ValueError, match="did you mean 'token_issuers'"):
        DrsEnvSettings(workspace=tmp_path, auth_file=auth).to_settings()


def test_dashboard_token_typo_is_an_error(tmp_path: Path) -> None:
    from harmonize.dashboard.config import DashboardEnvSettings

    tokens = tmp_path / "tokens.json"
    tokens.write_text(
        json.dumps([{"token": "t" * 24, "role": "curator", "name": "a", "dataset": ["x"]}])
    )
    env = DashboardEnvSettings(secret_key="k" * 32, tokens_file=tokens)
    with pytest.raises(ValueError, match="did you mean 'datasets'"):
        env.to_settings()
