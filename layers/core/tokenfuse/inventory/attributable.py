"""The attributable share of Bedrock spend (pure).

Cost Explorer groups the day's Bedrock cost by the team tag; its keys read ``team$<value>``, an
empty value meaning untagged. Spend is attributable when its team value names a team the
directory knows: a tagged profile of an unknown team counts as not attributable. Direct model
calls (no application profile) carry no tag either: Cost Explorer puts them with the untagged
spend, and when attribution measured them (``direct_model_usd``) that part is split out of it.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AttributableShare:
    total_usd: float
    attributable_usd: float
    untagged_usd: float
    unknown_team_usd: float
    by_team_usd: dict[str, float]
    direct_model_usd: float = 0.0
    """Of the spend with no team tag, what direct model calls made (never attributable)."""

    @property
    def percent(self) -> float | None:
        """0-100, or None when there was no spend to attribute."""
        if self.total_usd <= 0:
            return None
        return round(100.0 * self.attributable_usd / self.total_usd, 2)


def tag_value(group_key: str) -> str:
    """The tag value of a Cost Explorer TAG group key (``team$search`` -> ``search``)."""
    return group_key.split("$", 1)[1] if "$" in group_key else group_key


def attributable_share(
    cost_by_group: Mapping[str, float], team_for: Callable[[str], str | None], direct_model_usd: float = 0.0
) -> AttributableShare:
    total = attributable = untagged = unknown = 0.0
    by_team: dict[str, float] = {}
    for key, usd in cost_by_group.items():
        total += usd
        value = tag_value(key).strip()
        if not value:
            untagged += usd
        elif (team := team_for(value)) is not None:
            attributable += usd
            by_team[team] = by_team.get(team, 0.0) + usd
        else:
            unknown += usd
    direct = min(untagged, max(0.0, direct_model_usd))
    return AttributableShare(
        total_usd=round(total, 6),
        attributable_usd=round(attributable, 6),
        untagged_usd=round(untagged - direct, 6),
        unknown_team_usd=round(unknown, 6),
        by_team_usd={k: round(v, 6) for k, v in sorted(by_team.items())},
        direct_model_usd=round(direct, 6),
    )
