"""The sandbox: tokenfuse's template, provisioned in moto, with its real handlers run in-process.

    with Sandbox("template.yaml") as sb:
        sb.publish("CostAnomalyTopic", message)
        sb.drain()
        sb.invocations, sb.bus_events

Emulations (what moto lacks) are named as such in each module: in-process Lambda (runtime.py),
event delivery (delivery.py), the Function URL endpoint (function_url.py), and the ones under
``emulation/`` (Bedrock inference profiles, the Bedrock runtime with its denies, metrics and
invocation logs, subscription-filter delivery, simulated clock, Slack server, alarm evaluation, the
Price List API).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import boto3

from tokenfuse_sandbox.clients import SandboxClients, sandbox_clients
from tokenfuse_sandbox.delivery import Delivery, fire_times
from tokenfuse_sandbox.emulation import moto_patches
from tokenfuse_sandbox.function_url import FunctionUrlServer
from tokenfuse_sandbox.provision import SANDBOX_PREFIX, Provisioner
from tokenfuse_sandbox.runtime import Invocation, Runtime
from tokenfuse_sandbox.stepfunctions import execution_path
from tokenfuse_sandbox.template import ACCOUNT_ID, REGION, Template, TemplateError

if TYPE_CHECKING:
    from moto.core.config import DefaultConfig
    from moto.core.models import MockAWS
    from moto.events.utils import EventMessageType
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef, PutEventsResultEntryTypeDef
    from mypy_boto3_sqs.type_defs import MessageTypeDef

    from tokenfuse_sandbox.emulation.alarms import AlarmEvaluator
    from tokenfuse_sandbox.emulation.clock import SimulatedClock
    from tokenfuse_sandbox.emulation.invocation_logs import SubscriptionDelivery
    from tokenfuse_sandbox.emulation.slack_server import SlackServer

LOG = logging.getLogger("tokenfuse.sandbox")

MOTO_CONFIG: DefaultConfig = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
}
_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
}

SLACK_SIGNING_SECRET = "sandbox-slack-signing-secret"  # noqa: S105 - the sandbox's fake Slack app

# Only one sandbox per process at a time: moto's patches and the process environment are global.
_ACTIVE = threading.Lock()


def find_template(path: str | Path | None) -> Path:
    if path is not None:
        return Path(path)
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / "template.yaml").is_file():
            return folder / "template.yaml"
    return Path(__file__).resolve().parents[2] / "template.yaml"


class Sandbox:
    """tokenfuse in moto. Use as a context manager; one at a time per process."""

    def __init__(
        self,
        template_path: str | Path | None = None,
        *,
        parameters: Mapping[str, Any] | None = None,
        secrets: Mapping[str, str] | None = None,
        account_id: str = ACCOUNT_ID,
        region: str = REGION,
        load_handlers: bool = True,
        function_urls: bool = True,
        emulations: bool = True,
        clock_start: datetime | None = None,
        clock_mode: Literal["advance", "block"] | None = "advance",
        slack_channels: Mapping[str, str] | None = None,
        fire_schedules: bool = True,
    ) -> None:
        self.template_path = find_template(template_path)
        self.parameters = dict(parameters or {})
        self.secret_values = dict(secrets or {})
        self.account_id = account_id
        self.region = region
        self.load_handlers = load_handlers
        self.function_urls = function_urls
        self.emulations = emulations
        self.clock_start = clock_start
        # "advance": a Wait state moves the simulated clock itself; "block": it waits for someone
        # to advance the clock; None: moto's Wait sleeps in real seconds.
        self.clock_mode = clock_mode
        # the emulations (None with emulations=False)
        self.clock: SimulatedClock | None = None
        self.alarms: AlarmEvaluator | None = None  # evaluating as the clock moves
        self.log_delivery: SubscriptionDelivery | None = None  # subscription filters, on the clock
        self.slack: SlackServer | None = None  # on loopback
        self.slack_channels = dict(slack_channels or {})
        # schedules fire (on the next drain) when the simulated clock passes their fire times
        self.fire_schedules = fire_schedules
        self._clients: SandboxClients | None = None  # created once moto is active
        self.url_servers: dict[str, FunctionUrlServer] = {}
        self.runtime = Runtime()
        self.delivery = Delivery(self)
        self._undo: list[Callable[[], None]] = []
        self._saved_env: dict[str, str] | None = None
        self._mock: MockAWS | None = None
        self._patches = moto_patches.MotoPatches()  # the sandbox's own changes inside moto
        self._recorders: list[tuple[str, str]] = []  # (bus name, recorder queue url)
        self._bus_events: list[dict[str, Any]] = []
        self.custom_resources: dict[str, dict[str, Any]] = {}
        """Logical id -> the response each custom resource sent to its Create request."""

    # -- lifecycle -----------------------------------------------------------------------------
    def __enter__(self) -> Sandbox:
        moto_patches.require_pinned_moto()
        if not _ACTIVE.acquire(blocking=False):
            raise RuntimeError("a Sandbox is already running in this process")
        try:
            self._start()
        except BaseException:
            self._stop()
            _ACTIVE.release()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._stop()
        finally:
            _ACTIVE.release()

    def _start(self) -> None:
        from moto import mock_aws

        self._saved_env = dict(os.environ)
        os.environ.update(_ENV)
        os.environ["AWS_DEFAULT_REGION"] = os.environ["AWS_REGION"] = self.region
        os.environ["MOTO_ACCOUNT_ID"] = self.account_id
        for key in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ENDPOINT_URL"):
            os.environ.pop(key, None)
        self._mock = mock_aws(config=MOTO_CONFIG)
        self._mock.start()
        self._reset_domain_session()
        self._install_emulations()
        self._patch_moto()
        self._clients = sandbox_clients(boto3.Session(region_name=self.region))
        self.template = Template(self.template_path, self.parameters, self.account_id, self.region)
        self.provisioner = Provisioner(self.template, self.clients, self.secret_values)
        if self.function_urls:
            self.provisioner.url_factory = self._start_url_server
        self.provisioner.provision()
        for spec in self.provisioner.functions.values():
            self.runtime.register(spec)
        self._add_recorders()
        if self.load_handlers:
            for lid in self.runtime.functions:
                self.runtime.load(lid)
            from tokenfuse_sandbox.custom_resources import create_all

            self.custom_resources = create_all(self.provisioner, self.runtime)
        if self.clock is not None and self.fire_schedules:
            for sched in self.provisioner.wiring.schedules:  # unsupported expressions fail now
                fire_times(sched["expression"], self.clock.now(), self.clock.now())
            self._undo.append(self.clock.add_listener(self.delivery.on_clock))

    def _stop(self) -> None:
        for server in self.url_servers.values():
            with contextlib.suppress(Exception):  # best effort at shutdown
                server.stop()
        self.url_servers.clear()
        self._stop_executions()
        # let an invocation in flight (an execution's thread) finish first, within reason
        locked = self.runtime.lock.acquire(timeout=10)
        self.runtime.closed = True
        if locked:
            self.runtime.lock.release()
        for undo in reversed(self._undo):
            try:
                undo()
            except Exception:
                LOG.exception("sandbox: undoing a patch failed")
        self._undo.clear()
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        self._reset_domain_session()
        if self._saved_env is not None:
            os.environ.clear()
            os.environ.update(self._saved_env)
            self._saved_env = None

    def _stop_executions(self) -> None:
        if self._clients is None:
            return
        try:
            sfn = self.clients["stepfunctions"]
            for lid in self.template.of_type("AWS::Serverless::StateMachine"):
                arn = self.provisioner.physicals[lid].ref
                for ex in sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING").get(
                    "executions", []
                ):
                    sfn.stop_execution(executionArn=ex["executionArn"], cause="sandbox stopped")
        except Exception:  # noqa: S110 - best effort at shutdown
            pass

    @staticmethod
    def _reset_domain_session() -> None:
        """Every sandbox is a fresh deployment, so every function cold-starts: every function's
        composition root (tokenfuse.composition) and the domain package's other module-level
        caches (boto3 session, settings, secrets...) are cleared; the handlers' own modules are
        imported anew by the runtime."""
        from tokenfuse import composition

        composition.reset()
        for name, module in list(sys.modules.items()):
            if module is None or not (name == "tokenfuse" or name.startswith("tokenfuse.")):
                continue
            for value in list(vars(module).values()):
                if isinstance(value, type):  # a class's cache_clear is not a cache (composition.Root)
                    continue
                clear = getattr(value, "cache_clear", None)
                if callable(clear) and getattr(value, "__module__", None) == name:
                    clear()
        # Powertools' parameter and secret cache is process-wide: a team directory or a secret of an
        # earlier sandbox must not leak into this one.
        from aws_lambda_powertools.utilities import parameters

        parameters.clear_caches()  # type: ignore[no-untyped-call]  # Powertools leaves it unannotated

    # -- emulations ----------------------------------------------------------------------------
    def _install_emulations(self) -> None:
        """The emulations under ``emulation/``: Bedrock inference profiles, the Bedrock runtime
        (denies, metrics, invocation logs), tokenfuse's Metrics Insights queries and the Price List
        in moto, the simulated clock (tokenfuse.clock, Step Functions waits), subscription-filter delivery and
        alarm evaluation on it, and the Slack server."""
        if not self.emulations:
            return
        from tokenfuse_sandbox.emulation import (
            bedrock_profiles,
            bedrock_runtime,
            metrics_insights,
            price_list,
        )
        from tokenfuse_sandbox.emulation.alarms import AlarmEvaluator
        from tokenfuse_sandbox.emulation.clock import SimulatedClock
        from tokenfuse_sandbox.emulation.invocation_logs import SubscriptionDelivery
        from tokenfuse_sandbox.emulation.slack_server import SlackServer

        for emulation in (bedrock_profiles, bedrock_runtime, metrics_insights, price_list):
            if not emulation.installed():
                emulation.install()
                self._undo.append(emulation.uninstall)
        clock = SimulatedClock(self.clock_start) if self.clock_start else SimulatedClock()
        stack = contextlib.ExitStack()
        stack.enter_context(clock.use_for_tokenfuse())
        if self.clock_mode:
            stack.enter_context(clock.patch_stepfunctions(mode=self.clock_mode))
        self._undo.append(stack.close)
        self.clock = clock
        self.alarms = AlarmEvaluator(clock)
        self._undo.append(self.alarms.attach(clock))
        self.log_delivery = SubscriptionDelivery()
        self._undo.append(self.log_delivery.attach(clock))
        self.slack = SlackServer(channels=self.slack_channels).start()
        self._undo.append(self.slack.stop)
        # emulation-only setting (not in the template): the handlers' Slack clients go to loopback
        self.runtime.base_env["SLACK_API_BASE_URL"] = self.slack.base_url
        self.secret_values.setdefault("SlackBotTokenSecret", self.slack.token)
        self.secret_values.setdefault("SlackSigningSecret", SLACK_SIGNING_SECRET)

    def now(self) -> datetime:
        if self.clock is not None:
            return self.clock.now()
        return datetime.now(UTC)

    def enable_cross_account(self) -> None:
        """Emulation: STS role sessions land in their role's account inside the sandbox.

        The sandbox pins every call to its account with ``MOTO_ACCOUNT_ID``, which moto honours before
        the caller's credentials, so an assumed member role would act in the sandbox's account. Here
        the sandbox's static access key is registered as a key of the sandbox's account instead, and
        the pin is lifted: default credentials still resolve to the sandbox's account, assumed-role
        keys to the account of their role (moto's own mapping). The environment is put back when the
        sandbox stops."""
        from moto.iam.models import AccessKey, iam_backends

        backend = iam_backends[self.account_id]["aws"]
        # moto reads the key id from the Authorization header only when it looks like a real one
        # (20 characters); any other key (the sandbox's fake ones) is reported as "AKIAEXAMPLE".
        for key_id in {os.environ.get("AWS_ACCESS_KEY_ID", "testing"), "AKIAEXAMPLE"}:
            if key_id not in backend.access_keys:
                # moto's own constructor call; mypy sees CloudFormationModel's abstract is_created
                key = AccessKey(None, prefix="AKIA", account_id=self.account_id)  # type: ignore[abstract]
                key.access_key_id = key_id
                backend.access_keys[key_id] = key
        os.environ.pop("MOTO_ACCOUNT_ID", None)

    @property
    def clients(self) -> SandboxClients:
        """The sandbox's boto3 clients (while it runs)."""
        if self._clients is None:
            raise RuntimeError("the sandbox is not running")
        return self._clients

    def _patch_moto(self) -> None:
        """The sandbox's own changes inside moto (:mod:`.emulation.moto_patches`), undone at stop."""
        self._undo.append(self._patches.restore)
        moto_patches.keep_action_names(self._patches)
        moto_patches.keep_parsed_templates(self._patches)
        moto_patches.route_lambda_invoke(self._patches, self._invoke_in_process)
        moto_patches.cross_account_put_events(self._patches)
        moto_patches.record_put_events(self._patches, self._record_bus_events)
        moto_patches.fix_eventbridge(self._patches)
        moto_patches.sns_timestamps_on(self._patches, self.now)
        moto_patches.retry_on_clock(self._patches, self.clock)

    def _invoke_in_process(
        self, function_name: str, event: Any, kind: str | None
    ) -> moto_patches.LambdaReply | None:
        """``lambda.Invoke`` of one of the template's functions (None: not one of them)."""
        lid = self.runtime.logical_id(function_name)
        if lid is None:
            return None
        if kind == "Event":
            self.delivery.async_queue.append((lid, event, "lambda:Invoke(Event)"))
            return b"", False
        if kind == "DryRun":
            return b"", False
        inv = self.runtime.invoke(lid, event, trigger="lambda:Invoke")
        if not inv.ok:
            err = inv.error or {}
            payload = {
                "errorType": err.get("errorType"),
                "errorMessage": err.get("errorMessage"),
                "stackTrace": err.get("stackTrace", []),
            }
            return json.dumps(payload).encode(), True
        return json.dumps(inv.result, default=str).encode(), False

    def _record_bus_events(self, events: list[dict[str, Any]], entries: list[dict[str, Any]]) -> None:
        """What the invocation in progress put on a bus (its record's ``bus_events``)."""
        current = self.runtime.current
        if current is None:
            return
        for event, entry in zip(events, entries, strict=False):
            if "EventId" in entry:
                current.bus_events.append(_entry_summary(event, entry["EventId"]))

    def _start_url_server(self, logical_id: str) -> str:
        def handle(event: dict[str, Any]) -> tuple[bool, Any]:
            inv = self.runtime.invoke(logical_id, event, trigger="function-url")
            return inv.ok, inv.result

        server = FunctionUrlServer(logical_id, handle).start()
        self.url_servers[logical_id] = server
        return server.url

    def _add_recorders(self) -> None:
        events = self.clients["events"]
        sqs = self.clients["sqs"]
        for lid in self.template.of_type("AWS::Events::EventBus"):
            bus = self.provisioner.physicals[lid].ref
            name = f"{SANDBOX_PREFIX}-recorder-{lid}"[:64]
            url = sqs.create_queue(QueueName=name)["QueueUrl"]
            arn = f"arn:aws:sqs:{self.region}:{self.account_id}:{name}"
            events.put_rule(
                Name=name, EventBusName=bus, EventPattern=json.dumps({"source": [{"prefix": ""}]})
            )
            events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "recorder", "Arn": arn}])
            self._recorders.append((bus, url))

    # -- resources -----------------------------------------------------------------------------
    @property
    def resources(self) -> dict[str, Any]:
        """Logical id -> physical id (what !Ref gives)."""
        return {lid: p.ref for lid, p in self.provisioner.physicals.items()}

    def attr(self, logical_id: str, name: str) -> Any:
        return self.provisioner.physicals[logical_id].attrs[name]

    def queue_url(self, queue: str) -> str:
        """A queue's URL from its logical id, ARN, name or URL."""
        for p in self.provisioner.physicals.values():
            if p.type == "AWS::SQS::Queue" and queue in (
                p.logical_id,
                p.ref,
                p.attrs["Arn"],
                p.attrs["QueueName"],
            ):
                return str(p.ref)
        if queue.startswith("https://"):
            return queue
        name = queue.rsplit(":", 1)[-1]
        return str(self.clients["sqs"].get_queue_url(QueueName=name)["QueueUrl"])

    def function_url(self, logical_id: str) -> str:
        if logical_id not in self.url_servers:
            raise KeyError(f"{logical_id} has no Function URL in the template")
        return self.url_servers[logical_id].url

    @property
    def invocations(self) -> list[Invocation]:
        return self.runtime.invocations

    @property
    def bus_events(self) -> list[dict[str, Any]]:
        """Every event that went on tokenfuse's bus(es), in order, as EventBridge delivered it."""
        sqs = self.clients["sqs"]
        for bus, url in self._recorders:
            while self.delivery.has_messages(url):
                got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
                if not got:
                    break
                for m in got:
                    event = json.loads(m["Body"])
                    event.pop("ingestion-time", None)
                    self._bus_events.append({"bus": bus, **event})
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return list(self._bus_events)

    def queue_messages(self, queue: str, delete: bool = False) -> list[MessageTypeDef]:
        """Every message waiting in a queue (by logical id, name, ARN or URL), without consuming it."""
        sqs = self.clients["sqs"]
        url = self.queue_url(queue)
        out: list[MessageTypeDef] = []
        handles: list[str] = []
        while True:
            got = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30, AttributeNames=["All"]
            ).get("Messages", [])
            if not got:
                break
            out.extend(got)
            handles.extend(m["ReceiptHandle"] for m in got)
        for handle in handles:
            if delete:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=handle)
            else:
                sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
        return out

    # -- sending things in ---------------------------------------------------------------------
    def invoke(self, logical_id: str, event: Any = None, raise_errors: bool = False) -> Invocation:
        """Invoke one function directly (RequestResponse); no delivery is pumped."""
        return self.runtime.invoke(logical_id, {} if event is None else event, raise_errors=raise_errors)

    def publish(
        self,
        topic: str,
        message: str | Mapping[str, Any],
        subject: str | None = None,
        attributes: Mapping[str, str] | None = None,
    ) -> str:
        """Publish to a topic (logical id or ARN), as CAD / Budgets / CloudWatch would."""
        arn = self.resources.get(topic, topic)
        kwargs: dict[str, Any] = {
            "TopicArn": arn,
            "Message": message if isinstance(message, str) else json.dumps(message),
        }
        if subject:
            kwargs["Subject"] = subject
        if attributes:
            kwargs["MessageAttributes"] = {
                k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()
            }
        return str(self.clients["sns"].publish(**kwargs)["MessageId"])

    def put_events(
        self, entries: Iterable[Mapping[str, Any]], bus: str | None = None
    ) -> list[PutEventsResultEntryTypeDef]:
        """Put events (PutEvents entries, or whole EventBridge events) on a bus (default: 'default')."""
        out: list[PutEventsResultEntryTypeDef] = []
        batch: list[PutEventsRequestEntryTypeDef] = []
        for entry in entries:
            item = _to_entry(entry)
            target = bus or item.get("EventBusName") or "default"
            item["EventBusName"] = self.resources.get(target, target)
            batch.append(item)
        for start in range(0, len(batch), 10):
            resp = self.clients["events"].put_events(Entries=batch[start : start + 10])
            if resp.get("FailedEntryCount"):
                raise RuntimeError(f"put_events refused: {resp['Entries']}")
            out.extend(resp["Entries"])
        return out

    def send_to_queue(self, queue: str, body: str | Mapping[str, Any], **kwargs: Any) -> str:
        text = body if isinstance(body, str) else json.dumps(body)
        return str(
            self.clients["sqs"].send_message(QueueUrl=self.queue_url(queue), MessageBody=text, **kwargs)[
                "MessageId"
            ]
        )

    @property
    def schedules(self) -> list[dict[str, Any]]:
        return self.provisioner.wiring.schedules

    def fire_schedule(self, logical_id: str, event_name: str | None = None) -> list[Invocation]:
        """Fire a function's Schedule / ScheduleV2 event now (as the scheduler would)."""
        for sched in self.provisioner.wiring.schedules:
            if sched["function"] == logical_id and event_name in (None, sched["event"]):
                return self.delivery.fire_schedule(sched)
        raise KeyError(f"{logical_id} has no schedule event {event_name or ''}".strip())

    def start_execution(self, logical_id: str, payload: Any, name: str | None = None) -> str:
        arn = self.resources[logical_id]
        return str(
            self.clients["stepfunctions"].start_execution(
                stateMachineArn=arn,
                name=name or f"sandbox-{uuid.uuid4().hex[:12]}",
                input=json.dumps(payload),
            )["executionArn"]
        )

    def wait_execution(self, execution_arn: str, timeout: float = 30.0) -> dict[str, Any]:
        """Wait (real seconds, pumping delivery) until an execution leaves RUNNING."""
        sfn = self.clients["stepfunctions"]
        deadline = time.monotonic() + timeout
        while True:
            try:
                desc = sfn.describe_execution(executionArn=execution_arn)
            except sfn.exceptions.ExecutionDoesNotExist:
                # DescribeExecution is eventually consistent (AWS says so); moto's in-process
                # backend, on a loaded machine, has been seen to miss a just-started execution too.
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
                continue
            if desc["status"] != "RUNNING":
                return dict(desc)
            if time.monotonic() > deadline:
                raise TimeoutError(f"{execution_arn} still RUNNING after {timeout}s")
            self.delivery.step()
            time.sleep(0.02)

    def state_machine_arns(self) -> list[str]:
        """The ARNs of the template's state machines (the enabled ones)."""
        kinds = ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine")
        return [self.resources[lid] for lid in self.template.of_type(*kinds)]

    def executions(self) -> dict[str, str]:
        """Every execution of the template's state machines: ARN -> status."""
        sfn = self.clients["stepfunctions"]
        out: dict[str, str] = {}
        for arn in self.state_machine_arns():
            pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=arn)
            out.update((ex["executionArn"], ex["status"]) for page in pages for ex in page["executions"])
        return out

    def execution_path(self, execution_arn: str) -> list[str]:
        """The states an execution entered, in order."""
        return execution_path(self.clients["stepfunctions"], execution_arn)

    def matching_rules(self, event: Mapping[str, Any], bus: str = "default") -> list[str]:
        """Names of the rules on ``bus`` whose pattern matches ``event`` (an EventBridge event as
        delivered), by moto's own pattern matcher (with the sandbox's array fix). Sandbox-owned
        recorder rules are left out."""
        from moto.events.models import events_backends

        name = self.resources.get(bus, bus)
        backend = events_backends[self.account_id][self.region]
        rules = backend.describe_event_bus(name).rules.values()
        # an event as delivered, of any shape: moto's matcher reads the fields a pattern names
        full = cast(
            "EventMessageType",
            {
                "version": "0",
                "id": str(uuid.uuid4()),
                "account": self.account_id,
                "region": self.region,
                "time": "2026-01-01T00:00:00Z",
                "resources": [],
                "detail": {},
                **dict(event),
            },
        )
        return [r.name for r in rules if "-recorder-" not in r.name and r.event_pattern.matches_event(full)]

    def unmatched_rules(self, events: Iterable[Mapping[str, Any]]) -> list[str]:
        """The template's rules (its AWS::Events::Rule resources and its functions' EventBridgeRule
        events) that none of ``events`` matches, on the bus each rule lives on."""
        events = list(events)
        rules = [(r["bus"], r["name"]) for r in self.provisioner.wiring.template_rules.values()]
        rules += [(r["bus"], r["rule"]) for r in self.provisioner.wiring.rules]
        matched: set[tuple[str, str]] = set()
        for bus in {b for b, _ in rules}:
            for event in events:
                matched.update((bus, name) for name in self.matching_rules(event, bus))
        return [name for bus, name in rules if (bus, name) not in matched]

    def drain(self, max_rounds: int = 500, timeout: float = 60.0) -> int:
        """Deliver until every queue wired to a function is empty and no execution is doing work."""
        return self.delivery.drain(max_rounds=max_rounds, timeout=timeout)


def _entry_summary(event: Mapping[str, Any], event_id: str) -> dict[str, Any]:
    try:
        detail = json.loads(event.get("Detail") or "null")
    except ValueError:
        detail = event.get("Detail")
    return {
        "id": event_id,
        "bus": event.get("EventBusName") or "default",
        "source": event.get("Source"),
        "detail-type": event.get("DetailType"),
        "detail": detail,
    }


def _to_entry(entry: Mapping[str, Any]) -> PutEventsRequestEntryTypeDef:
    """A PutEvents entry from either an entry or an EventBridge event as delivered."""
    if "Source" in entry or "DetailType" in entry:
        # already an entry, as the caller wrote it (a wrong field is EventBridge's to refuse)
        return cast("PutEventsRequestEntryTypeDef", dict(entry))
    item: PutEventsRequestEntryTypeDef = {
        "Source": str(entry["source"]),
        "DetailType": str(entry["detail-type"]),
        "Detail": json.dumps(entry.get("detail", {})),
    }
    if entry.get("resources"):
        item["Resources"] = list(entry["resources"])
    if entry.get("time"):
        with contextlib.suppress(ValueError):
            item["Time"] = datetime.fromisoformat(str(entry["time"]).replace("Z", "+00:00"))
    return item


__all__ = ["Sandbox", "TemplateError"]
