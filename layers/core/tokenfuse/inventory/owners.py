"""The team directory as the inventory needs it: which team a tag value names, and alarm thresholds.

The inventory codes against :class:`TeamResolver`; :class:`DirectoryTeams` adapts
:class:`tokenfuse.teams.TeamDirectory` to it.
"""

from typing import Protocol

from tokenfuse.teams import TeamDirectory, deployed_directory, load_directory

OUTPUT_TOKENS = "OutputTokenCount"
INPUT_TOKENS = "InputTokenCount"

# Optional per-minute thresholds a team policy may carry (read with getattr: the policy model
# does not define them yet; without them the alarm threshold comes from the profile's baseline).
POLICY_THRESHOLD_FIELDS = {
    OUTPUT_TOKENS: "alarm_output_tokens_per_minute",
    INPUT_TOKENS: "alarm_input_tokens_per_minute",
}


class TeamResolver(Protocol):
    def team_for(self, tag_value: str) -> str | None:
        """The directory's team name for a team tag value; None when the directory does not know it."""
        ...

    def alarm_threshold(self, team: str | None, environment: str | None, metric: str) -> float | None:
        """The policy's per-minute threshold for ``metric``, or None when the policy sets none."""
        ...


class DirectoryTeams:
    """:class:`TeamResolver` over the team directory."""

    def __init__(self, directory: TeamDirectory) -> None:
        self.directory = directory

    @classmethod
    def from_yaml(cls, text: str) -> "DirectoryTeams":
        return cls(load_directory(text))

    def team_for(self, tag_value: str) -> str | None:
        route = self.directory.route(tag_value)
        return route.team.name if route.team is not None else None

    def alarm_threshold(self, team: str | None, environment: str | None, metric: str) -> float | None:
        policy = self.directory.policy_for(team, environment)
        value = getattr(policy, POLICY_THRESHOLD_FIELDS.get(metric, ""), None)
        return float(value) if isinstance(value, int | float) and value > 0 else None

    def known_teams(self) -> list[str]:
        return [team.name for team in self.directory.teams]


class StaticTeams:
    """A resolver over a fixed set of team names (tests, the CLI without a directory)."""

    def __init__(self, teams: set[str] | frozenset[str], thresholds: dict[str, float] | None = None) -> None:
        self.teams = frozenset(teams)
        self.thresholds = thresholds or {}

    def team_for(self, tag_value: str) -> str | None:
        return tag_value if tag_value in self.teams else None

    def alarm_threshold(self, team: str | None, environment: str | None, metric: str) -> float | None:
        return self.thresholds.get(metric) if team else None


def load_team_resolver(parameter_name: str | None, max_age_seconds: int = 300) -> TeamResolver:
    """The directory from its SSM parameter (:func:`tokenfuse.teams.deployed_directory`: cached,
    a broken parameter refused); empty when not configured."""
    if not parameter_name:
        return DirectoryTeams(TeamDirectory())
    return DirectoryTeams(deployed_directory(parameter_name, max_age_seconds))
