"""The drill canary's marks, and the one predicate that keeps canaries out of every figure.

A canary is an application inference profile ``tokenfuse drill`` creates for itself and deletes
at its end (:mod:`tokenfuse.drill.canary` makes them). It carries ``tokenfuse:drill=true`` and a
name starting with :data:`CANARY_NAME_PREFIX`. :func:`is_drill_profile` is the test every figure
uses (inventory compliance, the attributable %, attribution and so alerts, showback) and the trip's
own check that a drill incident names a canary. Its tag test is exactly what the drill's IAM
conditions read (``aws:ResourceTag/tokenfuse:drill`` equals ``true``, case-sensitive); the name test
is what IAM cannot read (a profile ARN carries its id, not its name), and what a team cannot give
its own profile afterwards (names never change), so tagging a team's profile cannot hide its spend.

No imports: every stage and the adapters may know these marks.
"""

from collections.abc import Mapping

DRILL_TAG_KEY = "tokenfuse:drill"
DRILL_TAG_VALUE = "true"
CANARY_NAME_PREFIX = "tokenfuse-drill-"
DRILL_COST_TAGS: Mapping[str, str] = {DRILL_TAG_KEY: DRILL_TAG_VALUE}
"""The cost-allocation tag a Cost Explorer query leaves out to keep canaries out of a figure."""


def is_drill_profile(name: str | None, tags: Mapping[str, str]) -> bool:
    """True for a drill canary: tagged ``tokenfuse:drill=true`` and named ``tokenfuse-drill-...``."""
    return tags.get(DRILL_TAG_KEY) == DRILL_TAG_VALUE and (name or "").startswith(CANARY_NAME_PREFIX)


__all__ = ["CANARY_NAME_PREFIX", "DRILL_COST_TAGS", "DRILL_TAG_KEY", "DRILL_TAG_VALUE", "is_drill_profile"]
