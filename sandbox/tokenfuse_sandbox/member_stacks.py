"""``org/member.yaml`` as a service-managed StackSet in the sandbox, and what its stacks run.

:func:`deploy_member_stack_set` is how every sandbox story provisions the member side (the fire
drill's proving ground, the fast path): the StackSet is created in the tooling account on the
organization's root, and moto deploys one stack per member account and region from the real
template (the member role, the forwarding rules and, with ``ArtifactBucketPrefix``, the meter).

The meter's code is read as in AWS: ``<prefix>-<region>`` buckets of the tooling account hold the
packaged artifacts (:data:`ARTIFACT_KEYS`, the keys ``make member-artifacts`` uploads), and moto's
Lambda refuses a function whose object is missing. Emulated here, each named:

- **Lambda code.** moto runs Lambda code only in Docker: each member stack's functions are
  registered with the sandbox's in-process runtime under their own ARN, running the worktree's
  handler (the folder the artifact key is packaged from) with the environment moto resolved from
  the template, as their execution role: the role's STS session in the member account and region
  (``AWS_ACCESS_KEY_ID`` / ``AWS_SESSION_TOKEN`` / ``AWS_REGION``, as Lambda sets them).
- **Custom resources.** moto 5.2.5 knows ``Custom::*`` only, and would invoke it in Docker: the
  Create request of each custom resource (``AWS::CloudFormation::CustomResource`` too) is kept
  while moto builds the stack, then sent to the in-process function (the main stack's
  :mod:`.custom_resources` path), and its answer's ``Data`` becomes the resource's attributes.
  A FAILED answer fails the deployment.

What it does NOT prove: StackSet operations' concurrency and failure tolerance, stack updates
(``update_stack_instances`` changes only parameters in moto), IAM enforcement of the roles'
policies (moto does not evaluate them), the S3 bucket policy letting the organization read the
artifacts.
"""

from __future__ import annotations

import contextlib
import re
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tokenfuse_sandbox.emulation.moto_patches import MotoPatches

if TYPE_CHECKING:
    from tokenfuse.adapters.aws import MemberSessions as Sessions
    from tokenfuse_sandbox.core import Sandbox
    from tokenfuse_sandbox.runtime import FunctionSpec

ROOT = Path(__file__).resolve().parents[2]
ORG = ROOT / "org"
MEMBER_STACK_SET = "tokenfuse-member"
ARTIFACT_BUCKET_PREFIX = "tokenfuse-artifacts"
ARTIFACT_PREFIX = "tokenfuse/0.1.0/"
ARTIFACT_KEYS: Mapping[str, Path | None] = {
    "core-layer.zip": None,  # the layer: the worktree's tokenfuse package is already importable
    "meter.zip": ROOT / "functions" / "meter",
    "invocation-logging.zip": ROOT / "functions" / "invocation_logging",
}
"""The artifacts ``make member-artifacts`` packages, and the handler folder each is built from."""
CUSTOM_TYPES = ("AWS::CloudFormation::CustomResource",)


@dataclass(frozen=True)
class CustomResourceAnswer:
    account_id: str
    region: str
    logical_id: str
    answer: dict[str, Any]

    @property
    def reason(self) -> str:
        return str(self.answer.get("Reason") or "")


@dataclass
class MemberStacks:
    """What the StackSet deployed: functions registered (logical id in the sandbox's runtime per
    account, region and template logical id) and each custom resource's answer."""

    functions: dict[tuple[str, str, str], str] = field(default_factory=dict)
    answers: list[CustomResourceAnswer] = field(default_factory=list)

    def answer(self, account_id: str, region: str, logical_id: str) -> CustomResourceAnswer:
        for found in self.answers:
            if (found.account_id, found.region, found.logical_id) == (account_id, region, logical_id):
                return found
        raise KeyError(f"no {logical_id} answered in {account_id} {region}")


@dataclass
class _Pending:
    account_id: str
    region: str
    stack_id: str
    logical_id: str
    resource_type: str
    properties: dict[str, Any]
    model: Any  # moto's CustomModel, whose data becomes the resource's attributes


_lock = threading.Lock()
_pending: list[_Pending] = []


def upload_artifacts(sessions: Sessions, tooling_account: str, regions: Sequence[str]) -> None:
    """The packaged artifacts in the tooling account's ``<prefix>-<region>`` buckets (their bytes
    are the sandbox's placeholder zip: the handlers run from the worktree)."""
    from tokenfuse_sandbox.provision import _dummy_zip

    body = _dummy_zip()
    for region in regions:
        s3 = sessions.session(tooling_account).client("s3", region_name=region)
        bucket = f"{ARTIFACT_BUCKET_PREFIX}-{region}"
        if region == "us-east-1":
            s3.create_bucket(Bucket=bucket)
        else:
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
        for key in ARTIFACT_KEYS:
            s3.put_object(Bucket=bucket, Key=f"{ARTIFACT_PREFIX}{key}", Body=body)


def deploy_member_stack_set(
    sb: Sandbox,
    sessions: Sessions,
    tooling_account: str,
    regions: Sequence[str],
    parameters: Mapping[str, str] | None = None,
) -> MemberStacks:
    """``org/member.yaml`` as a service-managed StackSet on the root, one stack per member account
    and region; ``parameters`` beyond the tooling account and the bus (``ArtifactBucketPrefix``
    deploys the meter: :func:`meter_parameters`). The stacks' functions are registered in the
    sandbox's runtime and their custom resources answered before this returns."""
    cloudformation = sessions.session(tooling_account).client("cloudformation", region_name=sb.region)
    organizations = sessions.client("organizations", tooling_account)
    given = {
        "ToolingAccountId": sb.account_id,
        "TokenfuseBusArn": str(sb.attr("TokenfuseBus", "Arn")),
        **(parameters or {}),
    }
    cloudformation.create_stack_set(
        StackSetName=MEMBER_STACK_SET,
        TemplateBody=(ORG / "member.yaml").read_text(),
        PermissionModel="SERVICE_MANAGED",
        AutoDeployment={"Enabled": True, "RetainStacksOnAccountRemoval": False},
        Capabilities=["CAPABILITY_NAMED_IAM"],
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in given.items()],
    )
    root = organizations.list_roots()["Roots"][0]["Id"]
    with _deferred_custom_resources() as pending:
        cloudformation.create_stack_instances(
            StackSetName=MEMBER_STACK_SET,
            DeploymentTargets={"OrganizationalUnitIds": [root]},
            Regions=list(regions),
        )
    stacks = MemberStacks()
    for account_id, region, stack in _member_stacks(tooling_account, sb.region):
        for lid, spec in _function_specs(sessions, account_id, region, stack):
            sb.runtime.register(spec, by_arn_only=True)
            stacks.functions[(account_id, region, lid)] = spec.logical_id
    _watch_credentials(sb)
    for request in pending:
        stacks.answers.append(_answer(sb, request))
    return stacks


def meter_parameters(*, enable_logging: bool) -> dict[str, str]:
    """The member stacks' parameters that deploy the meter from the sandbox's artifact buckets."""
    return {
        "ArtifactBucketPrefix": ARTIFACT_BUCKET_PREFIX,
        "ArtifactPrefix": ARTIFACT_PREFIX,
        "EnableInvocationLogging": str(enable_logging).lower(),
    }


# --------------------------------------------------------------------------------------------------
# Custom resources, kept while moto builds a stack
# --------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _deferred_custom_resources() -> Iterator[list[_Pending]]:
    from moto.cloudformation import parsing
    from moto.cloudformation.custom_model import CustomModel

    class DeferredCustomResource(CustomModel):
        @classmethod
        def create_from_cloudformation_json(
            cls,
            resource_name: str,
            cloudformation_json: dict[str, Any],
            account_id: str,
            region_name: str,
            **kwargs: Any,
        ) -> CustomModel:
            # moto's own constructor call; mypy sees CloudFormationModel's abstract methods
            model = CustomModel(region_name, str(uuid.uuid4()), kwargs["LogicalId"], resource_name)  # type: ignore[abstract]
            request = _Pending(
                account_id,
                region_name,
                str(kwargs["StackId"]),
                str(kwargs["LogicalId"]),
                str(kwargs["ResourceType"]),
                dict(cloudformation_json.get("Properties") or {}),
                model,
            )
            with _lock:
                _pending.append(request)
            return model

    patches = MotoPatches()
    original = parsing.resource_class_from_type

    def resource_class_from_type(resource_type: str) -> Any:
        if resource_type in CUSTOM_TYPES or resource_type.startswith("Custom::"):
            return DeferredCustomResource
        return original(resource_type)

    patches.replace(parsing, "resource_class_from_type", resource_class_from_type)
    taken: list[_Pending] = []
    try:
        yield taken
    finally:
        patches.restore()
        with _lock:
            taken.extend(_pending)
            _pending.clear()


def _answer(sb: Sandbox, request: _Pending) -> CustomResourceAnswer:
    from tokenfuse_sandbox.custom_resources import ResponseServer, send_create
    from tokenfuse_sandbox.template import TemplateError

    token = str(request.properties.get("ServiceToken", ""))
    function = sb.runtime.logical_id(token)
    where = f"{request.account_id} {request.region} {request.logical_id}"
    if function is None:
        raise TemplateError(f"member stack {where}: ServiceToken {token} is not a function of the stack")
    with ResponseServer() as server:
        answer = send_create(
            sb.runtime,
            server,
            function,
            logical_id=request.logical_id,
            resource_type=request.resource_type,
            stack_id=request.stack_id,
            properties=request.properties,
        )
    if answer is None or answer.get("Status") != "SUCCESS":
        reason = (answer or {}).get("Reason") or "no response"
        raise TemplateError(f"member stack {where}: custom resource failed: {reason}")
    request.model.set_data({str(k): v for k, v in (answer.get("Data") or {}).items()})
    return CustomResourceAnswer(request.account_id, request.region, request.logical_id, answer)


# --------------------------------------------------------------------------------------------------
# The stacks' functions, in-process
# --------------------------------------------------------------------------------------------------


def _member_stacks(tooling_account: str, region: str) -> Iterator[tuple[str, str, Any]]:
    from moto.cloudformation.models import cloudformation_backends

    stack_set = cloudformation_backends[tooling_account][region].stacksets[
        _stack_set_id(tooling_account, region)
    ]
    for instance in stack_set.instances.stack_instances:
        yield instance.account_id, instance.region_name, instance.stack


def _stack_set_id(tooling_account: str, region: str) -> str:
    from moto.cloudformation.models import cloudformation_backends

    for stack_set_id, stack_set in cloudformation_backends[tooling_account][region].stacksets.items():
        if stack_set.name == MEMBER_STACK_SET:
            return str(stack_set_id)
    raise KeyError(MEMBER_STACK_SET)


def _function_specs(
    sessions: Sessions, account_id: str, region: str, stack: Any
) -> Iterator[tuple[str, FunctionSpec]]:
    from tokenfuse_sandbox.runtime import FunctionSpec
    from tokenfuse_sandbox.template import TemplateError

    for lid, resource in stack.resource_map.items():
        if getattr(resource, "cloudformation_type", lambda: "")() != "AWS::Lambda::Function":
            continue
        key = str((resource.code or {}).get("S3Key", "")).rsplit("/", 1)[-1]
        code_dir = ARTIFACT_KEYS.get(key)
        if code_dir is None:
            raise TemplateError(f"member stack {account_id} {region} {lid}: no handler folder for {key!r}")
        credentials = (
            sessions.session(account_id)
            .client("sts", region_name=region)
            .assume_role(RoleArn=resource.role, RoleSessionName=resource.function_name)["Credentials"]
        )
        environment = {
            **{str(k): str(v) for k, v in (resource.environment_vars or {}).items()},
            "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
            "AWS_SESSION_TOKEN": credentials["SessionToken"],
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
        }
        yield (
            lid,
            FunctionSpec(
                logical_id=re.sub(r"[^A-Za-z0-9_]", "_", f"{lid}_{account_id}_{region}"),
                name=resource.function_name,
                arn=resource.function_arn,
                code_dir=code_dir,
                handler=str(resource.handler),
                environment=environment,
                timeout=int(resource.timeout or 3),
                memory=int(resource.memory_size or 128),
            ),
        )


def _watch_credentials(sb: Sandbox) -> None:
    """Before each invocation whose credentials differ from the last one's, the cached default
    session and composition roots are forgotten: a container of a member account never shares
    clients with one of the tooling account (in-process, they share one interpreter)."""
    import os

    from tokenfuse import composition
    from tokenfuse.adapters import aws

    last: list[tuple[str | None, str | None]] = []

    def before(_: FunctionSpec) -> None:
        now = (os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_DEFAULT_REGION"))
        if last and last[0] != now:
            aws.default_session.cache_clear()
            composition.reset()
        last[:] = [now]

    sb.runtime.before_invoke.append(before)


__all__ = [
    "ARTIFACT_BUCKET_PREFIX",
    "ARTIFACT_KEYS",
    "ARTIFACT_PREFIX",
    "MEMBER_STACK_SET",
    "CustomResourceAnswer",
    "MemberStacks",
    "deploy_member_stack_set",
    "meter_parameters",
    "upload_artifacts",
]
