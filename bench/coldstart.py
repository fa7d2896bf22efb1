"""Cold start: each handler's import and first invocation in a fresh interpreter, beside a bare
``import boto3`` handler doing one call, through the code path production runs.

moto's server (``ThreadedMotoServer``) listens on 127.0.0.1 and holds tokenfuse's template as the
sandbox's template reader and provisioner create it (tables, bus, rules, queues, secrets, the team
directory parameter, the state machine), the sandbox's emulations of what moto lacks (Bedrock
inference profiles, Metrics Insights, the Slack Web API on loopback), and one profile with a week of
ordinary traffic and a runaway hour. Each handler then runs in a fresh ``python -I -S``
(``bench/invoke_once.py``) with Lambda's environment, the function's own from the template and
``AWS_ENDPOINT_URL`` at the server: every AWS call is real botocore serialization over HTTP and
parsing of moto's answers. Its ``sys.path`` is Lambda's, not the virtual environment's: the
function's code, the layer's folders (``layers/core`` and links to the installed distributions its
``requirements.txt`` pulls in, botocore among them as deployed), then the runtime's packages (links
to boto3 and what it requires); the bare handlers see only the runtime's. Tracing is on, as deployed
(``Tracing: Active``; the X-Ray daemon address goes nowhere). The handlers run as one spike goes
through them, each with the event the previous one caused: the token-rate alarm
(``events/alarm-eventbridge.json``) as an SQS record for intake, the "Spend Signal" EventBridge
delivered for attribute, the "Spike Attributed" for notify, the first task of the execution notify started for
remediate, a signed Slack click for approve, the profile's CloudTrail ``CreateInferenceProfile``
(``events/cloudtrail-create-inference-profile.json``) for inventory. Each round starts from the same
state (tables emptied, queues purged, a new alarm), so every run does the same work; a handler that
fails, or answers other than a real first invocation would, stops the bench.

Reported: median over the rounds of import, first invoke, their sum, the process's CPU time and its
peak resident set (``VmHWM``), each against the bare handler's.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from bench.artifacts import build_layer, host_platform_tag

if TYPE_CHECKING:
    from tokenfuse_sandbox.clients import SandboxClients

ROOT = Path(__file__).resolve().parents[1]
LAYER = ROOT / "layers" / "core"
INVOKE_ONCE = Path(__file__).with_name("invoke_once.py")
ROUNDS = 5
BYTECODE_ROUNDS = 3
GOAL = 1.5
"""Every handler within 1.5x of the bare handler, on time and on peak memory."""

CALLS = {
    "intake": "DynamoDB (idempotency: put, update), EventBridge (PutEvents)",
    "attribute": "DynamoDB (the inventory's owners), Bedrock (GetInferenceProfile, tags), CloudWatch "
    "(Metrics Insights and MetricStat reads), EventBridge",
    "notify": "SSM (team directory), Secrets Manager (Slack token), DynamoDB (idempotency, incidents), "
    "Slack (post), Step Functions (StartExecution), EventBridge",
    "remediate": "SSM, Secrets Manager, DynamoDB (trips, audit), EventBridge, Slack (thread reply)",
    "approve": "Secrets Manager (signing secret), DynamoDB (approval, refused-click audit), slack-sdk's "
    "signature check",
    "inventory": "SSM, Bedrock (profile, tags), DynamoDB (inventory), CloudWatch (alarms), EventBridge",
}
"""What each handler's first invocation calls (from its code path), where the bare handler calls one
EventBridge PutEvents: each further service is one more botocore model loaded and client built."""

SERVICES = {
    "intake": ("dynamodb", "events"),
    "attribute": ("dynamodb", "bedrock", "cloudwatch", "events"),
    "notify": ("ssm", "secretsmanager", "dynamodb", "stepfunctions", "events"),
    "remediate": ("ssm", "secretsmanager", "dynamodb", "events"),
    "approve": ("secretsmanager", "dynamodb"),
    "inventory": ("ssm", "bedrock", "dynamodb", "cloudwatch", "events"),
}
"""The AWS services of :data:`CALLS`: the bare handler calls each once beside every handler
(:data:`SAME_SERVICES_APP`), to show what a first invocation's services cost with no tokenfuse code."""

FUNCTIONS = {  # the order one spike goes through them
    "intake": "IntakeFunction",
    "attribute": "AttributeFunction",
    "notify": "NotifyFunction",
    "remediate": "RemediateFunction",
    "approve": "ApproveFunction",
    "inventory": "InventoryFunction",
}
BARE = "bare"
BARE_APP = """import os

import boto3


def lambda_handler(event, context):
    entry = {"Source": "tokenfuse.bench", "DetailType": "Bare", "Detail": "{}",
             "EventBusName": os.environ["EVENT_BUS_NAME"]}
    return boto3.client("events").put_events(Entries=[entry])["FailedEntryCount"]
"""
ONE_CALL_PER_SERVICE = """CALLS = {  # one small call per service, each answered by moto's server
    "dynamodb": ("list_tables", {"Limit": 1}),
    "bedrock": ("list_inference_profiles", {"typeEquals": "APPLICATION", "maxResults": 1}),
    "cloudwatch": ("describe_alarms", {"MaxRecords": 1}),
    "ssm": ("describe_parameters", {"MaxResults": 1}),
    "secretsmanager": ("list_secrets", {"MaxResults": 1}),
    "stepfunctions": ("list_state_machines", {"maxResults": 1}),
}
"""
SAME_SERVICES_APP = (
    """import os

import boto3

"""
    + ONE_CALL_PER_SERVICE
    + """

def lambda_handler(event, context):
    for service in event["services"]:
        if service != "events":
            operation, params = CALLS[service]
            getattr(boto3.client(service), operation)(**params)
    entry = {"Source": "tokenfuse.bench", "DetailType": "Bare", "Detail": "{}",
             "EventBusName": os.environ["EVENT_BUS_NAME"]}
    return boto3.client("events").put_events(Entries=[entry])["FailedEntryCount"]
"""
)
"""The bare handler calling each AWS service a handler's first invocation calls (:data:`SERVICES`),
once: what those services cost in botocore alone (no Slack, no tokenfuse code, no shell)."""
FLOOR = "floor"
FLOOR_APP = """import os

import pydantic  # every handler validates its settings and its event with it

from tokenfuse.adapters.aws import client
from tokenfuse.observability import lambda_handler_shell


@lambda_handler_shell(correlation_id_path="id")
def lambda_handler(event, context):
    entry = {"Source": "tokenfuse.bench", "DetailType": "Floor", "Detail": "{}",
             "EventBusName": os.environ["EVENT_BUS_NAME"]}
    return client("events").put_events(Entries=[entry])["FailedEntryCount"]
"""
"""The house's floor: the bare handler wearing the shell (Powertools' logger, metrics and tracer),
with pydantic imported and its client from tokenfuse's session (``tokenfuse.adapters.aws``). What no
tokenfuse handler can go below."""


def library_floor_app(name: str) -> str:
    """The least ``name``'s handler can be with what the brief has it use, and no tokenfuse code of
    its own: the floor's shell, one pydantic model built and validated, tokenfuse's client calling
    each of its services once (:data:`SERVICES`), and the libraries its first invocation needs
    (:data:`LIBRARIES`)."""
    imports = "".join(f"{line}\n" for line in LIBRARIES[name])
    return (
        f"import os\n\nimport pydantic\n{imports}"
        "from tokenfuse.adapters.aws import client\n"
        "from tokenfuse.observability import lambda_handler_shell\n\n"
        + ONE_CALL_PER_SERVICE
        + """

class Event(pydantic.BaseModel):
    id: str
    services: list[str]


@lambda_handler_shell(correlation_id_path="id")
def lambda_handler(event, context):
    for service in Event.model_validate(event).services:
        if service != "events":
            operation, params = CALLS[service]
            getattr(client(service), operation)(**params)
    entry = {"Source": "tokenfuse.bench", "DetailType": "Libraries", "Detail": "{}",
             "EventBusName": os.environ["EVENT_BUS_NAME"]}
    return client("events").put_events(Entries=[entry])["FailedEntryCount"]
"""
    )


LIBRARIES = {
    "intake": (),
    "attribute": (),
    "notify": ("import yaml", "from slack_sdk import WebClient"),
    "remediate": ("import yaml", "from slack_sdk import WebClient"),
    "approve": ("from slack_sdk.signature import SignatureVerifier",),
    "inventory": ("import yaml",),
}
"""Beyond pydantic and Powertools: PyYAML where the team directory is read, slack-sdk's client where
Slack is called, its verifier where a request's signature is checked."""
SIGNING_SECRET = "bench-slack-signing-secret"  # the bench's fake Slack app
TRACE_HEADER = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
PROFILE_NAME = "support-chat"
MODEL = "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-sonnet-20241022-v2:0"
EXAMPLE_ACCOUNT, EXAMPLE_PROFILE = "444455556666", "a1b2c3d4e5f6"  # what events/ samples name
EXAMPLE_CREATED = "k2x7q9m4ab1c"  # the profile events/cloudtrail-create-inference-profile.json creates


@dataclass
class ColdStart:
    import_ms: float
    invoke_ms: float
    cpu_ms: float
    peak_rss_mb: float
    packages: list[str] = field(default_factory=list)
    origins: dict[str, str] = field(default_factory=dict)
    """Where the interpreter found boto3, botocore, pydantic and tokenfuse (those it imported)."""
    module_ms: dict[str, float] = field(default_factory=dict)
    """Under ``-X importtime``: each module the process imported and the time its own code took."""

    @property
    def total_ms(self) -> float:
        return self.import_ms + self.invoke_ms


@dataclass(frozen=True)
class Layer:
    """The layer folders a handler imports from (on its path after the function's code and before
    the runtime's packages, as /opt/python is on Lambda), the interpreter's flags, and whether the
    function's own code keeps the working tree's ``__pycache__`` (SAM's python3.13 builder ships
    functions without one)."""

    label: str
    paths: tuple[Path, ...]
    flags: tuple[str, ...] = ()
    function_bytecode: bool = True


RUNTIME_REQUIREMENTS = ("boto3",)
"""What Lambda's python3.13 runtime holds beside the standard library: boto3 and what it requires
(botocore, s3transfer, jmespath, python-dateutil, urllib3, six)."""


def requirement_closure(requirements: Iterable[str]) -> dict[str, metadata.Distribution]:
    """The installed distributions ``requirements`` pull in, transitively, extras and markers read
    as pip reads them (name -> distribution)."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    found: dict[str, metadata.Distribution] = {}
    seen: set[tuple[str, str]] = set()
    pending = [Requirement(line) for line in requirements]
    while pending:
        requirement = pending.pop()
        distribution = metadata.distribution(requirement.name)
        name = canonicalize_name(distribution.metadata["Name"])
        found[name] = distribution
        for extra in ("", *sorted(requirement.extras)):
            if (name, extra) in seen:
                continue
            seen.add((name, extra))
            for line in distribution.requires or []:
                needed = Requirement(line)
                if needed.marker is None or needed.marker.evaluate({"extra": extra}):
                    pending.append(needed)
    return found


def linked(distributions: Iterable[metadata.Distribution], folder: Path) -> Path:
    """A folder holding ``distributions`` as a site-packages holds them (links to the installed
    packages, modules, their bytecode and metadata), and nothing else."""
    folder.mkdir(parents=True, exist_ok=True)
    for distribution in distributions:
        for file in distribution.files or []:
            parts = Path(file).parts
            if parts[0] == "..":  # console scripts, outside site-packages
                continue
            entry = Path(*parts[:2]) if parts[0] == "__pycache__" else Path(parts[0])
            target = folder / entry
            if not target.exists() and not target.is_symlink():
                target.parent.mkdir(parents=True, exist_ok=True)
                target.symlink_to(Path(str(distribution.locate_file(entry))))
    return folder


def layer_requirements() -> list[str]:
    """``layers/core/requirements.txt``: the layer's own dependencies."""
    lines = (line.partition("#")[0].strip() for line in (LAYER / "requirements.txt").read_text().splitlines())
    return [line for line in lines if line]


class BenchFailed(RuntimeError):
    """A handler failed, or did other than a real first invocation does: nothing worth measuring."""


# --------------------------------------------------------------------------------------------------
# The world: moto's server with tokenfuse's template, seeded for one spike
# --------------------------------------------------------------------------------------------------
class World:
    """moto's server on loopback holding the provisioned template and one spiking profile."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._undo: list[Callable[[], None]] = []
        self.endpoint = ""
        self.clients: dict[str, Any] = {}
        self.functions: dict[str, Any] = {}
        self.profile_arn = ""

    # -- lifecycle ---------------------------------------------------------------------------------
    def __enter__(self) -> World:
        try:
            self._start()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        for undo in reversed(self._undo):
            undo()
        self._undo.clear()

    def _start(self) -> None:
        import boto3
        from moto.server import ThreadedMotoServer

        from tokenfuse_sandbox.emulation import bedrock_profiles, metrics_insights, moto_patches
        from tokenfuse_sandbox.emulation.slack_server import SlackServer
        from tokenfuse_sandbox.provision import Provisioner
        from tokenfuse_sandbox.story import org
        from tokenfuse_sandbox.template import ACCOUNT_ID, REGION, Template

        self.account_id, self.region = ACCOUNT_ID, REGION
        saved = os.environ.get("MOTO_ACCOUNT_ID")
        os.environ["MOTO_ACCOUNT_ID"] = ACCOUNT_ID  # the server's account for any credentials
        self._undo.append(lambda: _restore_env("MOTO_ACCOUNT_ID", saved))
        for emulation in (bedrock_profiles, metrics_insights):
            if not emulation.installed():
                emulation.install()
                self._undo.append(emulation.uninstall)
        patches = moto_patches.MotoPatches()
        moto_patches.fix_eventbridge(patches)
        self._undo.append(patches.restore)
        werkzeug = logging.getLogger("werkzeug")  # one line per request otherwise
        level = werkzeug.level
        werkzeug.setLevel(logging.ERROR)
        self._undo.append(lambda: werkzeug.setLevel(level))
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        self._undo.append(server.stop)
        host, port = server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        settings = org.sandbox_settings("approve")
        self.slack = SlackServer(channels=settings["slack_channels"]).start()
        self._undo.append(self.slack.stop)
        session = boto3.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
        )
        services = ("sqs", "sns", "events", "iam", "logs", "dynamodb", "ssm", "secretsmanager",
                    "cloudwatch", "lambda", "stepfunctions", "bedrock")  # fmt: skip
        self.clients = {
            name: session.client(name, endpoint_url=self.endpoint)  # type: ignore[call-overload]
            for name in services
        }
        template = Template(ROOT / "template.yaml", settings["parameters"], ACCOUNT_ID, REGION)
        secrets = {
            **settings["secrets"],
            "SlackBotTokenSecret": self.slack.token,
            "SlackSigningSecret": SIGNING_SECRET,
        }
        self.provisioner = Provisioner(template, cast("SandboxClients", self.clients), secrets)
        self.provisioner.provision()
        self.functions = {name: self.provisioner.functions[lid] for name, lid in FUNCTIONS.items()}
        self.team = org.TEAMS[0]
        self._seed_profile()
        self.runtime = linked(requirement_closure(RUNTIME_REQUIREMENTS).values(), self.workdir / "runtime")
        dependencies = linked(requirement_closure(layer_requirements()).values(), self.workdir / "layer-deps")
        self.tree = Layer("the working tree", (LAYER, dependencies))

    # -- seeding -----------------------------------------------------------------------------------
    def _seed_profile(self) -> None:
        """One profile of the first team, created 8 days ago, with a week of ordinary hourly
        traffic and its answers running away (15x the output tokens) this hour and the last."""
        from tokenfuse import clock
        from tokenfuse.attribution.usage import floor_hour

        now = datetime.now(UTC)
        clock.set_source(lambda: now - timedelta(days=8))  # the emulation dates the profile
        try:
            created = self.clients["bedrock"].create_inference_profile(
                inferenceProfileName=PROFILE_NAME,
                modelSource={"copyFrom": MODEL},
                tags=[
                    {"key": "team", "value": self.team.name},
                    {"key": "feature", "value": "chat"},
                    {"key": "environment", "value": "prod"},
                ],
            )
        finally:
            clock.reset()
        self.profile_arn = created["inferenceProfileArn"]
        this_hour = floor_hour(now)
        data = []
        for hours_ago in range(-1, 7 * 24 + 1):
            at = this_hour - timedelta(hours=hours_ago)
            output = 300 * (15 if hours_ago <= 1 else 1)
            for name, value in (("Invocations", 600), ("InputTokenCount", 600 * 2_000),
                                ("OutputTokenCount", 600 * output)):  # fmt: skip
                data.append(
                    {
                        "MetricName": name,
                        "Dimensions": [{"Name": "ModelId", "Value": self.profile_id}],
                        "Timestamp": at,
                        "Value": value,
                        "Unit": "Count",
                    }
                )
        for start in range(0, len(data), 500):
            self.clients["cloudwatch"].put_metric_data(
                Namespace="AWS/Bedrock", MetricData=data[start : start + 500]
            )

    @property
    def profile_id(self) -> str:
        return self.profile_arn.rsplit("/", 1)[-1]

    def reset(self) -> None:
        """The state every round starts from: tables and queues empty."""
        ddb, sqs = self.clients["dynamodb"], self.clients["sqs"]
        for name in ddb.list_tables()["TableNames"]:
            keys = [k["AttributeName"] for k in ddb.describe_table(TableName=name)["Table"]["KeySchema"]]
            for page in ddb.get_paginator("scan").paginate(TableName=name):
                for item in page["Items"]:
                    ddb.delete_item(TableName=name, Key={k: item[k] for k in keys})
        for url in sqs.list_queues().get("QueueUrls", []):  # PurgeQueue allows one call a minute
            while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
                handles = [
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
                ]
                sqs.delete_message_batch(QueueUrl=url, Entries=handles)

    # -- what a function runs with ---------------------------------------------------------------------
    def environment(self, spec: Any) -> dict[str, str]:
        """Lambda's environment for the function, its own from the template, and the endpoint."""
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "AWS_LAMBDA_LOG_FORMAT": "JSON",
            "LAMBDA_TASK_ROOT": str(spec.code_dir),
            "_HANDLER": spec.handler,
            "_X_AMZN_TRACE_ID": TRACE_HEADER,
            "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
            "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
            "SLACK_API_BASE_URL": self.slack.base_url,  # emulation: the Slack server on loopback
            **spec.environment,
        }

    def bare_environment(self) -> dict[str, str]:
        spec = self.functions["intake"]
        env = self.environment(spec)
        for name in spec.environment:  # the template's Globals stay (EVENT_BUS_NAME), the rest goes
            if name not in self.provisioner.t.globals["Function"]["Environment"]["Variables"]:
                env.pop(name, None)
        env["AWS_LAMBDA_FUNCTION_NAME"] = "bare"
        return env

    # -- the events one spike causes ---------------------------------------------------------------
    def sample(self, name: str) -> str:
        """A sample of events/ naming this world's account and profile."""
        text = (ROOT / "events" / name).read_text()
        for example, value in ((EXAMPLE_ACCOUNT, self.account_id), (EXAMPLE_PROFILE, self.profile_id),
                               (EXAMPLE_CREATED, self.profile_id)):  # fmt: skip
            text = text.replace(example, value)
        return text

    def intake_event(self, at: datetime) -> dict[str, Any]:
        """The profile's output-token alarm going into ALARM at ``at``, as an SQS record of the
        intake queue (the body is the EventBridge event, as the rule delivers it)."""
        event = json.loads(self.sample("alarm-eventbridge.json"))
        alarm = f"tokenfuse-{self.profile_id}-output-tokens"
        event |= {"time": f"{at:%Y-%m-%dT%H:%M:%SZ}"}
        event["resources"] = [f"arn:aws:cloudwatch:{self.region}:{self.account_id}:alarm:{alarm}"]
        detail = event["detail"]
        detail["alarmName"] = alarm
        start = at - timedelta(minutes=5)
        reason = json.loads(detail["state"]["reasonData"]) | {
            "startDate": f"{start:%Y-%m-%dT%H:%M:%S.000+0000}"
        }
        detail["state"] |= {
            "reasonData": json.dumps(reason),
            "timestamp": f"{at:%Y-%m-%dT%H:%M:%S.%f}"[:-3] + "+0000",
        }
        queue = self.provisioner.physicals["IntakeQueue"]
        self.clients["sqs"].send_message(QueueUrl=queue.ref, MessageBody=json.dumps(event))
        return self._received(queue.ref, queue.attrs["Arn"])

    def _received(self, url: str, arn: str) -> dict[str, Any]:
        """The queue's messages as Lambda's SQS event source hands them to a function."""
        messages = (
            self.clients["sqs"]
            .receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], MessageAttributeNames=["All"]
            )
            .get("Messages", [])
        )
        if not messages:
            raise BenchFailed(f"nothing arrived on {url.rsplit('/', 1)[-1]}")
        return {
            "Records": [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": m.get("Attributes", {}),
                    "messageAttributes": {},
                    "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": arn,
                    "awsRegion": self.region,
                }
                for m in messages
            ]
        }

    def delivered(self, function: str, detail_type: str) -> dict[str, Any]:
        """The event of ``detail_type`` EventBridge delivered to ``function``'s rule (moto delivers
        to the sandbox's stand-in queue of that rule)."""
        lid = FUNCTIONS[function]
        for rule in self.provisioner.wiring.rules:
            if rule["function"] != lid:
                continue
            for message in (
                self.clients["sqs"]
                .receive_message(QueueUrl=rule["shadow_url"], MaxNumberOfMessages=10)
                .get("Messages", [])
            ):
                event: dict[str, Any] = json.loads(message["Body"])
                if event.get("detail-type") == detail_type:
                    return event
        raise BenchFailed(f"no {detail_type!r} reached {lid}")

    def remediation_task(self) -> dict[str, Any]:
        """The first task's payload of the execution notify started: the state machine's first
        Task Parameters.Payload, its ``.$`` paths read from the execution's input."""
        sfn = self.clients["stepfunctions"]
        machine = self.provisioner.physicals["RemediationStateMachine"]
        executions = sfn.list_executions(stateMachineArn=machine.ref, statusFilter="RUNNING")["executions"]
        if not executions:
            raise BenchFailed("notify started no remediation")
        newest = max(executions, key=lambda e: e["startDate"])
        execution_input = json.loads(sfn.describe_execution(executionArn=newest["executionArn"])["input"])
        definition = json.loads(machine.attrs["definition"])
        template = definition["States"][definition["StartAt"]]["Parameters"]["Payload"]
        return {
            key.removesuffix(".$"): _path(execution_input, value) if key.endswith(".$") else value
            for key, value in template.items()
        }

    def approve_event(self) -> dict[str, Any]:
        """A signed Slack click on an approval button, as the Function URL hands it over: the click
        of an approval that no longer exists (the endpoint verifies, reads the table, says so)."""
        from tokenfuse.remediation.blocks import approval_action_id, button_value
        from tokenfuse_sandbox.emulation.slack_server import block_actions_payload, signed_interaction
        from tokenfuse_sandbox.function_url import request_event

        payload = block_actions_payload(
            action_id=approval_action_id("approve"),
            value=button_value("bench00000", "approve"),
            user_id=self.team.approver,
            channel_id=self.team.channel,
            message_ts="1700000000.000100",
        )
        body, headers = signed_interaction(payload, SIGNING_SECRET, int(time.time()))
        domain = "approvefunction.lambda-url.us-east-1.on.aws"
        return request_event("POST", "/slack/interactivity", headers, body.encode(), "127.0.0.1", domain)

    def inventory_event(self) -> dict[str, Any]:
        event: dict[str, Any] = json.loads(self.sample("cloudtrail-create-inference-profile.json"))
        event["detail"]["requestParameters"]["inferenceProfileName"] = PROFILE_NAME
        return event


def _path(document: dict[str, Any], path: str) -> Any:
    if not path.startswith("$."):
        raise BenchFailed(f"the bench reads only $.a.b paths, not {path!r}")
    value: Any = document
    for part in path[2:].split("."):
        value = value[part]
    return value


def _restore_env(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


# --------------------------------------------------------------------------------------------------
# One cold start
# --------------------------------------------------------------------------------------------------
def cold_start(
    code_dir: Path,
    handler: str,
    event: Any,
    env: dict[str, str],
    workdir: Path,
    function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:bench",
    path: Sequence[Path] = (),
    flags: Sequence[str] = (),
) -> tuple[ColdStart, Any]:
    """Start a fresh interpreter (``-I -S``: the standard library, no site-packages), its path the
    function's code then ``path`` (the layer's folders and the runtime's packages, as Lambda's), import
    the handler, invoke it once (its context naming ``function_arn``): the figures and its result."""
    event_file, report_file = workdir / "event.json", workdir / "report.json"
    event_file.write_text(json.dumps(event))
    report_file.unlink(missing_ok=True)
    search = os.pathsep.join(str(folder) for folder in path)
    argv = [sys.executable, "-I", "-S", *flags, str(INVOKE_ONCE), str(code_dir), search, handler]
    done = subprocess.run(
        [*argv, str(event_file), str(report_file), function_arn],
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0 or not report_file.exists():
        raise BenchFailed(f"{code_dir.name}: the interpreter failed: {done.stderr[-2000:]}")
    report = json.loads(report_file.read_text())
    if report["error"]:
        raise BenchFailed(f"{code_dir.name}: {report['error']}\n{done.stdout[-3000:]}")
    figures = ColdStart(
        report["import_ms"], report["invoke_ms"], report["cpu_ms"], report["peak_rss_mb"],
        report["packages"], report["origins"], import_times(done.stderr),
    )  # fmt: skip
    return figures, report["result"]


IMPORT_TIME = re.compile(r"^import time:\s+(\d+) \|\s+\d+ \| *(\S+)$", re.MULTILINE)
"""One line of ``-X importtime``: the module's own time (microseconds), its cumulative time, its name."""


def import_times(stderr: str) -> dict[str, float]:
    """Module -> its own import time (ms), from what ``-X importtime`` wrote (nothing otherwise). A
    module imported through ``importlib.import_module`` (Powertools' lazy models) is not listed: its
    time counts in the module that asked for it."""
    return {name: int(micros) / 1000 for micros, name in IMPORT_TIME.findall(stderr)}


def same_services(name: str) -> str:
    """The key of the bare handler calling ``name``'s services."""
    return f"{BARE}:{name}"


def library_floor(name: str) -> str:
    """The key of :func:`library_floor_app` of ``name``."""
    return f"libraries:{name}"


def _expect(name: str, ok: bool, result: Any) -> None:
    if not ok:
        raise BenchFailed(f"{name} answered {json.dumps(result)[:1500]}")


def function_code(world: World, name: str, layer: Layer) -> Path:
    """The function's code folder as ``layer`` runs it: the tree's, or a copy without ``__pycache__``."""
    code_dir: Path = world.functions[name].code_dir
    if layer.function_bytecode:
        return code_dir
    copy = world.workdir / "functions" / name
    if not copy.exists():
        shutil.copytree(code_dir, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def _bare_apps(workdir: Path) -> Path:
    """The folder of the bare handlers (:data:`BARE_APP`, :data:`FLOOR_APP`, :data:`SAME_SERVICES_APP`
    and every :func:`library_floor_app`), written once per working directory."""
    folder = workdir / "bare"
    if not folder.is_dir():
        folder.mkdir()
        (folder / "bare_app.py").write_text(BARE_APP)
        (folder / "floor_app.py").write_text(FLOOR_APP)
        (folder / "same_services_app.py").write_text(SAME_SERVICES_APP)
        for name in FUNCTIONS:
            (folder / f"libraries_{name}.py").write_text(library_floor_app(name))
    return folder


def bare_cold_start(
    world: World, layer: Layer, key: str, app: str, event: Any, *, on_layer: bool
) -> ColdStart:
    """One of the bare handlers (``app``, of :func:`_bare_apps`) cold, as the bare function with its
    environment: the runtime's boto3 alone on its path, or ``layer`` before it (``on_layer``); refused
    (``key`` named) unless its PutEvents failed none."""
    path = (*layer.paths, world.runtime) if on_layer else (world.runtime,)
    arn = f"arn:aws:lambda:{world.region}:{world.account_id}:function:bare"
    figures, failed = cold_start(
        _bare_apps(world.workdir), f"{app}.lambda_handler", event, world.bare_environment(), world.workdir,
        arn, path, layer.flags,
    )  # fmt: skip
    _expect(key, failed == 0, failed)
    return figures


def one_round(world: World, layer: Layer | None = None, beside: bool = True) -> dict[str, ColdStart]:
    """Every handler once, as one spike goes through them, importing ``layer`` (the working tree's
    when None); the bare handler first, then the floor and, ``beside`` each handler, the bare handler
    calling its services."""
    layer = layer or world.tree
    world.reset()
    runs: dict[str, ColdStart] = {}

    def run(name: str, event: Any) -> Any:
        """The bare handler calling the handler's services, then the handler (same load, same round)."""
        if beside:
            key = same_services(name)
            runs[key] = bare_cold_start(
                world, layer, key, "same_services_app", {"services": list(SERVICES[name])}, on_layer=False
            )
        spec = world.functions[name]
        code_dir, env = function_code(world, name, layer), world.environment(spec)
        path = (*layer.paths, world.runtime)
        runs[name], result = cold_start(
            code_dir, spec.handler, event, env, world.workdir, spec.arn, path, layer.flags
        )
        return result

    runs[BARE] = bare_cold_start(world, layer, BARE, "bare_app", {}, on_layer=False)
    if beside:
        runs[FLOOR] = bare_cold_start(world, layer, FLOOR, "floor_app", {"id": "floor"}, on_layer=True)
    result = run("intake", world.intake_event(datetime.now(UTC)))
    _expect("intake", result == {"batchItemFailures": []}, result)
    result = run("attribute", world.delivered("attribute", "Spend Signal"))
    _expect("attribute", bool(result.get("culprits")), result)
    result = run("notify", world.delivered("notify", "Spike Attributed"))
    _expect("notify", len(result.get("incidents_opened", [])) == 1, result)
    result = run("remediate", world.remediation_task())
    _expect("remediate", result.get("mode") == "approve", result)
    result = run("approve", world.approve_event())
    _expect("approve", result.get("statusCode") == 200, result)
    result = run("inventory", world.inventory_event())
    _expect("inventory", result.get("action") == "upserted", result)
    return runs


def measure_library_floors(
    rounds: int = ROUNDS, world: World | None = None, names: Sequence[str] = tuple(FUNCTIONS)
) -> dict[str, ColdStart]:
    """The median of ``rounds`` rounds of the bare handler then, for each of ``names``, its library
    floor (:func:`library_floor_app`), each round from a reset world."""
    with world_or(world) as running:
        samples = []
        for _ in range(rounds):
            running.reset()
            runs = {BARE: bare_cold_start(running, running.tree, BARE, "bare_app", {}, on_layer=False)}
            for name in names:
                key = library_floor(name)
                event = {"id": name, "services": list(SERVICES[name])}
                app = f"libraries_{name}"
                runs[key] = bare_cold_start(running, running.tree, key, app, event, on_layer=True)
            samples.append(runs)
    return medians_of(samples)


def library_floor_report(medians: dict[str, ColdStart], rounds: int) -> str:
    """Each handler's library floor against the bare handler of the same rounds."""
    bare = medians[BARE]
    rows = []
    for name in FUNCTIONS:
        key = library_floor(name)
        if key not in medians:
            continue
        f = medians[key]
        libraries = ", ".join(f"`{line}`" for line in LIBRARIES[name]) or "none"
        rows.append(
            f"| `{name}` | {', '.join(SERVICES[name])} | {libraries} | {f.total_ms:.0f} | "
            f"{f.total_ms / bare.total_ms:.2f}x | {f.peak_rss_mb:.1f} | "
            f"{f.peak_rss_mb / bare.peak_rss_mb:.2f}x | {'met' if within_goal(f, bare) else 'NOT met'} |"
        )
    return "\n".join(
        [
            "The least each handler can take with what it must use and no tokenfuse code of its own "
            f"(median of {rounds} rounds, each the bare handler then every library floor): the floor's "
            "shell, one pydantic model built and validated, tokenfuse's client calling each of its "
            "services once (`library_floor_app`), and the libraries its first invocation needs. Where "
            "this is over 1.5x, no cut of tokenfuse's own code brings the handler within the goal. "
            f"Bare handler in these rounds: {bare.total_ms:.0f} ms, {bare.peak_rss_mb:.1f} MB.",
            "",
            "| handler | its AWS services | its libraries beyond pydantic and Powertools | total (ms) "
            "| vs bare | peak RSS (MB) | vs bare | within 1.5x |",
            "|---|---|---|---:|---:|---:|---:|---|",
            *rows,
        ]
    )


def built_layers(workdir: Path) -> tuple[Layer, Layer]:
    """The core layer as ``make build`` ships it (its Makefile's recipe, for this machine's platform:
    dependencies from wheels, every module with its .pyc) and as SAM's python3.13 builder shipped it
    (the same files without a .pyc, the interpreter under ``-B``, as Lambda's read-only /opt keeps it
    from writing any). The functions' code without ``__pycache__`` in both, as SAM ships it."""
    built = build_layer(workdir / "layer-built", platform_tag=host_platform_tag())
    source = workdir / "layer-source" / "python"
    shutil.copytree(built, source, ignore=shutil.ignore_patterns("__pycache__"))
    return (
        Layer("as built (.pyc)", (built,), ("-B",), function_bytecode=False),
        Layer("source only", (source,), ("-B",), function_bytecode=False),
    )


@contextlib.contextmanager
def world_or(world: World | None) -> Iterator[World]:
    """``world``, or a new one for the block (moto's backends live in this process: one at a time)."""
    if world is not None:
        yield world
        return
    with tempfile.TemporaryDirectory() as tmp, World(Path(tmp)) as new:
        yield new


def measure(rounds: int = ROUNDS, world: World | None = None) -> dict[str, ColdStart]:
    """The median of ``rounds`` rounds, per handler (and the bare one)."""
    with world_or(world) as running:
        return medians_of([one_round(running) for _ in range(rounds)])


def measure_bytecode(
    rounds: int = BYTECODE_ROUNDS, world: World | None = None
) -> dict[str, dict[str, ColdStart]]:
    """Per layer of :func:`built_layers` (label -> medians), the median of ``rounds`` rounds without
    the floor and the services beside each handler; the two layers' rounds alternate."""
    with world_or(world) as running:
        layers = built_layers(running.workdir)
        samples: dict[str, list[dict[str, ColdStart]]] = {layer.label: [] for layer in layers}
        for _ in range(rounds):
            for layer in layers:
                samples[layer.label].append(one_round(running, layer, beside=False))
    return {label: medians_of(runs) for label, runs in samples.items()}


def medians_of(samples: list[dict[str, ColdStart]]) -> dict[str, ColdStart]:
    """Per handler, the median of each figure over the rounds ``samples`` holds."""
    medians: dict[str, ColdStart] = {}
    for name in samples[0]:
        runs = [s[name] for s in samples]
        medians[name] = ColdStart(
            statistics.median(r.import_ms for r in runs),
            statistics.median(r.invoke_ms for r in runs),
            statistics.median(r.cpu_ms for r in runs),
            statistics.median(r.peak_rss_mb for r in runs),
            runs[0].packages,
            runs[0].origins,
        )
    return medians


# --------------------------------------------------------------------------------------------------
# The section
# --------------------------------------------------------------------------------------------------
def within_goal(figures: ColdStart, bare: ColdStart) -> bool:
    return figures.total_ms <= GOAL * bare.total_ms and figures.peak_rss_mb <= GOAL * bare.peak_rss_mb


def _beyond(figures: ColdStart, base: ColdStart) -> list[str]:
    """The top-level packages ``figures`` imported that ``base`` did not (private ones and the
    handler modules themselves left out)."""
    handlers = {"app", "bare_app", "floor_app", "same_services_app"}
    return [p for p in figures.packages if p not in set(base.packages) | handlers and not p.startswith("_")]


def report(medians: dict[str, ColdStart], rounds: int) -> str:
    bare = medians[BARE]
    rows = [
        f"| bare `import boto3` handler, one PutEvents | {bare.import_ms:.0f} | {bare.invoke_ms:.0f} | "
        f"{bare.total_ms:.0f} | 1.0x | {bare.cpu_ms:.0f} | 1.0x | {bare.peak_rss_mb:.1f} | 1.0x | |"
    ]
    floor = medians[FLOOR]
    rows.append(
        "| floor: the bare handler in the shell, pydantic imported, tokenfuse's client | "
        f"{floor.import_ms:.0f} | {floor.invoke_ms:.0f} | {floor.total_ms:.0f} | "
        f"{floor.total_ms / bare.total_ms:.2f}x | "
        f"{floor.cpu_ms:.0f} | {floor.cpu_ms / bare.cpu_ms:.2f}x | {floor.peak_rss_mb:.1f} | "
        f"{floor.peak_rss_mb / bare.peak_rss_mb:.2f}x | {'met' if within_goal(floor, bare) else 'NOT met'} |"
    )
    beyond: list[str] = []
    alone: list[str] = []
    for name in FUNCTIONS:
        f = medians[name]
        met = within_goal(f, bare)
        rows.append(
            f"| `functions/{name}/app.py` | {f.import_ms:.0f} | {f.invoke_ms:.0f} | {f.total_ms:.0f} | "
            f"{f.total_ms / bare.total_ms:.2f}x | {f.cpu_ms:.0f} | {f.cpu_ms / bare.cpu_ms:.2f}x | "
            f"{f.peak_rss_mb:.1f} | {f.peak_rss_mb / bare.peak_rss_mb:.2f}x | {'met' if met else 'NOT met'} |"
        )
        same = medians[same_services(name)]
        alone.append(
            f"| `{name}` | {', '.join(SERVICES[name])} | {same.total_ms:.0f} | "
            f"{same.total_ms / bare.total_ms:.2f}x | {same.peak_rss_mb:.1f} | "
            f"{same.peak_rss_mb / bare.peak_rss_mb:.2f}x | {f.total_ms / same.total_ms:.2f}x | "
            f"{f.peak_rss_mb / same.peak_rss_mb:.2f}x |"
        )
        extra = ", ".join(_beyond(f, floor)) or "nothing more"
        beyond.append(f"- {name}: imports {extra}; calls {CALLS[name]}")
    met_all = all(within_goal(medians[n], bare) for n in FUNCTIONS)
    return "\n".join(
        [
            f"Each handler's import and first invocation in a fresh `python -I -S` (median of {rounds} "
            "rounds), as one spike goes through them: Lambda's environment and the function's own from "
            "`template.yaml`, `sys.path` as Lambda's (the function, the layer: `layers/core` and the "
            "distributions its requirements pull in, then the runtime's boto3; nothing of the virtual "
            "environment's site-packages), tracing on as deployed, every AWS call over HTTP to moto's "
            "server on 127.0.0.1 (real botocore serialization and parsing), Slack on the sandbox's loopback "
            "server. Time is wall-clock from the import to the first invocation's return; CPU is the "
            "whole process's (interpreter start included); peak memory is the process's high-water "
            "resident set (`VmHWM`). On this machine (x86_64, shared), not the arm64 Lambda runtime: "
            "Lambda's own init (runtime start, layer extraction) is in neither column. "
            '`python -m bench "Cold start"` writes this section.',
            "",
            "| handler | import (ms) | first invoke (ms) | total (ms) | vs bare | CPU (ms) | vs bare "
            "| peak RSS (MB) | vs bare | within 1.5x |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
            *rows,
            "",
            f"Goal (every handler within {GOAL}x of the bare handler on time and peak memory): "
            f"**{'met' if met_all else 'NOT met'}**.",
            "",
            "What each handler's AWS services cost with no tokenfuse code: the bare handler calling "
            "each of them once (one small call per service, `SAME_SERVICES_APP`; no Slack, no shell, "
            "no pydantic), run just before the handler in every round. The last two columns are the "
            "handler against that run.",
            "",
            "| handler | its AWS services | bare handler calling them: total (ms) | vs bare | peak RSS (MB) "
            "| vs bare | handler vs it: time | memory |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
            *alone,
            "",
            "The floor row is what every handler pays before its own work: Powertools' logger, metrics "
            "and X-Ray tracer (tracing is on), pydantic, and its client from tokenfuse's session, which "
            "reads botocore's service models as plain dicts without their documentation "
            "(`tokenfuse.adapters.service_models`; the bare handlers read them as botocore does). "
            "Beyond the floor, what each handler imports "
            "(top-level packages, after its first invocation) and which services its first invocation "
            f"calls (the floor imports {', '.join(_beyond(floor, bare)) or 'nothing'} beyond `boto3`):",
            "",
            *beyond,
        ]
    )


def bytecode_report(by_layer: dict[str, dict[str, ColdStart]], rounds: int) -> str:
    """The table of :func:`measure_bytecode`: each handler with the layer as built against the same
    layer without .pyc, each against the bare handler of its own rounds."""
    (built_label, built), (source_label, source) = by_layer.items()
    rows = []
    for name in (BARE, *FUNCTIONS):
        b, s = built[name], source[name]
        title = "bare `import boto3` handler" if name == BARE else f"`functions/{name}/app.py`"
        rows.append(
            f"| {title} | {b.import_ms:.0f} | {s.import_ms:.0f} | {s.total_ms - b.total_ms:.0f} | "
            f"{b.total_ms:.0f} | {b.total_ms / built[BARE].total_ms:.2f}x | {s.total_ms:.0f} | "
            f"{s.total_ms / source[BARE].total_ms:.2f}x | {b.peak_rss_mb:.1f} | {s.peak_rss_mb:.1f} |"
        )
    return "\n".join(
        [
            "What the layer's .pyc save (`layers/core/Makefile`): the same rounds (median of "
            f"{rounds}, alternating) with the core layer built by its Makefile's recipe for this "
            f"machine ({host_platform_tag()}: its dependencies from wheels, not the virtual "
            "environment) first on the path, {built_label} and {source_label} (the same files "
            "without a .pyc, as SAM's python3.13 builder shipped them); `-B` in both, as Lambda's "
            "read-only /opt writes none, and the functions' own code without `__pycache__` in both, "
            "as SAM ships it. The bare handler imports no layer module: its boto3 and botocore are the "
            "runtime's, compiled.".format(built_label=built_label, source_label=source_label),
            "",
            f"| handler | import {built_label} (ms) | import {source_label} (ms) "
            "| compiling costs: total (ms) "
            f"| total {built_label} (ms) | vs bare | total {source_label} (ms) | vs bare "
            f"| peak RSS {built_label} (MB) | peak RSS {source_label} (MB) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            *rows,
        ]
    )


def measure_imports(world: World | None = None) -> dict[str, ColdStart]:
    """One round under ``-X importtime`` (the floor and the services beside each handler included):
    what each process imported, and each module's own time."""
    with world_or(world) as running:
        layer = running.tree
        timed = Layer(f"{layer.label}, -X importtime", layer.paths, ("-X", "importtime"))
        return one_round(running, timed)


def imports_beyond(name: str, imports: dict[str, ColdStart]) -> dict[str, float]:
    """The modules ``name`` imported that neither the floor nor the bare handler calling its
    services imported, and their own times (ms)."""
    known = set(imports[FLOOR].module_ms) | set(imports[same_services(name)].module_ms)
    return {module: ms for module, ms in imports[name].module_ms.items() if module not in known}


def _by_package(modules: dict[str, float], top: int = 4) -> str:
    """The ``top`` packages of ``modules`` by time (tokenfuse's and Powertools' by subpackage), e.g.
    ``pydantic 21, tokenfuse.events 13``."""
    totals: dict[str, float] = {}
    for module, ms in modules.items():
        parts = module.split(".")
        depth = {"tokenfuse": 2, "aws_lambda_powertools": 3}.get(parts[0], 1)
        package = ".".join(parts[:depth])
        totals[package] = totals.get(package, 0.0) + ms
    ranked = sorted(totals.items(), key=lambda item: -item[1])[:top]
    return ", ".join(f"{package} {ms:.0f}" for package, ms in ranked)


def why_report(medians: dict[str, ColdStart], imports: dict[str, ColdStart]) -> str:
    """Where each handler's time goes beyond the bare handler's, against the 1.5x budget."""
    bare, floor = medians[BARE], medians[FLOOR]
    rows = []
    for name in FUNCTIONS:
        handler, same = medians[name], medians[same_services(name)]
        services = same.total_ms - bare.total_ms
        own = imports_beyond(name, imports)
        own_ms = sum(own.values())
        tokenfuse_ms = sum(ms for module, ms in own.items() if module.partition(".")[0] == "tokenfuse")
        rest = handler.total_ms - floor.total_ms - services - own_ms
        least = floor.total_ms + services
        rows.append(
            f"| `{name}` | {handler.total_ms:.0f} | {GOAL * bare.total_ms:.0f} | "
            f"{floor.total_ms - bare.total_ms:.0f} | {services:.0f} | {least:.0f} "
            f"({'within' if least <= GOAL * bare.total_ms else 'over'}) | {own_ms:.0f} ({len(own)}) | "
            f"{tokenfuse_ms:.0f} | {rest:.0f} | {_by_package(own)} |"
        )
    return "\n".join(
        [
            "Where each handler's time goes beyond the bare handler's (same medians as above): the "
            "floor's overhead (the shell, pydantic, tokenfuse's session), its AWS services (the bare "
            "handler calling them, less the bare handler), the modules only it imports (their own "
            "import times under `-X importtime`, one further round, beyond what the floor and the "
            "services' run import; lazy imports during the first invocation included), and the rest: "
            "its first invocation's own work (models built at first use, the calls beyond one per "
            "service, Slack, X-Ray subsegments). The services' figure is botocore reading its models "
            "whole, documentation included; tokenfuse's lean loader pays less for the same clients, "
            "so a handler with little work of its own can show a negative rest. The budget is "
            f"{GOAL}x the bare handler's total. The floor plus its services is what the handler would "
            "take with no import or work of its own beyond the floor's: where that alone is over the "
            "budget, no cut of tokenfuse's code brings the handler within it. Its own imports are "
            "libraries' (pydantic's model machinery, Powertools' utilities, slack-sdk, PyYAML) and "
            "tokenfuse's own modules (their model classes built at import).",
            "",
            "| handler | total (ms) | budget (ms) | floor's overhead (ms) | its services (ms) "
            "| floor + its services: the least it can take (ms) | its own imports: ms (modules) "
            "| of which tokenfuse's (ms) | the rest (ms) | its own imports, top packages (ms) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
            *rows,
        ]
    )


def run(rounds: int = ROUNDS, bytecode_rounds: int = BYTECODE_ROUNDS) -> str:
    """The "Cold start" section of RESULTS.md (markdown, without its heading)."""
    with world_or(None) as world:
        medians = measure(rounds, world)
        why = why_report(medians, measure_imports(world))
        libraries = library_floor_report(measure_library_floors(rounds, world), rounds)
        bytecode = bytecode_report(measure_bytecode(bytecode_rounds, world), bytecode_rounds)
    return f"{report(medians, rounds)}\n\n{why}\n\n{libraries}\n\n{bytecode}"


__all__ = [
    "BenchFailed",
    "ColdStart",
    "Layer",
    "World",
    "bare_cold_start",
    "built_layers",
    "bytecode_report",
    "cold_start",
    "library_floor",
    "library_floor_app",
    "library_floor_report",
    "measure",
    "measure_bytecode",
    "measure_imports",
    "measure_library_floors",
    "report",
    "run",
    "why_report",
    "within_goal",
]
