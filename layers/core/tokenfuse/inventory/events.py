"""``ProfileNonCompliant``: the bus event FinOps gets for a new non-compliant profile.

Importing this module registers its ``detail-type`` and ``source`` in tokenfuse.events'
DETAIL_TYPES / BUS_SOURCES, so :class:`tokenfuse.adapters.bus.EventBus` can put it.
"""

from pydantic import Field

from tokenfuse.events import BUS_SOURCES, DETAIL_TYPES, BusModel, UtcDateTime


class ProfileNonCompliant(BusModel):
    """A profile first seen non-compliant (or turned non-compliant by a retag)."""

    profile_arn: str
    profile_id: str
    profile_name: str | None
    account_id: str
    region: str
    tags: dict[str, str]
    team_tag: str | None = Field(description="the team tag's value, when there is one (unknown team)")
    missing_tags: list[str]
    unknown_team: bool
    creator: str | None = Field(description="CloudTrail userIdentity.arn of who created it, when known")
    detected_at: UtcDateTime
    reason: str


PROFILE_NON_COMPLIANT = "Profile Non-Compliant"
INVENTORY_SOURCE = "tokenfuse.inventory"

DETAIL_TYPES.setdefault(ProfileNonCompliant, PROFILE_NON_COMPLIANT)
BUS_SOURCES.setdefault(ProfileNonCompliant, INVENTORY_SOURCE)
