"""Who spent what (pure): lines classified by their owner, summed per team, feature and environment.

- A drill canary (:func:`tokenfuse.canaries.is_drill_profile`: tagged ``tokenfuse:drill=true`` and
  named ``tokenfuse-drill-...``) is in no figure.
- A profile whose team tag names a team of the directory is attributable; its feature and
  environment come from its tags (``(none)`` when absent).
- Everything else is unattributed: profiles with no team tag (``untagged``), a team tag the
  directory does not know (``unknown-team``), models called directly (``direct-model``).
- Money is rounded to cents once, per feature and per unattributed item; every total above is the
  sum of those, so team spend plus unattributed spend equals the total to the cent.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from tokenfuse.attribution.rank import TagKeys
from tokenfuse.attribution.usage import Usage
from tokenfuse.canaries import is_drill_profile
from tokenfuse.showback.models import FeatureFigures, ModelShare, Mover, UnattributedItem, Unit
from tokenfuse.showback.period import Period
from tokenfuse.showback.reading import Line

NONE_LABEL = "(none)"
OwnerKind = Literal["team", "untagged", "unknown-team", "direct-model", "drill"]


@dataclass(frozen=True)
class Owned:
    """A line and who owns it."""

    line: Line
    kind: OwnerKind
    team: str | None
    """The directory's team name (kind ``team``), else None."""
    team_tag: str
    feature: str
    environment: str


def classify(line: Line, tag_keys: TagKeys, team_for: Callable[[str], str | None]) -> Owned:
    tags = dict(line.tags)
    team_tag = tags.get(tag_keys.team, "").strip()
    feature = tags.get(tag_keys.feature, "").strip() or NONE_LABEL
    environment = tags.get(tag_keys.environment, "").strip() or NONE_LABEL
    if line.subject == "profile" and is_drill_profile(line.name, tags):
        return Owned(line, "drill", None, team_tag, feature, environment)
    if line.subject == "direct-model":
        return Owned(line, "direct-model", None, "", NONE_LABEL, NONE_LABEL)
    if not team_tag:
        return Owned(line, "untagged", None, "", feature, environment)
    team = team_for(team_tag)
    if team is None:
        return Owned(line, "unknown-team", None, team_tag, feature, environment)
    return Owned(line, "team", team, team_tag, feature, environment)


def cents(value: float) -> float:
    return round(value + 0.0, 2)


def added(values: Iterable[float]) -> float:
    """A sum of cent figures, as cents (no float dust)."""
    return cents(sum(values))


def _per(value: float, requests: float, digits: int) -> float | None:
    return round(value / requests, digits) if requests > 0 else None


def _percent(part: float, whole: float) -> float | None:
    return round(100.0 * part / whole, 2) if whole > 0 else None


def change_percent(now: float, before: float) -> float | None:
    return round(100.0 * (now - before) / before, 2) if before > 0 else None


def model_shares(lines: Sequence[Line], period: Period, spend: float) -> list[ModelShare]:
    by_model: dict[str, float] = {}
    for line in lines:
        by_model[line.model_id] = by_model.get(line.model_id, 0.0) + line.cost(period.start, period.end)
    return [
        ModelShare(model_id=model, spend_usd=cents(usd), share_percent=_percent(usd, spend))
        for model, usd in sorted(by_model.items(), key=lambda item: (-item[1], item[0]))
    ]


def unit_of(lines: Sequence[Line], period: Period) -> Unit:
    """The figures of these lines (spend rounded to cents here, once)."""
    before = period.previous()
    usage = Usage()
    previous = Usage()
    for line in lines:
        usage = usage.plus(line.usage(period.start, period.end))
        previous = previous.plus(line.usage(before.start, before.end))
    spend = cents(sum(line.cost(period.start, period.end) for line in lines))
    previous_spend = cents(sum(line.cost(before.start, before.end) for line in lines))
    requests = usage.invocations
    exact = sum(line.cost(period.start, period.end) for line in lines)
    return Unit(
        spend_usd=spend,
        requests=round(requests),
        cost_per_request_usd=_per(exact, requests, 6),
        input_tokens_per_request=_per(usage.input_tokens, requests, 1),
        output_tokens_per_request=_per(usage.output_tokens, requests, 1),
        cache_read_tokens_per_request=_per(usage.cache_read_tokens, requests, 1),
        cache_write_tokens_per_request=_per(usage.cache_write_tokens, requests, 1),
        previous_spend_usd=previous_spend,
        previous_requests=round(previous.invocations),
        change_usd=cents(spend - previous_spend),
        change_percent=change_percent(spend, previous_spend),
        models=model_shares(lines, period, exact),
    )


def summed_unit(parts: Sequence[Unit], lines: Sequence[Line], period: Period) -> Unit:
    """A team's figures: its parts' cent figures added up, per-request figures from the lines."""
    spend = added(p.spend_usd for p in parts)
    previous = added(p.previous_spend_usd for p in parts)
    return unit_of(lines, period).model_copy(
        update={
            "spend_usd": spend,
            "previous_spend_usd": previous,
            "change_usd": cents(spend - previous),
            "change_percent": change_percent(spend, previous),
        }
    )


@dataclass(frozen=True)
class FeatureGroup:
    team: str
    feature: str
    environment: str
    lines: tuple[Line, ...]


def feature_groups(owned: Iterable[Owned]) -> list[FeatureGroup]:
    groups: dict[tuple[str, str, str], list[Line]] = {}
    for o in owned:
        if o.kind == "team" and o.team is not None:
            groups.setdefault((o.team, o.feature, o.environment), []).append(o.line)
    return [FeatureGroup(t, f, e, tuple(lines)) for (t, f, e), lines in sorted(groups.items())]


def feature_figures(group: FeatureGroup, period: Period) -> FeatureFigures:
    return FeatureFigures(
        feature=group.feature,
        environment=group.environment,
        profiles=sorted({line.name for line in group.lines}),
        **unit_of(group.lines, period).model_dump(),
    )


def unattributed_items(owned: Iterable[Owned], period: Period) -> list[UnattributedItem]:
    items = []
    for o in owned:
        if o.kind not in ("untagged", "unknown-team", "direct-model"):
            continue
        label = o.team_tag if o.kind == "unknown-team" else o.line.name
        if o.kind == "unknown-team":
            label = f"{o.team_tag} ({o.line.name})"
        items.append(
            UnattributedItem(
                kind=o.kind,
                label=label,
                account_id=o.line.account_id,
                region=o.line.region,
                **unit_of([o.line], period).model_dump(),
            )
        )
    return sorted(items, key=lambda i: (-i.spend_usd, i.kind, i.label))


def movers(
    teams: Iterable[tuple[str, FeatureFigures]], items: Iterable[UnattributedItem], limit: int = 10
) -> list[Mover]:
    """The rows whose spend changed most against the period before, either way (a zero change is no mover)."""
    rows = [
        Mover(
            team=team, feature=f.feature, environment=f.environment, kind="team", label=f"{team}/{f.feature}",
            spend_usd=f.spend_usd, previous_spend_usd=f.previous_spend_usd, change_usd=f.change_usd,
            change_percent=f.change_percent,
        )
        for team, f in teams
    ]  # fmt: skip
    rows += [
        Mover(
            team=None, feature=None, environment=None, kind=i.kind, label=i.label, spend_usd=i.spend_usd,
            previous_spend_usd=i.previous_spend_usd, change_usd=i.change_usd, change_percent=i.change_percent,
        )
        for i in items
    ]  # fmt: skip
    moved = [r for r in rows if abs(r.change_usd) >= 0.01]
    return sorted(moved, key=lambda r: (-abs(r.change_usd), r.label))[:limit]
