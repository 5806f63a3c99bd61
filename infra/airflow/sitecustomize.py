"""Compatibility shim loaded (via PYTHONPATH) by the Airflow processes infra/airflow.sh starts.

Airflow 3.2's execution API declares ``Field(discriminator=<function>)``; the locked
pydantic (2.14) only accepts a callable discriminator wrapped in ``Discriminator``, so the
api-server and the dag-processor fail at start-up. This wraps such callables, the way
older pydantic releases did implicitly. Remove it once the lock has a pydantic/Airflow pair
that agree.
"""

from __future__ import annotations

import functools
from typing import Any

import pydantic
import pydantic.fields

_field = pydantic.fields.Field


@functools.wraps(_field)  # keeps Field's signature: cadwyn reads its parameter names
def _compatible_field(*args: Any, **kwargs: Any) -> Any:
    discriminator = kwargs.get("discriminator")
    if callable(discriminator) and not isinstance(discriminator, pydantic.Discriminator):
        kwargs["discriminator"] = pydantic.Discriminator(discriminator)
    return _field(*args, **kwargs)


pydantic.fields.Field = _compatible_field  # type: ignore[assignment]
pydantic.Field = _compatible_field  # type: ignore[attr-defined]
