"""Tag compliance of a profile (pure): the mandatory tag keys present, and the team known."""

from collections.abc import Callable, Iterable, Mapping

from tokenfuse.inventory.models import Compliance


def assess(
    tags: Mapping[str, str],
    mandatory_keys: Iterable[str],
    team_tag_key: str,
    team_for: Callable[[str], str | None],
) -> tuple[Compliance, str | None]:
    """The profile's compliance and its owning team (None when untagged or unknown).

    ``team_for`` maps a team tag value to the directory's team name (None: unknown). A mandatory
    key with an empty or blank value counts as missing. ``unknown_team`` is true only when the
    team tag has a value the team directory does not know. Without a known team a profile is
    never compliant, even when the team key is not configured as mandatory.
    """
    missing = [key for key in dict.fromkeys(mandatory_keys) if not (tags.get(key) or "").strip()]
    team_value = (tags.get(team_tag_key) or "").strip() or None
    team = team_for(team_value) if team_value is not None else None
    unknown_team = team_value is not None and team is None
    compliant = not missing and team is not None
    return Compliance(compliant=compliant, missing_tags=missing, unknown_team=unknown_team), team
