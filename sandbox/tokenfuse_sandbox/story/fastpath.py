"""The sub-minute fast path in the sandbox: model invocation logging on in each member account and
region with a profile, the meter subscribed to it, and calls sent through the emulated
``bedrock-runtime`` a few seconds apart, so that records reach the meter on the subscription's
5-second ticks.

**The member side** is ``org/member.yaml`` deployed as the StackSet
(:mod:`tokenfuse_sandbox.member_stacks`) with the meter's artifacts and
``EnableInvocationLogging=true``: in each member account and region its own MeterFunction,
counters table and dead-letter queue, and its custom resource turning logging on and subscribing
that meter, which sends spend-rate events to tokenfuse's bus in the tooling account.

**The calls.** Each caller is a role of the profile's account (``<profile name>-runtime``), whose
STS session calls ``Converse`` through boto3's own client; the emulated runtime enforces the guard
SCP (after its propagation delay), publishes the ``AWS/Bedrock`` metrics and writes the records.
Token counts come from the scenario (input words; ``maxTokens`` sets the output).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tokenfuse_sandbox.story.org import Org, SeededProfile, Sessions

if TYPE_CHECKING:
    from tokenfuse_sandbox.core import Sandbox
    from tokenfuse_sandbox.story.scenarios import Scenario

LOG_GROUP = "/aws/bedrock/modelinvocations"
SETUP = "InvocationLogMeterSetup"
"""org/member.yaml's custom resource that finds or turns on logging and subscribes the meter."""
SLICE = timedelta(seconds=5)
ANSWER_TOKENS_CEILING = 1_000_000
"""The emulated model answers ``maxTokens`` words (under this ceiling): the scenario's output."""


def caller_role(profile: SeededProfile) -> str:
    return f"{profile.spec.name}-runtime"


def member_wiring(org: Org) -> dict[tuple[str, str], str]:
    """(account, region) -> what each member stack's invocation-logging set-up answered."""
    stacks = org.member_stacks
    if stacks is None:
        return {}
    return {(a.account_id, a.region): a.reason for a in stacks.answers if a.logical_id == SETUP}


@dataclass
class FastCalls:
    """Calls through the emulated runtime, a slice of seconds at a time."""

    sessions: Sessions
    org: Org
    scenario: Scenario
    loop_start: datetime
    profiles: tuple[str, ...]
    """The profile keys whose callers call (the culprit, and any others the story wants)."""
    _carry: dict[str, float] = field(default_factory=dict)
    _clients: dict[str, Any] = field(default_factory=dict)
    sent: int = 0
    denied: int = 0
    first_denied_at: datetime | None = None

    def looping(self, profile: SeededProfile, t: datetime) -> bool:
        return (
            profile.key == self.scenario.profile_key
            and self.loop_start <= t < self.loop_start + self.scenario.fixed_after
        )

    def _runtime(self, profile: SeededProfile) -> Any:
        if profile.key not in self._clients:
            import boto3

            spec = profile.spec
            sts = self.sessions.client("sts", spec.account_id, spec.region)
            role_arn = f"arn:aws:iam::{spec.account_id}:role/{caller_role(profile)}"
            creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="app-1")["Credentials"]
            self._clients[profile.key] = boto3.client(
                "bedrock-runtime",
                region_name=spec.region,
                aws_access_key_id=creds["AccessKeyId"],
                aws_secret_access_key=creds["SecretAccessKey"],
                aws_session_token=creds["SessionToken"],
            )
        return self._clients[profile.key]

    def _output_limit(self, profile: SeededProfile) -> int:
        from tokenfuse_sandbox.emulation import bedrock_runtime

        spec = profile.spec
        return bedrock_runtime.resolve(spec.account_id, spec.region, profile.arn).model.max_output_tokens

    def calls_in(self, profile: SeededProfile, t: datetime, seconds: float) -> Iterator[tuple[int, int]]:
        """(input, output tokens) of each call the profile's callers make in [t, t + seconds)."""
        from tokenfuse_sandbox.story.traffic import diurnal

        spec = profile.spec
        rpm = spec.requests_per_minute * diurnal(t)
        inp, out = spec.input_per_request, spec.output_per_request
        if self.looping(profile, t):
            rpm *= self.scenario.requests
            inp, out = round(inp * self.scenario.input_tokens), round(out * self.scenario.output_tokens)
        out = min(out, self._output_limit(profile))  # a model answers at most its output limit
        due = self._carry.get(profile.key, 0.0) + rpm * seconds / 60
        whole = int(due)
        self._carry[profile.key] = due - whole
        for _ in range(whole):
            yield inp, out

    def send(self, t: datetime, seconds: float) -> list[tuple[str, int, int]]:
        """The slice's calls, at the simulated now (the records' timestamps); (profile key, input,
        output tokens) of each call answered."""
        from botocore.exceptions import ClientError

        from tokenfuse_sandbox.emulation import bedrock_runtime

        bedrock_runtime.configure(answer_tokens=ANSWER_TOKENS_CEILING)
        answered: list[tuple[str, int, int]] = []
        for key in self.profiles:
            profile = self.org.profiles[key]
            for inp, out in self.calls_in(profile, t, seconds):
                prompt = " ".join(["word"] * max(1, inp))  # the emulation counts one token a word
                try:
                    self._runtime(profile).converse(
                        modelId=profile.arn,
                        messages=[{"role": "user", "content": [{"text": prompt}]}],
                        inferenceConfig={"maxTokens": out},
                    )
                    self.sent += 1
                    answered.append((key, inp, out))
                except ClientError as error:
                    if error.response.get("Error", {}).get("Code") != "AccessDeniedException":
                        raise
                    self.denied += 1
                    if self.first_denied_at is None:
                        self.first_denied_at = t
        return answered


__all__ = [
    "LOG_GROUP", "SLICE", "FastCalls", "caller_role", "describe_latencies", "latencies", "member_wiring",
    "path_line",
]  # fmt: skip


def latencies() -> dict[str, int]:
    """The emulation's assumed latencies, which set the fast path's timings (printed beside them)."""
    from tokenfuse.meter.arming import BurnDefaults
    from tokenfuse_sandbox.emulation.bedrock_access import SCP_PROPAGATION_SECONDS
    from tokenfuse_sandbox.emulation.invocation_logs import LOG_DELIVERY_SECONDS

    return {
        "log_delivery_seconds": LOG_DELIVERY_SECONDS,
        "scp_propagation_seconds": SCP_PROPAGATION_SECONDS,
        "burn_window_seconds": BurnDefaults().burn_seconds,
    }


def path_line(values: dict[str, int] | None) -> str:
    """Which fast path tells the story, with the emulation's latencies where they set its timings."""
    if values is None:
        return "per-profile token-rate alarms (3 breaching one-minute periods; --no-invocation-logs)"
    return f"model invocation logs -> the member stack's meter ({describe_latencies(values)})"


def describe_latencies(values: dict[str, int]) -> str:
    return (
        f"emulated: log delivery every {values['log_delivery_seconds']} s, SCP propagation "
        f"{values['scp_propagation_seconds']} s; burn window {values['burn_window_seconds']} s"
    )


@dataclass
class FastRun:
    """One loop on the fast path, measured in simulated seconds from the loop's start."""

    sb: Sandbox
    calls: FastCalls
    culprit: SeededProfile
    wiring: dict[tuple[str, str], str]
    alerted_after: float | None
    contained_after: float | None
    spent_usd: float
    """The culprit's dollars from the loop's start until the calls were refused (priced per call)."""
    loop_usd_per_hour: float


def run_fast_path(
    scenario_name: str = "runaway-loop", policy: str = "auto", *, limit: timedelta = timedelta(seconds=180)
) -> Iterator[FastRun]:
    """The loop from one minute before it starts until its calls are refused (or ``limit``), in a
    fresh sandbox seeded with the demo's organization; yields the run while the sandbox is up."""
    from tokenfuse_sandbox.core import Sandbox
    from tokenfuse_sandbox.member_stacks import meter_parameters
    from tokenfuse_sandbox.story import org as org_mod
    from tokenfuse_sandbox.story import scenarios
    from tokenfuse_sandbox.story.org import owner_of
    from tokenfuse_sandbox.story.timeline import HISTORY_START, LOOP_START
    from tokenfuse_sandbox.story.traffic import Traffic, _rates

    scenario = scenarios.get(scenario_name)
    settings = org_mod.sandbox_settings(policy)
    with Sandbox(
        clock_start=HISTORY_START - timedelta(hours=1),
        clock_mode="block",
        fire_schedules=False,
        function_urls=False,
        **settings,
    ) as sb:
        assert sb.clock is not None and sb.slack is not None
        org, sessions = org_mod.seed(sb, member_parameters=meter_parameters(enable_logging=True))
        sb.drain()
        culprit = org.profiles[scenario.profile_key]
        Traffic(org, scenario, LOOP_START).history(
            HISTORY_START, LOOP_START.replace(minute=0) - timedelta(hours=1)
        )
        start = LOOP_START - timedelta(seconds=60)
        sb.clock.advance_to(start)
        sb.drain()
        calls = FastCalls(sessions, org, scenario, LOOP_START, (culprit.key,))
        owner = owner_of(culprit.spec)
        rates = _rates(culprit.spec.model_arn, culprit.spec.region)
        alerted: datetime | None = None
        spent = 0.0
        t = start
        while t < LOOP_START + limit and calls.first_denied_at is None:
            answered = calls.send(t, SLICE.total_seconds())
            if t >= LOOP_START and rates is not None:
                spent += sum(rates.cost(i, o) for _, i, o in answered)
            t += SLICE
            sb.clock.advance_to(t)
            sb.drain(timeout=60)
            if alerted is None and sb.slack.messages(owner.channel):
                alerted = t
        spec = culprit.spec
        per_call = (
            rates.cost(
                round(spec.input_per_request * scenario.input_tokens),
                round(spec.output_per_request * scenario.output_tokens),
            )
            if rates
            else 0.0
        )
        loop_rate = per_call * spec.requests_per_minute * scenario.requests * 60
        yield FastRun(
            sb,
            calls,
            culprit,
            member_wiring(org),
            (alerted - LOOP_START).total_seconds() if alerted else None,
            (calls.first_denied_at - LOOP_START).total_seconds() if calls.first_denied_at else None,
            spent,
            loop_rate,
        )
