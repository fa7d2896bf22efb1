"""The demo's figures (issue 7), measured in the sandbox: time to contain and dollars saved, and a
storm of signals (the handlers' cold start is bench/coldstart.py).

- ``containment``: the runaway-loop story under ``--policy auto`` (and ``approve``, for comparison):
  simulated minutes from the loop's start to the deny being in force, dollars spent before it, and
  the CAD-only / Budgets-only counterfactuals. Goal: within 5 simulated minutes, >= 100x less
  than CAD-only.
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
def containment() -> str:
    from tokenfuse_sandbox.story.driver import run_demo
    from tokenfuse_sandbox.story.scenarios import SCENARIOS

    runs = [(name, "auto") for name in SCENARIOS] + [("runaway-loop", "approve")]
    rows = []
    verdict = []
    with tempfile.TemporaryDirectory() as tmp:
        for scenario, policy in runs:
            report = run_demo(
                scenario,
                policy=policy,
                out=None,
                chart_path=Path(tmp) / "c.html",
                log_path=Path(tmp) / "h.log",
            )
            s = report.summary
            spent = s["spent_before_containment_usd"] or 0.0
            cad, budgets = s["counterfactual_usd"]["cad"], s["counterfactual_usd"]["budgets"]
            rows.append(
                f"| {scenario} | {policy} | {s['minutes_to_contain']} | ${spent:,.2f} | ${budgets:,.2f} | "
                f"${cad:,.2f} | {budgets / spent:,.0f}x | {cad / spent:,.0f}x | {report.wall_seconds:.1f} |"
            )
            if (scenario, policy) == ("runaway-loop", "auto"):
                met = (s["minutes_to_contain"] or 99) <= 5 and cad >= 100 * spent
                verdict.append(
                    f"Goal (runaway loop, auto: contained within 5 simulated minutes, >= 100x less than "
                    f"CAD-only): **{'met' if met else 'NOT met'}** ({s['minutes_to_contain']} min, "
                    f"{cad / spent:,.0f}x)."
                )
    return "\n".join(
        [
            "Each scenario of `tokenfuse demo` in the sandbox. Minutes are simulated, from the loop's "
            "first minute to the guard SCP listing the profile (observed by the traffic generator); the "
            "alarm needs 3 breaching minutes, so 3.0 is the floor. Dollars are read back from the "
            "sandbox's CloudWatch metrics and priced with `prices.json`; the counterfactuals carry the "
            "measured loop rate (x the same hours of the day before) on until Budgets (8 h) or CAD (24 h) "
            "would have caught it: projections, labelled as such. `approve` includes the on-call's "
            "2 minutes. Wall seconds are the whole story (a simulated day and a half).",
            "",
            "| scenario | policy | minutes to contain | spent before containment "
            "| Budgets-only (8 h, projected) | CAD-only (24 h, projected) | vs Budgets | vs CAD | wall (s) |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|",
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
        traffic = Traffic(sessions, org, Scenario("storm", "", "", "", requests=10), start)
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
