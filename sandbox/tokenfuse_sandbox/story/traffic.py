"""Emulation: the organization's Bedrock traffic, written as the ``AWS/Bedrock`` metrics AWS emits.

Each profile calls Bedrock at its own rate, shaped by the time of day (quiet at night, peaking in
the afternoon UTC; every day the same, so a day's cost is its baseline's). Per interval the
generator writes the sums of ``Invocations``, ``InputTokenCount`` and ``OutputTokenCount`` with
dimension ``ModelId`` = the profile id into the profile's account and region (moto CloudWatch):
one datapoint per hour for the week of history, one per minute around the story's spike. They are
written as Bedrock emits them, into moto's backend (``bedrock_runtime.emit_metrics``), not through
``PutMetricData``: an ``AWS/`` namespace is AWS's own, and a story's week of history was about a
tenth of its time in API calls.

Before each batch of calls the generator asks whether the profile is denied, the way AWS would
refuse the calls, through the same evaluator as the emulated ``bedrock-runtime``
(``emulation/bedrock_access.py``): an SCP attached above the profile's account (the tokenfuse guard
listing its ARN, or a tag-conditioned statement), or an inline policy on one of the profile's caller
roles (``tokenfuse:callers``), that denies ``bedrock:InvokeModel`` on the profile or on the model
behind it. A denied batch emits no tokens, only ``InvocationClientErrors`` (AccessDenied): this is
the named emulation of the deny's effect, so that "the spend stops" is observed in the metrics, not
assumed. What it does not prove: that AWS evaluates the SCP for ``InvokeModel`` through an
application inference profile (see the README).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from tokenfuse_sandbox.story.org import MEMBER_ROLE, Org, SeededProfile
from tokenfuse_sandbox.story.scenarios import Scenario

if TYPE_CHECKING:
    from tokenfuse.attribution.pricing import Rates

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
CALLERS_TAG = "tokenfuse:callers"
SESSION_NAME = "tokenfuse-demo-traffic"


def diurnal(t: datetime) -> float:
    """The share of the peak rate at ``t`` (UTC): 0.25 at night, 1.0 at 14:00."""
    h = t.hour + t.minute / 60
    day = math.sin(math.pi * (h - 5) / 18) if 5 <= h <= 23 else 0.0
    return 0.25 + 0.75 * max(0.0, day)


@dataclass
class Usage:
    invocations: float = 0.0
    input_tokens: float = 0.0
    output_tokens: float = 0.0

    def add(self, other: Usage) -> None:
        self.invocations += other.invocations
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens


@dataclass(frozen=True)
class Batch:
    """One profile's calls over one interval, as the generator sent them."""

    profile_key: str
    start: datetime
    seconds: int
    invocations: int
    input_tokens: int
    output_tokens: int
    denied_calls: int
    denied_by: str | None
    usd: float
    looping: bool


class Traffic:
    def __init__(self, org: Org, scenario: Scenario, loop_start: datetime) -> None:
        self.org = org
        self.scenario = scenario
        self.loop_start = loop_start
        self.loop_end = loop_start + scenario.fixed_after
        self.batches: list[Batch] = []
        self.denials: dict[str, str] = {}
        """Profile key -> the deny in force at the last batch (absent: not denied)."""
        from tokenfuse_sandbox.emulation.bedrock_access import AccessEvaluator

        self._access = AccessEvaluator(scp_propagation_seconds=0)

    # -- what the callers would send ---------------------------------------------------------------
    def looping(self, profile: SeededProfile, t: datetime) -> bool:
        return profile.key == self.scenario.profile_key and self.loop_start <= t < self.loop_end

    def intended(self, profile: SeededProfile, start: datetime, seconds: int) -> tuple[Usage, bool]:
        """Calls the profile's callers make in [start, start + seconds), minute by minute."""
        spec = profile.spec
        usage = Usage()
        looped = False
        for i in range(max(1, seconds // 60)):
            t = start + i * MINUTE
            rpm = spec.requests_per_minute * diurnal(t)
            inp, out = float(spec.input_per_request), float(spec.output_per_request)
            if self.looping(profile, t):
                looped = True
                rpm *= self.scenario.requests
                inp *= self.scenario.input_tokens
                out *= self.scenario.output_tokens
            usage.add(Usage(rpm, rpm * inp, rpm * out))
        return usage, looped

    # -- the deny -----------------------------------------------------------------------------
    def _denial(self, profile: SeededProfile) -> str | None:
        """Why AWS would refuse the profile's calls now (None: it would not), as the shared deny
        evaluator of the emulated bedrock-runtime decides it, for each caller role the profile's
        ``tokenfuse:callers`` tag names (or the generator's own session when it names none).

        The generator sends a minute of calls at once, so it reads the SCPs as written: the
        runtime's propagation delay (a few seconds) is below its resolution."""
        from tokenfuse.remediation.callers import parse_callers
        from tokenfuse_sandbox.emulation import bedrock_access, bedrock_runtime

        spec = profile.spec
        callers = [c.rsplit("/", 1)[-1] for c in parse_callers(spec.tags.get(CALLERS_TAG))]
        roles = callers or [MEMBER_ROLE]
        target = bedrock_runtime.resolve(spec.account_id, spec.region, profile.arn)
        for role in roles:
            principal = bedrock_access.principal_for_role(spec.account_id, role, SESSION_NAME)
            denial = self._access.denial(
                principal, "bedrock:InvokeModel", target.resource_checks(), region=spec.region
            )
            if denial is not None:
                return denial.reason
        return None

    def refresh_denials(self) -> dict[str, str]:
        denials = {}
        for profile in self.org.profiles.values():
            reason = self._denial(profile)
            if reason:
                denials[profile.key] = reason
        self.denials = denials
        return denials

    # -- sending --------------------------------------------------------------------------------
    def send(
        self, start: datetime, seconds: int, check_denials: bool = True, *, skip: frozenset[str] = frozenset()
    ) -> list[Batch]:
        """Every profile's calls over [start, start + seconds), written as one datapoint per metric;
        the profiles in ``skip`` call through the emulated runtime instead (the story's fast path)."""
        from tokenfuse_sandbox.emulation import bedrock_runtime

        if check_denials:
            self.refresh_denials()
        out = []
        for profile in self.org.profiles.values():
            if profile.key in skip:
                continue
            spec = profile.spec
            usage, looped = self.intended(profile, start, seconds)
            denied_by = self.denials.get(profile.key) if check_denials else None
            calls = round(usage.invocations)
            if denied_by:
                batch = Batch(profile.key, start, seconds, 0, 0, 0, calls, denied_by, 0.0, looped)
                counts = {"InvocationClientErrors": calls}
            else:
                inp, outp = round(usage.input_tokens), round(usage.output_tokens)
                rates = _rates(spec.model_arn, spec.region)
                usd = rates.cost(inp, outp) if rates else 0.0
                batch = Batch(profile.key, start, seconds, calls, inp, outp, 0, None, usd, looped)
                counts = {"Invocations": calls, "InputTokenCount": inp, "OutputTokenCount": outp}
            out.append(batch)
            bedrock_runtime.emit_metrics(spec.account_id, spec.region, start, counts, [profile.profile_id])
        self.batches.extend(out)
        return out

    def history(self, start: datetime, end: datetime) -> None:
        """Ordinary hourly traffic over [start, end) (before the story: nothing is denied)."""
        t = start
        while t < end:
            self.send(t, 3600, check_denials=False)
            t += HOUR


def _rates(model_arn: str, region: str) -> Rates | None:
    # Imported here, not at the top: tokenfuse.attribution's package imports tokenfuse.observability,
    # whose Powertools Metrics reads its namespace from the environment once, at import; the
    # sandbox's handlers must be the first to import it, inside their function's environment.
    from tokenfuse.attribution.pricing import price_for

    return price_for(model_arn, region)
