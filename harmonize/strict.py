"""Configuration that fails closed: unknown keys are errors that name the nearest valid key.

Every file a submitter or a data centre writes (manifests, mapping YAML, auth and token
files) is read into a :class:`StrictModel`. A misspelled key must never fall back to a
default: ``acess: controlled`` would otherwise publish controlled data as public.

>>> class Example(StrictModel):
...     access: str
...     files: list[str] = []
>>> try:
...     Example.model_validate({"acess": "controlled"})
... except Exception as exc:
...     print(describe(exc, Example))
'acess': unknown key; did you mean 'access'?
"""

from __future__ import annotations

import difflib
import typing
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError


class StrictModel(BaseModel):
    """A pydantic model that refuses keys it does not know."""

    model_config = ConfigDict(extra="forbid")


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation can hold (through Optional, list, dict, unions)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin is None:
        return []
    args = typing.get_args(annotation)
    if origin in (dict,):
        args = args[1:]
    found: list[type[BaseModel]] = []
    for arg in args:
        found += _models_in(arg)
    return found


def known_keys(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The keys valid at ``loc`` (a pydantic error location without its last part)."""
    current: list[type[BaseModel]] = [model]
    for part in loc:
        if isinstance(part, int):
            continue
        following: list[type[BaseModel]] = []
        for m in current:
            field = m.model_fields.get(str(part))
            if field is not None:
                following += _models_in(field.annotation)
        if not following:
            # a dict key (a free-form name) or an index: stay where we are
            continue
        current = following
    keys: list[str] = []
    for m in current:
        for name, field in m.model_fields.items():
            keys.append(field.alias or name)
    return list(dict.fromkeys(keys))


def suggest(key: str, candidates: list[str]) -> str | None:
    """The nearest valid key, if one is close enough to be a typo.

    >>> suggest("acess", ["access", "consent"]), suggest("zzz", ["access"])
    ('access', None)
    """
    lowered = {c.lower(): c for c in candidates}
    if key.lower() in lowered:
        return lowered[key.lower()]
    close = difflib.get_close_matches(key.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[close[0]] if close else None


def first_error(exc: ValidationError, model: type[BaseModel]) -> tuple[str, str]:
    """``(where, message)`` for the first problem, naming the nearest key for a typo."""
    errors = exc.errors()
    # a misspelled key often also leaves a required key missing: report the typo first
    unknown = [e for e in errors if e["type"] == "extra_forbidden"]
    error = unknown[0] if unknown else errors[0]
    loc = tuple(error["loc"])
    where = ".".join(str(p) for p in loc)
    if error["type"] == "extra_forbidden":
        key = str(loc[-1]) if loc else ""
        valid = known_keys(model, loc[:-1])
        near = suggest(key, valid)
        message = f"unknown key; did you mean {near!r}?" if near else "unknown key"
        if not near and valid:
            message += f" (valid keys here: {', '.join(valid)})"
        return where, message
    if error["type"] == "missing":
        return where, "is required"
    return where, str(error["msg"])


def describe(exc: Exception, model: type[BaseModel]) -> str:
    """One line for a validation error: ``'where': what is wrong``."""
    if not isinstance(exc, ValidationError):
        return str(exc)
    where, message = first_error(exc, model)
    return f"{where!r}: {message}" if where else message


def refuse_unknown_env(
    env: Mapping[str, str],
    prefix: str,
    model: type[BaseModel],
    *,
    allowed: Iterable[str] = (),
) -> None:
    """Fail closed on a mistyped variable: ``prefix`` + an unknown name is an error naming
    the nearest known variable. For the edges, before they read ``model`` from ``env``.

    >>> class Drs(BaseModel):
    ...     admin_token: str = ""
    >>> refuse_unknown_env({"HARMONIZE_DRS_ADMIN_TOKEN": "t"}, "HARMONIZE_DRS_", Drs)
    >>> try:
    ...     refuse_unknown_env({"HARMONIZE_DRS_ADMIN_TOKN": "t"}, "HARMONIZE_DRS_", Drs)
    ... except Exception as exc:
    ...     print(exc)
    HARMONIZE_DRS_ADMIN_TOKN: unknown variable; did you mean HARMONIZE_DRS_ADMIN_TOKEN?. unset it or correct its name
    """
    from harmonize.errors import ConfigurationError

    known = sorted({prefix + name.upper() for name in model.model_fields} | set(allowed))
    for var in sorted(env):
        name = var.upper()
        if name.startswith(prefix) and name not in known:
            near = suggest(name, known)
            said = f"did you mean {near}?" if near else f"known: {', '.join(known)}"
            raise ConfigurationError(
                f"{var}: unknown variable; {said}", hint="unset it or correct its name"
            )
