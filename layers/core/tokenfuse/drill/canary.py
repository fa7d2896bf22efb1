"""Drill canaries: their names, tags and age, and the guard's drill statement.

A canary is an application inference profile the drill creates for itself and deletes at its end.
It carries the marks of :mod:`tokenfuse.canaries` (the tag ``tokenfuse:drill=true`` and a name
starting with ``tokenfuse-drill-``, tested by :func:`~tokenfuse.canaries.is_drill_profile`, which
every figure uses); it never carries a team tag.

The **tag canary** carries :data:`TAG_GUARD_TAG_KEY` ``=true`` as well: the guard SCP's drill
statement (:func:`tag_guard_statement`, in ``org/guard-scp.json``) denies a profile carrying both
tags, and nothing else, so the drill proves a tag-conditioned deny on canaries alone.
"""

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from tokenfuse.adapters.guard_scp import DENIED_ACTIONS
from tokenfuse.canaries import CANARY_NAME_PREFIX, DRILL_TAG_KEY, DRILL_TAG_VALUE, is_drill_profile
from tokenfuse.errors import TokenfuseError

TAG_GUARD_TAG_KEY = "tokenfuse:drill-deny"
TAG_GUARD_SID = "TokenfuseDrillTagGuard"
CANARY_MAX_AGE = timedelta(minutes=45)
"""Longer than any drill runs (its waits add up to 25 minutes): an older canary was left behind."""


class DrillError(TokenfuseError):
    """The drill cannot start: one line naming what is missing."""


def is_left_behind(
    name: str | None,
    tags: Mapping[str, str],
    created_at: datetime | None,
    now: datetime,
    team_tag_key: str = "team",
) -> bool:
    """A canary an interrupted drill left: a drill profile with no team tag (never a team's
    profile), older than any drill runs (a running drill's canaries are younger)."""
    return (
        is_drill_profile(name, tags)
        and not tags.get(team_tag_key)
        and (created_at is None or now - created_at > CANARY_MAX_AGE)
    )


def canary_tags(
    caller_role: str | None, *, tag_guard: bool = False, callers_tag_key: str = "tokenfuse:callers"
) -> dict[str, str]:
    """The canary's tags: the drill tag; the caller role (an inline-deny trip denies it, on the
    canary alone); the tag guard's tag on the tag canary."""
    tags = {DRILL_TAG_KEY: DRILL_TAG_VALUE}
    if caller_role:
        tags[callers_tag_key] = caller_role
    if tag_guard:
        tags[TAG_GUARD_TAG_KEY] = DRILL_TAG_VALUE
    return tags


def canary_name(run_id: str, *, tag_guard: bool = False) -> str:
    """``tokenfuse-drill-<run id>`` (``-tag`` for the tag canary): Bedrock allows letters, digits,
    single spaces, ``_`` and ``-`` between them, 64 characters."""
    name = f"{CANARY_NAME_PREFIX}{run_id}{'-tag' if tag_guard else ''}"
    if len(name) > 64:
        raise DrillError(f"canary name {name!r} is longer than Bedrock's 64 characters")
    return name


def tag_guard_statement(partition: str = "aws") -> dict[str, Any]:
    """The guard SCP's drill statement: a deny of invocation on profiles carrying both drill tags,
    so only a canary can ever be refused by it (``org/guard-scp.json`` holds it)."""
    return {
        "Sid": TAG_GUARD_SID,
        "Effect": "Deny",
        "Action": list(DENIED_ACTIONS),
        "Resource": f"arn:{partition}:bedrock:*:*:application-inference-profile/*",
        "Condition": {
            "StringEquals": {
                f"aws:ResourceTag/{DRILL_TAG_KEY}": DRILL_TAG_VALUE,
                f"aws:ResourceTag/{TAG_GUARD_TAG_KEY}": DRILL_TAG_VALUE,
            }
        },
    }
