"""Profiles: how one input layout maps to Phenopackets."""

from harmonize.mapping.profiles.base import (
    MappedBatch,
    MappingContext,
    Profile,
    get_profile,
    profiles,
    register,
)

__all__ = ["MappedBatch", "MappingContext", "Profile", "get_profile", "profiles", "register"]
