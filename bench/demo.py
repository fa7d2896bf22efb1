"""The demo's figures (issue 7), measured in the sandbox: time to contain and dollars saved, and a
storm of signals (the handlers' cold start is bench/coldstart.py).

- ``containment``: every scenario under ``--policy auto`` on the invocation-log path, the default
  story (``approve``) and the token-rate alarm path for comparison: simulated seconds from the loop's
  start to the alert and to contained (tokenfuse's own latency apart from the on-call's), dollars
  spent before it, and the CAD-only / Budgets-only counterfactuals. Goals (issue 13): ``auto``
  contained within 60 simulated seconds and >= 1,000x less than CAD-only; ``approve``: the owning
  team alerted within 30 s.
- ``storm``: 1,000 token-rate alarm signals for 20 spiking profiles (2 accounts x 2 regions) through
  the sandbox's real wiring: each profile's first alarm, 2 re-alerts (new state changes) and 47
  re-deliveries (duplicates) of those. Incidents opened must equal the 20 real spikes.
"""

from __future__ import annotations

import json
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------------------------------
# Time to contain
# --------------------------------------------------------------------------------------------------
CONTAINMENT_RUNS = [
    *((name, "auto", True) for name in ("runaway-loop", "context-bloat", "retry-storm", "untagged-spend")),
    ("runaway-loop", "approve", True),
    ("runaway-loop", "auto", False),
    ("runaway-loop", "approve", False),
]
"""(scenario, policy, invocation-log path): every scenario on the fast path under ``auto``, the
default story (approve), and the token-rate alarm path for comparison."""


def _seconds(value: int | None) -> str:
    return "-" if value is None else f"{value}"


def containment() -> str:
    from tokenfuse_sandbox.story.driver import run_demo
    from tokenfuse_sandbox.story.fastpath import describe_latencies, latencies
    from tokenfuse_sandbox.story.timeline import ONCALL_SECONDS

    rows = []
    verdict = []
    with tempfile.TemporaryDirectory() as tmp:
        for scenario, policy, fast in CONTAINMENT_RUNS:
            report = run_demo(
                scenario,
                policy=policy,
                out=None,
                chart_path=Path(tmp) / "c.html",
                log_path=Path(tmp) / "h.log",
                invocation_logs=fast,
            )
            s = report.summary
            spent = s["spent_before_containment_usd"] or 0.0
            cad, budgets = s["counterfactual_usd"]["cad"], s["counterfactual_usd"]["budgets"]
            alert, contain = s["seconds_to_alert"], s["seconds_to_contain"]
            rows.append(
                f"| {scenario} | {'invocation logs' if fast else 'token-rate alarm'} | {policy} | "
                f"{_seconds(alert)} | {_seconds(s['oncall_reaction_seconds'])} | "
                f"{_seconds(s['seconds_decision_to_contain'])} | {_seconds(contain)} | ${spent:,.2f} | "
                f"${budgets:,.2f} | ${cad:,.2f} | {cad / spent:,.0f}x | {report.wall_seconds:.1f} |"
            )
            if (scenario, fast) == ("runaway-loop", True) and policy == "auto":
                met = contain is not None and contain <= 60 and cad >= 1000 * spent
                verdict.append(
                    f"Goal (runaway loop, invocation logs, `auto`: contained within 60 simulated seconds, "
                    f">= 1,000x less than CAD-only): **{'met' if met else 'NOT met'}** ({contain} s, "
                    f"{cad / spent:,.0f}x)."
                )
            if (scenario, fast) == ("runaway-loop", True) and policy == "approve":
                met = alert is not None and alert <= 30
                verdict.append(
                    f"Goal (runaway loop, invocation logs, `approve`: the owning team alerted within 30 "
                    f"simulated seconds): **{'met' if met else 'NOT met'}** ({alert} s; contained at "
                    f"{contain} s with the on-call's {s['oncall_reaction_seconds']} s)."
                )
    return "\n".join(
        [
            "Each scenario of `tokenfuse demo` in the sandbox (the default story is runaway-loop, "
            "invocation logs, `approve`). Seconds are simulated, from the loop's start: to the owning "
            "team's alert, and to contained (on the invocation-log path the emulated runtime's first "
            "refusal, after the SCP's propagation; on the alarm path the guard SCP listing the profile). "
            "tokenfuse's own latency is the alert and the decision-to-contained columns; the on-call's "
            f"reaction time is the scripted click (`--oncall-seconds`, default {ONCALL_SECONDS}), a story "
            "parameter. The alarm needs 3 breaching one-minute periods, so 180 s is its floor. "
            f"Emulation latencies on the invocation-log path: {describe_latencies(latencies())}. Dollars "
            "are read back from the sandbox (the runtime's priced calls, CloudWatch metrics) and priced "
            "with `prices.json`; the counterfactuals carry the measured loop rate (x the same hours of "
            "the day before) on until Budgets (8 h) or CAD (24 h) would have caught it: projections, "
            "labelled as such. Wall seconds are the whole story (a simulated day and a half).",
            "",
            "| scenario | path | policy | to alert (s) | on-call (s) | decision to contained (s) "
            "| to contain (s) | spent before containment | Budgets-only (8 h, projected) "
            "| CAD-only (24 h, projected) | vs CAD | wall (s) |",
            "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            *rows,
            "",
            *verdict,
        ]
    )


# --------------------------------------------------------------------------------------------------
# A storm of signals
# --------------------------------------------------------------------------------------------------
STORM_PROFILES = 20
STORM_SIGNALS = 1_000
RE_ALERTS = 2


def _storm_profiles() -> list[Any]:
    from tokenfuse_sandbox.story.org import ACCOUNTS, REGIONS, TEAMS, ProfileSpec

    specs = []
    for i in range(STORM_PROFILES):
        account = ACCOUNTS[i % 2].account_id
        region = REGIONS[(i // 2) % 2]
        team = TEAMS[i % len(TEAMS)].name
        specs.append(
            ProfileSpec(
                key=f"storm-{i:02d}",
                name=f"storm-{i:02d}",
                account_id=account,
                region=region,
                model="anthropic.claude-3-5-haiku-20241022-v1:0",
                tags={"team": team, "environment": "prod"},
                requests_per_minute=10,
                input_per_request=1_000,
                output_per_request=300,
            )
        )
    return specs


def _alarm_event(profile: Any, changed_at: datetime) -> dict[str, Any]:
    """A "CloudWatch Alarm State Change" into ALARM for the profile's output-token alarm (the shape
    of events/alarm-eventbridge.json), as the member account's default bus receives it."""
    sample = json.loads((ROOT / "events" / "alarm-eventbridge.json").read_text())
    spec = profile.spec
    name = f"tokenfuse-{profile.profile_id}-output-tokens"
    detail = sample["detail"]
    detail["alarmName"] = name
    detail["configuration"]["metrics"][0]["metricStat"]["metric"]["dimensions"] = {
        "ModelId": profile.profile_id
    }
    stamp = changed_at.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    detail["state"]["timestamp"] = stamp
    return {
        "Source": "aws.cloudwatch",
        "DetailType": "CloudWatch Alarm State Change",
        "Detail": json.dumps(detail),
        "Resources": [f"arn:aws:cloudwatch:{spec.region}:{spec.account_id}:alarm:{name}"],
        "Time": changed_at,
        "EventBusName": "default",
    }


def storm() -> str:
    from tokenfuse_sandbox.story.driver import handler_output_to

    with tempfile.TemporaryDirectory() as tmp, handler_output_to(Path(tmp) / "handlers.log"):
        return _storm()


def _storm() -> str:
    from tokenfuse_sandbox.core import Sandbox
    from tokenfuse_sandbox.story import org as org_mod
    from tokenfuse_sandbox.story.scenarios import Scenario
    from tokenfuse_sandbox.story.traffic import Traffic

    start = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
    history_start = start.replace(hour=0) - timedelta(days=8)
    specs = _storm_profiles()
    settings = org_mod.sandbox_settings("notify")
    with Sandbox(clock_start=history_start - timedelta(hours=1), clock_mode="block", fire_schedules=False,
                 **settings) as sb:  # fmt: skip
        if sb.clock is None or sb.slack is None:
            raise RuntimeError("the storm needs the sandbox's clock and Slack server")
        clock, slack = sb.clock, sb.slack
        org, sessions = org_mod.seed(sb, specs)
        sb.drain()
        # The storm's signals are the only ones: the alarms the inventory armed are removed, so the
        # emulation's own evaluation raises none while the profiles storm.
        for account in org_mod.ACCOUNTS:
            for region in org_mod.REGIONS:
                cloudwatch = sessions.client("cloudwatch", account.account_id, region)
                names = [a["AlarmName"] for a in cloudwatch.describe_alarms()["MetricAlarms"]]
                if names:
                    cloudwatch.delete_alarms(AlarmNames=names)
        # every profile storms (x10 requests) from `start`: 20 real spikes
        traffic = Traffic(org, Scenario("storm", "", "", "", requests=10), start)
        traffic.looping = lambda profile, t: start <= t < start + timedelta(hours=1)  # type: ignore[method-assign]
        traffic.history(history_start, start)
        for minute in range(10):
            traffic.send(start + timedelta(minutes=minute), 60)
        clock.advance_to(start + timedelta(minutes=10))
        sb.drain()
        calls_before = len(slack.calls)
        invocations_before = len(sb.invocations)
        unique = [
            (p, start + timedelta(minutes=3 + k, seconds=2))
            for p in org.profiles.values()
            for k in range(1 + RE_ALERTS)
        ]
        signals = []
        for n in range(STORM_SIGNALS):
            profile, changed_at = unique[n % len(unique)]  # the first pass: originals and re-alerts
            signals.append((profile, changed_at))
        wall = time.perf_counter()
        cpu = time.process_time()
        for i in range(0, len(signals), 10):
            batch = signals[i : i + 10]
            by_source: dict[tuple[str, str], list[dict[str, Any]]] = {}
            for profile, changed_at in batch:
                key = (profile.spec.account_id, profile.spec.region)
                by_source.setdefault(key, []).append(_alarm_event(profile, changed_at))
            for (account_id, region), entries in by_source.items():
                sessions.client("events", account_id, region).put_events(Entries=entries)
            sb.delivery.step()
        sb.drain(timeout=600, max_rounds=100_000)
        wall = time.perf_counter() - wall
        cpu = time.process_time() - cpu
        from tokenfuse.adapters.incidents_table import IncidentsTable

        incidents = IncidentsTable(sb.resources["IncidentsTable"]).incidents()
        posts = [c for c in slack.calls[calls_before:] if c.method == "chat.postMessage" and c.ok]
        top = [c for c in posts if not c.thread_ts]
        updates = [c for c in slack.calls[calls_before:] if c.method == "chat.update" and c.ok]
        runs: dict[str, int] = {}
        for inv in sb.invocations[invocations_before:]:
            runs[inv.function] = runs.get(inv.function, 0) + 1
        failed = sum(1 for inv in sb.invocations[invocations_before:] if not inv.ok)
        signal_total = sum(i.signal_count for i in incidents)
    verdict = "met" if len(incidents) == STORM_PROFILES else "NOT met"
    return "\n".join(
        [
            f"{STORM_SIGNALS:,} token-rate alarm state changes for {STORM_PROFILES} profiles that all storm "
            f"(x10 requests; 2 member accounts x 2 regions, 5 profiles each), put on the member accounts' "
            f"default buses and forwarded to tokenfuse's bus, as EventBridge delivers them: per profile "
            f"{1 + RE_ALERTS} distinct state changes (the first alarm and {RE_ALERTS} re-alerts) and the "
            f"rest re-deliveries of those ({len(unique)} distinct signals, "
            f"{STORM_SIGNALS - len(unique)} duplicates). Policy `notify` (no remediation). Wall and CPU "
            "include moto and the sandbox's delivery (the whole path: intake, attribute, notify).",
            "",
            "| signals | distinct | real spikes | incidents opened | signals joined (sum of signal_count) "
            "| Slack posts | thread replies | message updates | handler runs | failed runs | wall (s) "
            "| signals/s |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|",
            f"| {STORM_SIGNALS:,} | {len(unique)} | {STORM_PROFILES} | {len(incidents)} | {signal_total} | "
            f"{len(top)} | {len(posts) - len(top)} | {len(updates)} | "
            f"{', '.join(f'{k} {v}' for k, v in sorted(runs.items()))} | {failed} | {wall:.1f} | "
            f"{STORM_SIGNALS / wall:.1f} |",
            "",
            f"Incidents opened = real spikes: **{verdict}** ({len(incidents)} of {STORM_PROFILES}). "
            f"CPU of the storm: {cpu:.1f} s.",
        ]
    )
