"""The inventory record of one application inference profile."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from tokenfuse.events import UtcDateTime


class Compliance(BaseModel):
    """Whether a profile can be attributed: mandatory tags present and its team known."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    compliant: bool
    missing_tags: list[str] = Field(default_factory=list)
    unknown_team: bool = False


class ProfileRecord(BaseModel):
    """One row of the inventory table (key ``profile_arn``)."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="ignore")

    profile_arn: str
    profile_id: str
    profile_name: str | None = None
    account_id: str
    region: str
    model_arns: list[str] = Field(default_factory=list)
    model_ids: list[str] = Field(default_factory=list)
    tags: dict[str, str] = Field(default_factory=dict)
    team_tag: str | None = Field(default=None, description="the team tag's value, known or not")
    team: str | None = Field(default=None, description="the owning team; null when unknown or untagged")
    compliance: Compliance
    first_seen: UtcDateTime
    last_seen: UtcDateTime
    creator: str | None = Field(default=None, description="CloudTrail userIdentity.arn of the creator")
    alarm_thresholds: dict[str, float] = Field(
        default_factory=dict, description="metric name -> per-minute threshold of its armed alarm"
    )
    threshold_sources: dict[str, str] = Field(
        default_factory=dict,
        description="metric name -> where its threshold came from: policy | baseline | floor",
    )


def model_id_of(model_arn: str) -> str:
    """``anthropic.claude-3-haiku-20240307-v1:0`` from a foundation-model ARN (or the value itself)."""
    return model_arn.split("/", 1)[1] if "/" in model_arn else model_arn


def seen_at(existing: ProfileRecord | None, now: datetime) -> tuple[datetime, datetime]:
    """(first_seen, last_seen) for a profile seen now."""
    return (existing.first_seen if existing else now), now
