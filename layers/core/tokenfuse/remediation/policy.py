"""The policy task: the owning team's policy for the profile's environment, then the overrides.

Overrides, strongest first:

1. **DryRun** (stack parameter): whatever the team's mode, nothing is changed. A policy that would
   trip (``approve`` or ``auto``) becomes ``mode=dry-run``: the trip task plans the change, audits
   it and changes nothing; nobody is asked. Decision ``dry-run``.
2. **Protected** (``tokenfuse:protected=true`` on the profile): never tripped. Mode ``notify``,
   decision ``protected``: the team is told, nothing else.
3. **Below the policy's thresholds** (``min_severity``, ``min_spike_usd_per_hour``): notify only.
4. **Scope** ``caller``: only the callers with at least ``caller_min_share`` of the spend are
   blocked (the incident's ``culprit.callers``, named by the invocation-log meter); when nobody is
   named, the whole profile is blocked if the policy says ``profile_when_no_caller``, else notify only.
5. **Trips per hour** (``MAX_TRIPS_PER_HOUR`` across the organization, counted in the approvals
   table): past the bound an ``auto`` policy needs a person (mode ``approve``).

Untagged or unknown-owner profiles take FinOps's policy, and FinOps's approvers decide.

A **drill** incident (``tokenfuse drill``: its profile is a canary tagged ``tokenfuse:drill=true``)
takes none of these: it detaches at once, even under DryRun, and nobody is asked; the trip task
acts only when the profile's live tags say it is a canary (:mod:`tokenfuse.remediation.trip`).
"""

from tokenfuse.remediation.caller_scope import Scope, caller_label, offending
from tokenfuse.remediation.directory import owner, policy_for
from tokenfuse.remediation.models import Mode, PolicyDecision, RemediationIncident, seconds
from tokenfuse.remediation.settings import TripMechanism
from tokenfuse.teams import FINOPS, Policy, TeamDirectory


def decide(
    incident: RemediationIncident,
    directory: TeamDirectory,
    *,
    dry_run: bool,
    max_trips_per_hour: int,
    trips_last_hour: int,
    mechanism: TripMechanism,
) -> PolicyDecision:
    """The policy for this incident after every override (pure: no AWS)."""
    if incident.drill:
        return _drill(incident, mechanism, trips_last_hour)
    reasons: list[str] = []
    decider = owner(directory, incident.team)
    if not decider.known:
        reasons.append(
            f"team {incident.team!r} is not in the team directory: FinOps decides"
            if incident.team
            else "the profile has no known owner: FinOps decides"
        )
    policy = policy_for(directory, incident.team, incident.environment)
    mode: str = policy.mode
    scope, callers = policy.scope, list[tuple[str, float]]()
    decision: str | None
    if dry_run:
        reasons.append("DryRun is on: the trip is planned and audited, nothing is changed")
        scope, callers, mode = _scope(policy, incident, mode, reasons)
        if mode in {"approve", "auto"}:
            mode = "dry-run"
        decision = "dry-run"
    elif incident.protected:
        reasons.append("the profile is tagged protected: never tripped")
        mode, decision = "notify", "protected"
    else:
        if mode != "notify" and not policy.meets_thresholds(
            incident.cost_per_hour_usd, incident.baseline_cost_per_hour_usd, incident.severity
        ):
            reasons.append("the spike is below the policy's thresholds: notify only")
            mode = "notify"
        scope, callers, mode = _scope(policy, incident, mode, reasons)
        if mode == "auto" and trips_last_hour >= max_trips_per_hour:
            reasons.append(
                f"{trips_last_hour} trip(s) in the last hour reach the bound of {max_trips_per_hour}: "
                "a person decides"
            )
            mode = "approve"
        decision = {"notify": "notify", "auto": "auto"}.get(mode)

    return PolicyDecision.model_validate(
        {
            "mode": mode,
            "team_mode": policy.mode,
            "action": policy.action,
            "decision": decision,
            "reasons": reasons,
            "team": decider.name,
            "approver_team": decider.name,
            "environment": incident.environment,
            "approval_timeout_seconds": seconds(policy.approval_timeout_minutes, 15),
            "snooze_seconds": seconds(policy.snooze_minutes, 60),
            "verify_delay_seconds": seconds(policy.verify_delay_minutes, 5, minimum=0),
            "cooldown_seconds": seconds(policy.cooldown_minutes, 60),
            "on_timeout": policy.on_timeout,
            "dry_run": dry_run,
            "mechanism": mechanism,
            "trips_last_hour": trips_last_hour,
            "scope": scope,
            "callers": [arn for arn, _ in callers],
            "callers_share": min(1.0, sum(share for _, share in callers)),
        }
    )


def _scope(
    policy: Policy, incident: RemediationIncident, mode: str, reasons: list[str]
) -> tuple[Scope, list[tuple[str, float]], str]:
    """The scope, the callers to block (with their shares) and the mode, for the team's policy."""
    if policy.scope != "caller" or mode == "notify":
        return policy.scope, [], mode
    chosen = offending(incident.callers, policy.caller_min_share)
    if chosen:
        labels = ", ".join(caller_label(arn) for arn, _ in chosen)
        reasons.append(f"caller scope: {labels} (each at least {policy.caller_min_share:.0%} of the spend)")
        return "caller", chosen, mode
    nobody = "caller scope, but no caller is named (invocation logs name them)"
    if policy.profile_when_no_caller:
        reasons.append(f"{nobody}: the profile is blocked")
        return "profile", [], mode
    reasons.append(f"{nobody}: notify only")
    return "caller", [], "notify"


def _drill(incident: RemediationIncident, mechanism: TripMechanism, trips_last_hour: int) -> PolicyDecision:
    """A drill detaches its canary now: no approval, no DryRun, no verify delay, outside the trip
    bound (one canary a week must never make a real runaway wait for a person)."""
    mode: Mode = "auto"
    return PolicyDecision(
        mode=mode,
        team_mode="auto",
        action="detach",
        decision="auto",
        reasons=["drill: the canary is detached at once, even under DryRun; nobody is asked"],
        team=FINOPS,
        approver_team=FINOPS,
        environment=incident.environment,
        approval_timeout_seconds=seconds(None, 15),
        snooze_seconds=seconds(None, 60),
        verify_delay_seconds=0,
        cooldown_seconds=seconds(None, 60),
        on_timeout="none",
        dry_run=False,
        mechanism=mechanism,
        trips_last_hour=trips_last_hour,
        drill=True,
    )
