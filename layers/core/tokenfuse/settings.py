"""Every function's environment, read through one pydantic model and validated before its first event.

Each function has one :class:`FunctionSettings` subclass. A field's variable is its alias, or its
name in upper case (``dry_run`` <- ``DRY_RUN``). An empty value counts as unset (a template
parameter left blank) and takes the field's default. A value that does not parse fails the function
with one line (:class:`SettingsError`) and never falls back to a default: pydantic's own parsing
refuses ``DRY_RUN=flase`` instead of reading it as false, which would mean real trips.

Settings are validated once per distinct environment (so once per Lambda container) and kept;
the sandbox runs several functions in one process, each under its own environment, so the cache
is keyed by the values the model reads, not by the class alone.

A plain pydantic model, not pydantic-settings: measured on the dev machine (x86_64, Python 3.13),
``import boto3, pydantic`` takes 0.15 s and adding ``pydantic_settings`` 0.22 s, for nothing this
needs.
"""

import os
from collections.abc import Mapping
from functools import cache
from typing import Self

from pydantic import BaseModel, ConfigDict, ValidationError

from tokenfuse.errors import TokenfuseError

_SHOWN_INPUT = 40
"""At most this much of a refused value is quoted in the error line."""


class SettingsError(TokenfuseError):
    """A function's environment does not parse: one line naming the variable and the problem."""


class FunctionSettings(BaseModel):
    """Base of every function's environment model (immutable; variables it does not name are ignored)."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="ignore", populate_by_name=True)

    @classmethod
    def variable(cls, field_name: str) -> str:
        """The environment variable a field reads."""
        return cls.model_fields[field_name].alias or field_name.upper()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        """The model from ``environ`` (default: the process environment); :class:`SettingsError`
        with one line when a value does not parse or a required one is missing."""
        env = os.environ if environ is None else environ
        values = tuple(
            (name, value)
            for name in cls.model_fields
            if (value := env.get(cls.variable(name), "")).strip() != ""
        )
        settings = _validated(cls, values)
        assert isinstance(settings, cls)
        return settings


@cache
def _validated(model: type[FunctionSettings], values: tuple[tuple[str, str], ...]) -> FunctionSettings:
    try:
        return model.model_validate(dict(values))
    except ValidationError as error:
        raise SettingsError(_one_line(model, error)) from None


def _one_line(model: type[FunctionSettings], error: ValidationError) -> str:
    problems = []
    for problem in error.errors(include_url=False):
        location = problem.get("loc") or ("(model)",)
        field = str(location[0])
        variable = model.variable(field) if field in model.model_fields else field
        if problem.get("type") == "missing":
            problems.append(f"{variable} is required")
            continue
        shown = str(problem.get("input", ""))
        if len(shown) > _SHOWN_INPUT:
            shown = shown[: _SHOWN_INPUT - 3] + "..."
        problems.append(f"{variable}={shown!r}: {problem.get('msg', 'invalid')}")
    text = f"{model.__name__}: " + "; ".join(problems)
    return " ".join(text.split())


def clear_cache() -> None:
    """Forget validated settings (tests that change the environment of a model they already read)."""
    _validated.cache_clear()


__all__ = ["FunctionSettings", "SettingsError", "clear_cache"]
