"""Creating the template's resources in moto, in dependency order (resources are created the first
time something resolves them), and turning SAM functions into :class:`FunctionSpec`s."""

from __future__ import annotations

import io
import json
import secrets
import zipfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from tokenfuse.adapters.aws import aws_call
from tokenfuse.errors import AwsError
from tokenfuse_sandbox.clients import SandboxClients
from tokenfuse_sandbox.runtime import FunctionSpec
from tokenfuse_sandbox.template import Physical, Template, TemplateError

if TYPE_CHECKING:
    from mypy_boto3_events.type_defs import TargetTypeDef
    from mypy_boto3_lambda.literals import RuntimeType
    from mypy_boto3_sqs.literals import QueueAttributeNameType

SANDBOX_PREFIX = "tokenfuse-sandbox"
_QUEUE_ATTRIBUTES: tuple[QueueAttributeNameType, ...] = (
    "VisibilityTimeout",
    "MessageRetentionPeriod",
    "DelaySeconds",
    "ReceiveMessageWaitTimeSeconds",
    "MaximumMessageSize",
    "FifoQueue",
    "ContentBasedDeduplication",
)


@dataclass
class Wiring:
    """What the template wires to functions: the sandbox delivers these."""

    # (function logical id, event name, queue url, queue arn, batch size, report batch item failures)
    sqs: list[dict[str, Any]] = field(default_factory=list)
    # EventBridge rule -> function through a sandbox-owned shadow queue
    rules: list[dict[str, Any]] = field(default_factory=list)
    schedules: list[dict[str, Any]] = field(default_factory=list)
    # template-declared rules (logical id -> {name, bus, pattern, targets})
    template_rules: dict[str, dict[str, Any]] = field(default_factory=dict)


def _dummy_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", "def lambda_handler(event, context):\n    return event\n")
    return buf.getvalue()


class Provisioner:
    def __init__(
        self, template: Template, clients: SandboxClients, secret_values: dict[str, str] | None = None
    ):
        self.t = template
        self.c = clients
        self.secret_values = secret_values or {}
        self.physicals: dict[str, Physical] = {}
        self._creating: list[str] = []
        self.functions: dict[str, FunctionSpec] = {}
        self.wiring = Wiring()
        self.url_factory: Any = None  # logical id -> url (set by the sandbox: starts the HTTP server)
        self._zip = _dummy_zip()
        self._lambda_role_arn: str | None = None
        template.physical = self.physical

    # -- naming --------------------------------------------------------------------------------
    @property
    def acct(self) -> str:
        return self.t.account_id

    @property
    def region(self) -> str:
        return self.t.region

    def _name(self, lid: str, props: dict[str, Any], key: str, where: str, max_len: int = 64) -> str:
        if key in props:
            return str(self.t.resolve(props[key], f"{where}.{key}"))
        return f"{SANDBOX_PREFIX}-{lid}"[:max_len]

    # -- entry ---------------------------------------------------------------------------------
    def provision(self) -> None:
        for lid in self.t.resources:
            if self.t.enabled(lid):
                self.physical(lid)
        # Every property of every resource must resolve (a !Ref to nothing anywhere fails here).
        for lid, res in self.t.resources.items():
            if self.t.enabled(lid):
                self.t.resolve(res.get("Properties") or {}, f"Resources.{lid}.Properties")
        outputs = self.t.data.get("Outputs") or {}
        for name, out in outputs.items():
            if "Condition" in out and not self.t.condition(out["Condition"]):
                continue
            self.t.resolve(out.get("Value"), f"Outputs.{name}.Value")
        for lid in self.t.of_type("AWS::Serverless::Function"):
            self._function_wiring(lid)

    def physical(self, lid: str) -> Physical:
        if lid in self.physicals:
            return self.physicals[lid]
        if lid in self._creating:
            cycle = " -> ".join([*self._creating[self._creating.index(lid) :], lid])
            raise TemplateError(f"circular dependency: {cycle}")
        self._creating.append(lid)
        try:
            if lid in self.t.resources:
                res = self.t.resources[lid]
                kind = res.get("Type", "")
                props = res.get("Properties") or {}
                creator = getattr(self, "_create_" + kind.replace("::", "_").replace("AWS_", "", 1), None)
                where = f"Resources.{lid}.Properties"
                phys = creator(lid, props, where) if creator else Physical(lid, kind, lid, {})
            else:
                phys = self._implicit(lid)
            self.physicals[lid] = phys
            return phys
        finally:
            self._creating.pop()

    def _register(self, phys: Physical) -> Physical:
        self.physicals[phys.logical_id] = phys
        return phys

    # -- implicit SAM resources ----------------------------------------------------------------
    def _implicit(self, lid: str) -> Physical:
        kind = self.t.implicit[lid]
        if kind == "AWS::IAM::Role":
            name = f"{SANDBOX_PREFIX}-{lid}"[:64]
            arn = self._role(name)
            return Physical(lid, kind, name, {"Arn": arn, "RoleId": name})
        if kind == "AWS::Lambda::Url":
            owner = lid.removesuffix("Url")
            fn = self.physical(owner)
            url = (
                self.url_factory(owner) if self.url_factory else f"https://{owner.lower()}.lambda-url.local/"
            )
            return Physical(lid, kind, fn.attrs["Arn"], {"FunctionUrl": url, "FunctionArn": fn.attrs["Arn"]})
        if kind == "AWS::Lambda::Alias":
            owner = next(o for o in self.t.resources if lid.startswith(o + "Alias"))
            fn = self.physical(owner)
            alias = lid.removeprefix(owner + "Alias")
            arn = f"{fn.attrs['Arn']}:{alias}"
            return Physical(lid, kind, arn, {"AliasName": alias})
        for owner in self.t.of_type("AWS::Serverless::Function"):
            events = (self.t.resources[owner].get("Properties") or {}).get("Events") or {}
            for ev_name in events:
                if lid == owner + ev_name:
                    self.physical(owner)
                    self._function_wiring(owner)
                    if lid in self.physicals:
                        return self.physicals[lid]
        raise TemplateError(f"{lid}: the sandbox cannot create {kind}")

    def _role(self, name: str) -> str:
        iam = self.c["iam"]
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        try:
            return str(iam.get_role(RoleName=name)["Role"]["Arn"])
        except iam.exceptions.NoSuchEntityException:
            return str(
                iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
            )

    # -- AWS resources -------------------------------------------------------------------------
    def _create_SQS_Queue(self, lid: str, props: dict[str, Any], where: str) -> Physical:
        name = self._name(lid, props, "QueueName", where, 80)
        attrs: dict[QueueAttributeNameType, str] = {}
        for key in _QUEUE_ATTRIBUTES:
            if key in props:
                value = self.t.resolve(props[key], f"{where}.{key}")
                attrs[key] = str(value).lower() if isinstance(value, bool) else str(value)
        if "RedrivePolicy" in props:
            redrive = self.t.resolve(props["RedrivePolicy"], f"{where}.RedrivePolicy")
            attrs["RedrivePolicy"] = json.dumps(redrive)
        url = self.c["sqs"].create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
        arn = f"arn:aws:sqs:{self.region}:{self.acct}:{name}"
        return Physical(lid, "AWS::SQS::Queue", url, {"Arn": arn, "QueueName": name, "QueueUrl": url})

    def _create_SNS_Topic(self, lid: str, props: dict[str, Any], where: str) -> Physical:
        name = self._name(lid, props, "TopicName", where, 256)
        arn = self.c["sns"].create_topic(Name=name)["TopicArn"]
        return Physical(lid, "AWS::SNS::Topic", arn, {"TopicArn": arn, "TopicName": name})

    def _create_SNS_Subscription(self, lid: str, props: dict[str, Any], where: str) -> Physical:
        p = self.t.resolve(props, where)
        attributes = {}
        for key in ("RawMessageDelivery", "FilterPolicy", "FilterPolicyScope", "RedrivePolicy"):
            if key in p:
                value = p[key]
                attributes[key] = json.dumps(value) if isinstance(value, dict) else str(value).lower()
        if p["Protocol"] in ("sqs", "lambda", "http", "https"):
            arn = self.c["sns"].subscribe(
                TopicArn=p["TopicArn"], Protocol=p["Protocol"], Endpoint=p["Endpoint"], Attributes=attributes
            )["SubscriptionArn"]
        else:  # email and the like: nothing to deliver in the sandbox
            arn = f"{p['TopicArn']}:{lid}"
        return Physical(lid, "AWS::SNS::Subscription", arn, {"Arn": arn})

    def _create_Events_EventBus(self, lid: str, props: dict[str, Any], where: str) -> Physical:
        name = self._name(lid, props, "Name", where, 256)
        if name != "default":
            self.c["events"].create_event_bus(Name=name)
        arn = f"arn:aws:events:{self.region}:{self.acct}:event-bus/{name}"
        return Physical(lid, "AWS::Events::EventBus", name, {"Arn": arn, "Name": name})

    def _rule_arn(self, bus: str, name: str) -> str:
        path = name if bus in ("default", "") else f"{bus}/{name}"
        return f"arn:aws:events:{self.region}:{self.acct}:rule/{path}"

    def _bus_name(self, value: str) -> str:
        return value.rsplit("/", 1)[-1] if value.startswith("arn:") else value

    def _create_Events_Rule(self, lid: str, props: dict[str, Any], where: str) -> Physical:
        name = self._name(lid, props, "Name", where, 64)
        bus = self._bus_name(
            str(self.t.resolve(props.get("EventBusName", "default"), f"{where}.EventBusName"))
        )
        arn = self._rule_arn(bus, name)
        ref = name if bus == "default" else f"{bus}|{name}"  # what !Ref gives for a rule
        phys = self._register(Physical(lid, "AWS::Events::Rule", ref, {"Arn": arn}))
        pattern = self.t.resolve(props.get("EventPattern"), f"{where}.EventPattern")
        kwargs: dict[str, Any] = {"Name": name, "EventBusName": bus, "State": props.get("State", "ENABLED")}
        if pattern:
            kwargs["EventPattern"] = json.dumps(pattern)
        if "ScheduleExpression" in props:
            kwargs["ScheduleExpression"] = self.t.resolve(props["ScheduleExpression"], where)
        self.c["events"].put_rule(**kwargs)
        targets = self.t.resolve(props.get("Targets") or [], f"{where}.Targets")
        if targets:
            # the template's targets as written: EventBridge (moto) checks them, as CloudFormation would
            clean = [
                cast(
                    "TargetTypeDef",
                    {
                        k: v
                        for k, v in tgt.items()
                        if k
                        in ("Id", "Arn", "RoleArn", "Input", "InputPath", "InputTransformer", "SqsParameters")
                    },
                )
                for tgt in targets
            ]
            self.c["events"].put_targets(Rule=name, EventBusName=bus, Targets=clean)
        self.wiring.template_rules[lid] = {"name": name, "bus": bus, "pattern": pattern, "targets": targets}
        return phys

    def _create_Events_Archive(self, lid: str, props: dict[str, Any], where: str) -> Physical:
        p = self.t.resolve(props, where)
        name = p.get("ArchiveName", f"{SANDBOX_PREFIX}-{lid}"[:48])
        return Physical(
            lid,
            "AWS::Events::Archive",
            name,
            {"Arn": f"arn:aws:events:{self.region}:{self.acct}:archive/{name}"},
        )

    def _create_IAM_Role(self, lid: str, props: dict[str, Any], where: str) -> Physical:
        name = self._name(lid, props, "RoleName", where, 64)
        arn = self._role(name)
        return Physical(lid, "AWS::IAM::Role", name, {"Arn": arn, "RoleId": name})

    def _create_Logs_LogGroup(self, lid: str, props: dict[str, Any], where: str) -> Physical:
        name = self._name(lid, props, "LogGroupName", where, 512)
        self.c["logs"].create_log_group(logGroupName=name)
        return Physical(
            lid,
            "AWS::Logs::LogGroup",
            name,
            {"Arn": f"arn:aws:logs:{self.region}:{self.acct}:log-group:{name}:*"},
        )

    def _create_DynamoDB_Table(self, lid: str, props: dict[str, Any], where: str) -> Physical:
        p = self.t.resolve(props, where)
        name = p.get("TableName", f"{SANDBOX_PREFIX}-{lid}")
        kwargs: dict[str, Any] = {
            "TableName": name,
            "KeySchema": p["KeySchema"],
            "AttributeDefinitions": p["AttributeDefinitions"],
            "BillingMode": p.get("BillingMode", "PROVISIONED"),
        }
        if kwargs["BillingMode"] == "PROVISIONED":
            kwargs["ProvisionedThroughput"] = p.get(
                "ProvisionedThroughput", {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
            )
        for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes", "StreamSpecification"):
            if key in p:
                kwargs[key] = p[key]
        ddb = self.c["dynamodb"]
        arn = ddb.create_table(**kwargs)["TableDescription"]["TableArn"]
        ttl = p.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            ddb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )
        return Physical(lid, "AWS::DynamoDB::Table", name, {"Arn": arn, "StreamArn": f"{arn}/stream/sandbox"})

    def _create_SSM_Parameter(self, lid: str, props: dict[str, Any], where: str) -> Physical:
        p = self.t.resolve(props, where)
        name = p.get("Name", f"{SANDBOX_PREFIX}-{lid}")
        value = self.secret_values.get(lid, p["Value"])
        self.c["ssm"].put_parameter(Name=name, Type=p.get("Type", "String"), Value=value, Overwrite=True)
        return Physical(lid, "AWS::SSM::Parameter", name, {"Type": p.get("Type", "String"), "Value": value})

    def _create_SecretsManager_Secret(self, lid: str, props: dict[str, Any], where: str) -> Physical:
        p = self.t.resolve(props, where)
        name = p.get("Name", f"{SANDBOX_PREFIX}-{lid}")
        value = self.secret_values.get(lid)
        if value is None:
            value = p.get("SecretString") or f"sandbox-{lid}-{secrets.token_hex(16)}"
        arn = self.c["secretsmanager"].create_secret(Name=name, SecretString=value)["ARN"]
        return Physical(lid, "AWS::SecretsManager::Secret", arn, {"Id": arn})

    def _create_CloudWatch_Alarm(self, lid: str, props: dict[str, Any], where: str) -> Physical:
        p = self.t.resolve(props, where)
        name = p.get("AlarmName", f"{SANDBOX_PREFIX}-{lid}")
        kwargs = {k: v for k, v in p.items() if k != "AlarmName"}
        for key in ("Period", "EvaluationPeriods", "DatapointsToAlarm"):
            if key in kwargs:
                kwargs[key] = int(kwargs[key])
        if "Threshold" in kwargs:
            kwargs["Threshold"] = float(kwargs["Threshold"])
        self.c["cloudwatch"].put_metric_alarm(AlarmName=name, **kwargs)
        return Physical(
            lid,
            "AWS::CloudWatch::Alarm",
            name,
            {"Arn": f"arn:aws:cloudwatch:{self.region}:{self.acct}:alarm:{name}"},
        )

    def _create_CloudWatch_Dashboard(self, lid: str, props: dict[str, Any], where: str) -> Physical:
        p = self.t.resolve(props, where)
        name = p.get("DashboardName", f"{SANDBOX_PREFIX}-{lid}")
        try:
            json.loads(p["DashboardBody"])
        except json.JSONDecodeError as error:
            raise TemplateError(f"{where}.DashboardBody: not JSON after substitution: {error}") from error
        self.c["cloudwatch"].put_dashboard(DashboardName=name, DashboardBody=p["DashboardBody"])
        return Physical(lid, "AWS::CloudWatch::Dashboard", name, {})

    # -- SAM resources -------------------------------------------------------------------------
    def _create_Serverless_LayerVersion(self, lid: str, props: dict[str, Any], where: str) -> Physical:
        name = self._name(lid, props, "LayerName", where, 140)
        arn = f"arn:aws:lambda:{self.region}:{self.acct}:layer:{name}:1"
        return Physical(lid, "AWS::Serverless::LayerVersion", arn, {})

    def _lambda_role(self) -> str:
        if self._lambda_role_arn is None:
            self._lambda_role_arn = self._role(f"{SANDBOX_PREFIX}-lambda")
        return self._lambda_role_arn

    def _create_Serverless_Function(self, lid: str, props: dict[str, Any], where: str) -> Physical:
        merged = self.t.function_properties(lid)
        name = self._name(lid, merged, "FunctionName", where, 64)
        arn = f"arn:aws:lambda:{self.region}:{self.acct}:function:{name}"
        phys = self._register(Physical(lid, "AWS::Serverless::Function", name, {"Arn": arn}))
        self.c["lambda"].create_function(
            FunctionName=name,
            Runtime=cast("RuntimeType", str(merged.get("Runtime", "python3.13"))),  # moto checks it
            Role=self._lambda_role(),
            Handler=str(merged.get("Handler", "app.lambda_handler")),
            Code={"ZipFile": self._zip},
            Timeout=int(self.t.resolve(merged.get("Timeout", 3), f"{where}.Timeout")),
            MemorySize=int(self.t.resolve(merged.get("MemorySize", 128), f"{where}.MemorySize")),
        )
        return phys

    def _create_Serverless_StateMachine(self, lid: str, props: dict[str, Any], where: str) -> Physical:
        name = self._name(lid, props, "Name", where, 80)
        arn = f"arn:aws:states:{self.region}:{self.acct}:stateMachine:{name}"
        phys = self._register(Physical(lid, "AWS::Serverless::StateMachine", arn, {"Arn": arn, "Name": name}))
        definition = self.t.state_machine_definition(lid)
        role = self._lambda_role()
        kwargs: dict[str, Any] = {"name": name, "definition": definition, "roleArn": role}
        kwargs["type"] = str(self.t.resolve(props.get("Type", "STANDARD"), f"{where}.Type"))
        try:
            with aws_call("states:CreateStateMachine", resource=name):
                created = self.c["stepfunctions"].create_state_machine(**kwargs)["stateMachineArn"]
        except AwsError as error:
            raise TemplateError(f"Resources.{lid}: Step Functions refused the definition: {error}") from error
        if created != arn:
            phys.ref = phys.attrs["Arn"] = created
        phys.attrs["definition"] = definition
        return phys

    # -- function wiring -----------------------------------------------------------------------
    def _function_wiring(self, lid: str) -> None:
        if lid in self.functions:
            return
        where = f"Resources.{lid}.Properties"
        merged = self.t.function_properties(lid)
        phys = self.physical(lid)
        if "InlineCode" in merged:
            raise TemplateError(f"{where}: InlineCode is not supported by the sandbox")
        code_uri = self.t.resolve(merged.get("CodeUri"), f"{where}.CodeUri")
        if not isinstance(code_uri, str):
            raise TemplateError(f"{where}.CodeUri: only a local folder is supported")
        code_dir = (self.t.base_dir / code_uri).resolve()
        if not code_dir.is_dir():
            raise TemplateError(f"{where}.CodeUri: {code_uri} is not a folder")
        env = self.t.resolve((merged.get("Environment") or {}).get("Variables") or {}, f"{where}.Environment")
        spec = FunctionSpec(
            logical_id=lid,
            name=phys.ref,
            arn=phys.attrs["Arn"],
            code_dir=code_dir,
            handler=str(self.t.resolve(merged.get("Handler"), f"{where}.Handler")),
            environment={k: str(v) for k, v in env.items()},
            timeout=int(self.t.resolve(merged.get("Timeout", 3), f"{where}.Timeout")),
            memory=int(self.t.resolve(merged.get("MemorySize", 128), f"{where}.MemorySize")),
            event_invoke_config=self.t.resolve(
                merged.get("EventInvokeConfig") or {}, f"{where}.EventInvokeConfig"
            ),
            function_url=self.t.resolve(merged["FunctionUrlConfig"], where)
            if "FunctionUrlConfig" in merged
            else None,
        )
        self.functions[lid] = spec
        for ev_name, ev in (merged.get("Events") or {}).items():
            ev_where = f"{where}.Events.{ev_name}"
            kind = ev.get("Type")
            p = self.t.resolve(ev.get("Properties") or {}, f"{ev_where}.Properties")
            spec.events[ev_name] = {"Type": kind, "Properties": p}
            if kind == "SQS":
                self._wire_sqs(lid, ev_name, p, ev_where)
            elif kind in ("EventBridgeRule", "CloudWatchEvent"):
                self._wire_rule(lid, ev_name, p, ev_where)
            elif kind in ("Schedule", "ScheduleV2"):
                self._wire_schedule(lid, ev_name, kind, p, ev_where)
            else:
                raise TemplateError(f"{ev_where}: event type {kind} is not delivered by the sandbox")

    def _queue_by_arn(self, arn: str, where: str) -> str:
        for phys in self.physicals.values():
            if phys.type == "AWS::SQS::Queue" and phys.attrs["Arn"] == arn:
                return str(phys.ref)
        raise TemplateError(f"{where}: no queue in the template has ARN {arn}")

    def _wire_sqs(self, lid: str, ev_name: str, p: dict[str, Any], where: str) -> None:
        url = self._queue_by_arn(p["Queue"], f"{where}.Queue")
        self.wiring.sqs.append(
            {
                "function": lid,
                "event": ev_name,
                "queue_url": url,
                "queue_arn": p["Queue"],
                "batch_size": int(p.get("BatchSize", 10)),
                "report_failures": "ReportBatchItemFailures" in (p.get("FunctionResponseTypes") or []),
                "enabled": p.get("Enabled", True),
            }
        )
        self.physicals[f"{lid}{ev_name}"] = Physical(
            f"{lid}{ev_name}", "AWS::Lambda::EventSourceMapping", f"esm-{lid}-{ev_name}", {}
        )

    def _shadow_queue(self, lid: str, ev_name: str) -> tuple[str, str]:
        name = f"{SANDBOX_PREFIX}-shadow-{lid}-{ev_name}"[:80]
        url = self.c["sqs"].create_queue(QueueName=name)["QueueUrl"]
        return url, f"arn:aws:sqs:{self.region}:{self.acct}:{name}"

    def _wire_rule(self, lid: str, ev_name: str, p: dict[str, Any], where: str) -> None:
        bus = self._bus_name(str(p.get("EventBusName", "default")))
        name = str(p.get("RuleName") or f"{SANDBOX_PREFIX}-{lid}{ev_name}")[:64]
        pattern = p.get("Pattern")
        if not pattern:
            raise TemplateError(f"{where}.Pattern: an EventBridgeRule event needs a Pattern")
        try:
            self.c["events"].put_rule(
                Name=name, EventBusName=bus, EventPattern=json.dumps(pattern), State=p.get("State", "ENABLED")
            )
        except Exception as error:
            raise TemplateError(f"{where}: EventBridge refused the rule: {error}") from error
        url, arn = self._shadow_queue(lid, ev_name)
        target: TargetTypeDef = {"Id": "sandbox-shadow", "Arn": arn}
        if "InputTransformer" in p:
            target["InputTransformer"] = p["InputTransformer"]
        self.c["events"].put_targets(Rule=name, EventBusName=bus, Targets=[target])
        self.physicals[f"{lid}{ev_name}"] = Physical(
            f"{lid}{ev_name}", "AWS::Events::Rule", name, {"Arn": self._rule_arn(bus, name)}
        )
        self.wiring.rules.append(
            {
                "function": lid,
                "event": ev_name,
                "bus": bus,
                "rule": name,
                "pattern": pattern,
                "shadow_url": url,
                "input": p.get("Input"),
                "input_path": p.get("InputPath"),
                "retry_policy": p.get("RetryPolicy"),
                "dead_letter": p.get("DeadLetterConfig"),
            }
        )

    def _wire_schedule(self, lid: str, ev_name: str, kind: str, p: dict[str, Any], where: str) -> None:
        expr = p.get("Schedule") if kind == "Schedule" else p.get("ScheduleExpression")
        if not expr:
            raise TemplateError(f"{where}: a {kind} event needs a schedule expression")
        rule_name = str(p.get("Name") or f"{SANDBOX_PREFIX}-{lid}{ev_name}")[:64]
        if kind == "Schedule":
            self.c["events"].put_rule(Name=rule_name, ScheduleExpression=expr, State="ENABLED")
            arn = self._rule_arn("default", rule_name)
            phys_type = "AWS::Events::Rule"
        else:
            arn = f"arn:aws:scheduler:{self.region}:{self.acct}:schedule/default/{rule_name}"
            phys_type = "AWS::Scheduler::Schedule"
        self.physicals[f"{lid}{ev_name}"] = Physical(f"{lid}{ev_name}", phys_type, rule_name, {"Arn": arn})
        self.wiring.schedules.append(
            {
                "function": lid,
                "event": ev_name,
                "kind": kind,
                "expression": expr,
                "name": rule_name,
                "arn": arn,
                "input": p.get("Input"),
                "retry_policy": p.get("RetryPolicy"),
                "dead_letter": p.get("DeadLetterConfig"),
                "enabled": p.get("Enabled", True) and p.get("State", "ENABLED") == "ENABLED",
            }
        )
