"""Who calls a profile: the roles and functions its ``tokenfuse:callers`` tag names.

A throttle caps those functions' reserved concurrency; the ``inline-deny`` mechanism puts its deny
on those roles (and on each caller function's execution role).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from tokenfuse.adapters.iam_deny import InlineDeny
from tokenfuse.adapters.lambda_concurrency import LambdaConcurrency


@dataclass(frozen=True)
class Callers:
    roles: tuple[str, ...]
    functions: tuple[str, ...]


NO_CALLERS = Callers((), ())


def parse_callers(value: str | None) -> list[str]:
    """Caller names from the tag (or the SSM parameter it points to). Bedrock tag values allow no
    comma (``[a-zA-Z0-9\\s._:/=+@-]``), so spaces separate names; commas are accepted too (an SSM
    parameter may hold them)."""
    return [part for part in re.split(r"[,\s]+", value or "") if part]


def resolve_callers(
    tag_value: str | None,
    *,
    roles: InlineDeny,
    functions: LambdaConcurrency,
    parameter: Callable[[str], str],
    with_function_roles: bool,
) -> Callers:
    """Roles and functions the callers tag names: ``role/x``, ``function:x``, ARNs, bare names
    (looked up as both), or ``ssm:<parameter>`` / ``/<parameter>`` holding the same list
    (``parameter`` reads one). ``with_function_roles``: each caller function's execution role is
    a caller role too."""
    expanded = [
        name
        for entry in parse_callers(tag_value)
        for name in (
            parse_callers(parameter(entry.removeprefix("ssm:")))
            if entry.startswith(("ssm:", "/"))
            else [entry]
        )
    ]
    role_names: list[str] = []
    function_names: list[str] = []
    for entry in expanded:
        if entry.startswith("role/") or ":role/" in entry:
            role_names.append(entry.rsplit("/", 1)[-1])
        elif entry.startswith("function:") or ":function:" in entry:
            function_names.append(entry.split("function:", 1)[1].split(":", 1)[0])
        else:
            if roles.role_exists(entry):
                role_names.append(entry)
            if functions.exists(entry):
                function_names.append(entry)
    if with_function_roles:
        for function in function_names:
            role = functions.role_name(function)
            if role and role not in role_names:
                role_names.append(role)
    return Callers(roles=tuple(dict.fromkeys(role_names)), functions=tuple(dict.fromkeys(function_names)))
