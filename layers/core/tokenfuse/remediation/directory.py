"""What remediation needs of the team directory (``tokenfuse.teams``): who owns an incident, who
may approve, where to reach them, and the FinOps fallback (resolved once, when the directory
loads: ``teams.deployed_directory`` fills what the file leaves empty from the stack's settings)."""

from dataclasses import dataclass

from tokenfuse.teams import FINOPS, Approver, Policy, TeamDirectory


@dataclass(frozen=True)
class Owner:
    """The team that decides (the owning team, or FinOps for untagged/unknown owners)."""

    name: str
    slack_channel: str | None
    emails: tuple[str, ...]
    approvers: tuple[Approver, ...]
    known: bool
    """False when FinOps stands in for a missing or unknown team."""

    @property
    def approver_slack_ids(self) -> list[str]:
        return [a.slack_user_id for a in self.approvers if a.slack_user_id]

    @property
    def approver_emails(self) -> list[str]:
        return [a.email.lower() for a in self.approvers if a.email]


def finops(directory: TeamDirectory) -> Owner:
    f = directory.finops
    return Owner(
        name=FINOPS,
        slack_channel=f.slack_channel,
        emails=tuple(f.emails),
        approvers=tuple(f.approvers),
        known=True,
    )


def owner(directory: TeamDirectory, team_name: str | None) -> Owner:
    team = directory.owning_team(team_name)
    if team is None:
        stand_in = finops(directory)
        return Owner(
            stand_in.name,
            stand_in.slack_channel,
            stand_in.emails,
            stand_in.approvers,
            known=team_name == FINOPS,
        )
    return Owner(team.name, team.slack_channel, tuple(team.emails), tuple(team.approvers), known=True)


def policy_for(directory: TeamDirectory, team_name: str | None, environment: str | None) -> Policy:
    """The team's policy for the environment (FinOps's policy for untagged/unknown owners)."""
    return directory.policy_for(team_name if team_name and team_name != FINOPS else None, environment)
