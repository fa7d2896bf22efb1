"""One composition root per function, cached per container the same way everywhere.

A function's composition root is one function, ``dependencies(settings)``, in the domain package
next to what it builds (``tokenfuse.intake``, ``tokenfuse.attribution.wiring``,
``tokenfuse.alerts.wiring``, ``tokenfuse.remediation.endpoint``, ``tokenfuse.remediation.tasks``,
``tokenfuse.inventory.runtime``). It takes the function's settings model (frozen, hashable,
validated once per environment by :meth:`tokenfuse.settings.FunctionSettings.from_env`) and builds
the adapters and services its handler uses. :func:`composition_root` caches it per distinct
settings: a Lambda container, whose environment never changes, builds it once, at its first
invocation (never at import: moto must be active first in tests); the sandbox, which runs every
function in one process, once per function.

What a root holds lives as long as the container, so a root never holds what must not:

- assumed-role sessions into member or management accounts: their credentials expire within the
  hour, a container lives for hours. The container keeps them apart from any root
  (:func:`tokenfuse.adapters.aws.kept_role_session`: assumed at the first need, with their clients,
  assumed afresh ten minutes before the credentials expire);
- what a person may change while a container lives (the team directory, secrets): read per
  invocation through Powertools' parameters, which caches them for their max age.

The adapters a root holds create their boto3 clients on first use, so a path pays only for the
clients it calls.
"""

from collections.abc import Callable
from functools import cache
from typing import Protocol, cast

from tokenfuse.adapters.aws import forget_kept_sessions
from tokenfuse.settings import FunctionSettings


class Root[SettingsT: FunctionSettings, BuiltT](Protocol):
    """A cached composition root: call it with the settings; ``cache_clear`` forgets what it built."""

    def __call__(self, settings: SettingsT, /) -> BuiltT: ...

    def cache_clear(self) -> None: ...


_CLEARS: list[Callable[[], None]] = []


def composition_root[SettingsT: FunctionSettings, BuiltT](
    build: Callable[[SettingsT], BuiltT],
) -> Root[SettingsT, BuiltT]:
    """``build`` cached per distinct settings (see the module's docstring); :func:`reset` forgets it."""
    cached = cache(build)
    _CLEARS.append(cached.cache_clear)
    return cast("Root[SettingsT, BuiltT]", cached)


def own_account(context: object) -> str | None:
    """The function's own account, from the invocation's ``invoked_function_arn``
    (``arn:<partition>:lambda:<region>:<account>:function:<name>``): what would otherwise cost an
    STS client and a GetCallerIdentity call at every cold start. None when the context has none."""
    parts = str(getattr(context, "invoked_function_arn", "") or "").split(":")
    account = parts[4] if len(parts) > 4 else ""
    return account if account.isdigit() and len(account) == 12 else None


def reset() -> None:
    """Forget every root built so far, and the member-role sessions kept (the sandbox at each new
    deployment, tests that change the environment): the next invocation is a cold container's."""
    for clear in _CLEARS:
        clear()
    forget_kept_sessions()


__all__ = ["Root", "composition_root", "own_account", "reset"]
