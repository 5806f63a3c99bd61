"""The profile tests' session fixtures: the pinned ontologies, HPO compiled once."""

from tests.mapping.conftest import ontologies  # noqa: F401
