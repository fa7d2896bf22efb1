"""`tokenfuse demo`: the runaway-loop story in the sandbox (issue 7: ``tokenfuse_sandbox.story``),
or with ``--samples`` every sample in `events/` through the sandbox's real wiring, and where it went.

The samples mode (issue 2): SNS samples (`Records[].Sns`) are published to the topic they belong to,
EventBridge samples are put on the default bus (where AWS raises them; a template rule forwards
them to tokenfuse's bus). The sandbox drains after each sample and the table shows the path:
queue -> function -> events it put on the bus -> the functions those reached -> dead letters.
Errors are shown as they are. No AWS account, no network."""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from tokenfuse_sandbox.core import Sandbox
    from tokenfuse_sandbox.emulation.slack_server import SlackCall

SAMPLES_CLOCK = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)
"""The simulated now the samples run at: the afternoon of the samples' own day (their latest window
ends before it, the oldest starts within the 400 days the plausibility checks allow), the receipt
the signal tests read them at. On the wall clock, samples with fixed dates would age out of those
checks; on this clock they give the same result in any year."""


def samples_sandbox(template: Path | None, **options: Any) -> Sandbox:
    """A sandbox whose simulated clock starts at :data:`SAMPLES_CLOCK` (``options`` as
    :class:`~tokenfuse_sandbox.Sandbox` takes them): where :func:`run_samples` runs."""
    from tokenfuse_sandbox import Sandbox

    return Sandbox(template, clock_start=SAMPLES_CLOCK, **options)


# Which topic an SNS sample belongs to, by its file name (then by the topic name in the sample).
_TOPICS = {"cad": "CostAnomalyTopic", "budget": "BudgetsTopic", "alarm": "TokenRateAlarmTopic"}


def classify(name: str, sample: Any) -> tuple[str, str | None]:  # noqa: PLR0911
    """How a sample enters: ('sns', topic logical id) | ('events', 'default' or 'TokenfuseBus') |
    ('sqs', queue name) | ('schedule', file-name prefix) | ('lambda', function logical id) |
    ('unknown', None)."""
    records = sample.get("Records") if isinstance(sample, dict) else None
    if isinstance(records, list) and records and isinstance(records[0], dict):
        first = records[0]
        if "Sns" in first:
            for prefix, topic in _TOPICS.items():
                if name.startswith(prefix):
                    return "sns", topic
            arn = str(first["Sns"].get("TopicArn", "")).lower()
            for key, topic in (
                ("anomaly", "CostAnomalyTopic"),
                ("budget", "BudgetsTopic"),
                ("alarm", "TokenRateAlarmTopic"),
            ):
                if key in arn:
                    return "sns", topic
            return "unknown", None
        if first.get("eventSource") == "aws:sqs":
            return "sqs", str(first.get("eventSourceARN", "")).rsplit(":", 1)[-1]
    if isinstance(sample, dict) and "detail-type" in sample and "source" in sample:
        # tokenfuse's own events (the meters' spend rates) are put on tokenfuse's bus directly
        return "events", "TokenfuseBus" if str(sample["source"]).startswith("tokenfuse.") else "default"
    if isinstance(sample, dict) and isinstance(sample.get("awslogs"), dict):
        return "lambda", "MeterFunction"  # a CloudWatch Logs subscription delivery
    if "schedule" in name:
        return "schedule", name.split("-", 1)[0]
    return "unknown", None


def _sns_attributes(attrs: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in (attrs or {}).items():
        kind = value.get("Type", "String")
        field = "BinaryValue" if kind == "Binary" else "StringValue"
        out[key] = {"DataType": kind, field: value.get("Value")}
    return out


def _send(sb: Sandbox, kind: str, target: str | None, sample: dict[str, Any]) -> str:
    if kind == "sqs":
        assert target is not None
        for record in sample["Records"]:
            sb.send_to_queue(target, record["body"])
        return f"sqs:{target}"
    if kind == "schedule":
        fired = [s for s in sb.schedules if s["function"].lower().startswith(str(target).lower())]
        if not fired:
            raise LookupError(f"no schedule in the template for a function named {target}*")
        for sched in fired:
            sb.fire_schedule(sched["function"], sched["event"])
        return "schedule:" + ", ".join(
            f"{s['function']}.{s['event']} (input from the template)" for s in fired
        )
    if kind == "sns":
        assert target is not None
        for record in sample["Records"]:
            sns = record["Sns"]
            kwargs: dict[str, Any] = {"TopicArn": sb.resources[target], "Message": sns["Message"]}
            if sns.get("Subject"):
                kwargs["Subject"] = sns["Subject"]
            if sns.get("MessageAttributes"):
                kwargs["MessageAttributes"] = _sns_attributes(sns["MessageAttributes"])
            sb.clients["sns"].publish(**kwargs)
        return f"sns:{target}"
    if kind == "lambda":
        assert target is not None
        sb.clients["lambda"].invoke(
            FunctionName=sb.resources[target], InvocationType="Event", Payload=json.dumps(sample).encode()
        )
        return f"lambda:{target} (asynchronous, as CloudWatch Logs delivers)"
    bus = target or "default"
    sb.put_events([sample], bus=bus)
    return f"events:{bus} ({sample['source']} / {sample['detail-type']})"


def _dead_letter_counts(sb: Sandbox) -> dict[str, int]:
    wired = {m["queue_url"] for m in sb.provisioner.wiring.sqs}
    counts = {}
    for lid, phys in sb.provisioner.physicals.items():
        if phys.type == "AWS::SQS::Queue" and phys.ref not in wired:
            attrs = sb.clients["sqs"].get_queue_attributes(
                QueueUrl=phys.ref,
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            counts[lid] = int(attrs["ApproximateNumberOfMessages"]) + int(
                attrs["ApproximateNumberOfMessagesNotVisible"]
            )
    return counts


def _slack_calls(sb: Sandbox) -> list[SlackCall]:
    return list(sb.slack.calls) if sb.slack is not None else []


def run_samples(sb: Sandbox, files: list[Path]) -> list[dict[str, Any]]:
    """Each sample through ``sb`` (made by :func:`samples_sandbox`: its clock at the samples' time)."""
    results: list[dict[str, Any]] = []
    for file in files:
        try:
            sample = json.loads(file.read_text())
        except json.JSONDecodeError as bad_json:
            results.append({"file": file.name, "sent_to": None, "error": f"not JSON: {bad_json}"})
            continue
        kind, target = classify(file.name, sample)
        if kind == "unknown":
            results.append({"file": file.name, "sent_to": None, "error": "not an SNS or EventBridge sample"})
            continue
        inv_before = len(sb.invocations)
        bus_before = len(sb.bus_events)
        dl_before = _dead_letter_counts(sb)
        ex_before = sb.executions()
        slack_before = len(_slack_calls(sb))
        error: str | None = None
        try:
            if kind == "sqs" and target not in {
                p.attrs.get("QueueName") for p in sb.provisioner.physicals.values()
            }:
                raise LookupError(f"queue {target} is not in the template")
            sent_to = _send(sb, kind, target, sample)
            sb.drain(timeout=30)
        except Exception as exc:
            sent_to = f"{kind}:{target}"
            error = f"{type(exc).__name__}: {exc}"
        dl_after = _dead_letter_counts(sb)
        executions = [
            {"execution": arn.rsplit(":", 1)[-1], "status": status, "path": sb.execution_path(arn)}
            for arn, status in sb.executions().items()
            if arn not in ex_before
        ]
        slack = [
            {
                "method": c.method,
                "channel": c.channel,
                "ok": c.ok,
                "error": c.error,
                "thread_ts": c.thread_ts,
                "text": c.text,
            }
            for c in _slack_calls(sb)[slack_before:]
            if c.method.startswith("chat.")
        ]
        results.append(
            {
                "file": file.name,
                "sent_to": sent_to,
                "invocations": [i.to_json() for i in sb.invocations[inv_before:]],
                "bus_events": sb.bus_events[bus_before:],
                "executions": executions,
                "slack": slack,
                "dead_letters": {
                    k: v - dl_before.get(k, 0) for k, v in dl_after.items() if v != dl_before.get(k, 0)
                },
                "error": error,
            }
        )
    return results


def render(results: list[dict[str, Any]]) -> str:
    lines = []
    for r in results:
        lines.append(f"{r['file']}")
        if r.get("sent_to") is None:
            lines.append(f"    skipped: {r.get('error')}")
            lines.append("")
            continue
        lines.append(f"    sent to   {r['sent_to']}")
        for inv in r["invocations"]:
            status = (
                "ok"
                if inv["error"] is None
                else f"ERROR {inv['error']['errorType']}: {inv['error']['errorMessage']}"
            )
            lines.append(f"    {inv['function']:<18} via {inv['trigger']:<52} {status[:160]}")
            for ev in inv["bus_events"]:
                lines.append(f"        -> bus {ev['bus']}: {ev['source']} / {ev['detail-type']}")
            if (
                inv["error"] is None
                and isinstance(inv["result"], dict)
                and inv["result"].get("batchItemFailures")
            ):
                lines.append(f"        batch item failures: {len(inv['result']['batchItemFailures'])}")
        if not r["invocations"]:
            lines.append("    (reached no function)")
        for ex in r.get("executions", []):
            lines.append(f"    remediation {ex['execution']}: {ex['status']}  {' > '.join(ex['path'])}")
        for call in r.get("slack", []):
            where = f"{call['channel']}" + (" (thread)" if call["thread_ts"] else "")
            status = "ok" if call["ok"] else f"ERROR {call['error']}"
            text = (call["text"] or "").replace("\n", " ")[:90]
            lines.append(f"    slack {call['method']} {where}: {status}  {text}")
        for queue, n in r["dead_letters"].items():
            lines.append(f"    dead letters: {queue} +{n}")
        if r.get("error"):
            lines.append(f"    sandbox error: {r['error']}")
        lines.append("")
    return "\n".join(lines)


def run_samples_command(events_dir: Path | None, template: Path | None, json_path: Path | None) -> None:
    """Send every sample in events/ through the sandbox and show where each went."""
    from tokenfuse_cli.local import stdout_to_stderr
    from tokenfuse_sandbox import TemplateError
    from tokenfuse_sandbox.core import find_template

    if events_dir is None:
        events_dir = find_template(template).parent / "events"

    files = sorted(p for p in events_dir.glob("*.json") if p.is_file())
    if not files:
        typer.echo(f"error: no samples in {events_dir}/", err=True)
        raise typer.Exit(2)
    started = time.monotonic()
    with stdout_to_stderr() as out:  # handlers log to stdout; the table is the only thing on stdout
        try:
            with samples_sandbox(template) as sb:
                results = run_samples(sb, files)
        except TemplateError as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(2) from error
        out.write(f"tokenfuse demo: {len(files)} samples through the sandbox (no AWS account)\n\n")
        out.write(render(results))
        out.write(f"done in {time.monotonic() - started:.1f}s\n")
    if json_path is not None:
        json_path.write_text(json.dumps({"samples": results}, indent=2, default=str) + "\n")
        typer.echo(f"wrote {json_path}", err=True)
    sys.stdout.flush()


def _choice(value: str, allowed: tuple[str, ...], option: str) -> str:
    if value not in allowed:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(allowed)}", param_hint=option)
    return value


def demo(  # noqa: PLR0917 - the command's options
    scenario: Annotated[
        str,
        typer.Option(
            "--scenario", help="runaway-loop | context-bloat | retry-storm | untagged-spend (FinOps decides)."
        ),
    ] = "runaway-loop",
    decision: Annotated[
        str,
        typer.Option(
            "--decision",
            help="What the on-call answers: approve | decline | snooze | timeout (nobody answers: the "
            "approval times out after 5 simulated minutes).",
        ),
    ] = "approve",
    policy: Annotated[
        str, typer.Option("--policy", help="Every team's policy mode: approve | auto | notify.")
    ] = "approve",
    oncall_seconds: Annotated[
        int,
        typer.Option(
            "--oncall-seconds",
            min=0,
            help="How long the on-call takes to click after the card is posted (simulated seconds): the "
            "person's reaction time, not tokenfuse's.",
        ),
    ] = 30,
    json_path: Annotated[
        Path | None,
        typer.Option(
            "--json", help="Write the report as JSON (incidents, messages, remediations, timeline, summary)."
        ),
    ] = None,
    chart: Annotated[
        Path | None,
        typer.Option("--chart", help="The spend-rate chart (HTML); default demo-output/<scenario>.html."),
    ] = None,
    samples: Annotated[
        bool,
        typer.Option(
            "--samples", help="Instead of the story: send every sample in events/ through the sandbox."
        ),
    ] = False,
    events_dir: Annotated[
        Path | None,
        typer.Option(
            "--events",
            help="Folder of sample events (implies --samples; default: events/ beside the template).",
        ),
    ] = None,
    template: Annotated[
        Path | None, typer.Option("--template", "-t", help="SAM template (default: ./template.yaml).")
    ] = None,
    invocation_logs: Annotated[
        bool,
        typer.Option(
            "--invocation-logs/--no-invocation-logs",
            help="The sub-minute path: model invocation logs priced per request by the member stacks' "
            "meters (default); --no-invocation-logs tells the story on the token-rate alarms alone.",
        ),
    ] = True,
) -> None:
    """Tell the runaway-loop story in the local sandbox (no AWS account): a week of traffic, an agent
    loop, the meter's spend-rate signal from invocation logs (or the alarm), the owning team's alert,
    a signed Slack approval, the trip, CAD and Budgets
    hours later, the restore; then what it cost against CAD-only and Budgets-only."""
    if samples or events_dir is not None:
        run_samples_command(events_dir, template, json_path)
        return
    from tokenfuse_sandbox import TemplateError
    from tokenfuse_sandbox.story.driver import run_demo
    from tokenfuse_sandbox.story.scenarios import DECISIONS, POLICIES, SCENARIOS

    _choice(scenario, tuple(SCENARIOS), "--scenario")
    _choice(decision, DECISIONS, "--decision")
    _choice(policy, POLICIES, "--policy")
    try:
        report = run_demo(
            scenario, decision, policy, json_path=json_path, chart_path=chart, template=template,
            invocation_logs=invocation_logs, oncall_seconds=oncall_seconds,
        )  # fmt: skip
    except TemplateError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    if report.problems:
        raise typer.Exit(1)
