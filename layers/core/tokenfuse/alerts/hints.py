"""The words of an alert that depend on the spike kind and the team's policy."""

from tokenfuse.events import Incident, SpikeKind
from tokenfuse.teams import PlannedWindow, Policy

KIND_LABELS: dict[SpikeKind, str] = {
    "request-storm": "request storm",
    "output-runaway": "output runaway",
    "context-bloat": "context bloat",
    "rate-shift": "model/rate shift",
    "unknown": "unclassified",
}

LEVER_HINTS: dict[SpikeKind, str] = {
    "output-runaway": "cap max output tokens, and ask for concise answers.",
    "context-bloat": "use prompt caching, or retrieval instead of stuffing the whole context.",
    "request-storm": "look for a retry loop, and rate-limit the caller.",
    "rate-shift": "route simple requests to a smaller model.",
    "unknown": "compare requests and tokens per request with the baseline to find what changed.",
}


DIRECT_MODEL_NEXT = (
    "Direct model calls have no inference profile to trip: FinOps is told, and blocking a caller "
    "needs a person (tokenfuse trips nothing)."
)


def lever_hint(kind: SpikeKind) -> str:
    return LEVER_HINTS[kind]


def action_phrase(policy: Policy) -> str:
    if policy.action == "detach":
        return "detach (deny calls until a person restores it)"
    return f"throttle (deny calls for {policy.cooldown_minutes} min, then restore)"


def next_step(
    policy: Policy, incident: Incident, owner_label: str, planned: PlannedWindow | None = None
) -> str:
    """What tokenfuse does next under the owner's policy, in one sentence."""
    env = incident.environment or "default"
    if incident.status == "planned" or planned is not None:
        note = planned.note if planned else incident.planned_note
        return f"Planned activity{f' ({note})' if note else ''}: tokenfuse stays quiet and takes no action."
    if incident.protected:
        return "The profile is tagged protected: tokenfuse will not trip it."
    if policy.mode != "notify" and not policy.meets_thresholds(
        incident.cost_per_hour_usd, incident.baseline_cost_per_hour_usd, incident.severity
    ):
        return (
            f"Below {owner_label}'s {env} threshold (${policy.min_spike_usd_per_hour:,.2f}/h over baseline, "
            f"severity {policy.min_severity}+): notify only."
        )
    if policy.mode == "notify":
        return f"Notify only ({env} policy): tokenfuse will not trip this profile."
    if policy.mode == "auto":
        return (
            f"tokenfuse will {action_phrase(policy)} now, then check after {policy.verify_delay_minutes} min "
            "that the spend stopped."
        )
    on_timeout = (
        "tokenfuse trips it anyway and tells FinOps"
        if policy.on_timeout == "trip"
        else "FinOps is told and nothing is tripped"
    )
    return (
        f"tokenfuse asks {owner_label}'s on-call to approve a {action_phrase(policy)}; "
        f"no answer in {policy.approval_timeout_minutes} min: {on_timeout}."
    )
