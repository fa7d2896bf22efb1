"""`tokenfuse drill`: prove the breaker in the organization itself (tokenfuse.drill.drill).

Against a deployment (``--stack-name``, ``--region``, standard AWS credentials): a canary profile
in the drill's account (``--account``, default the stack's ``DrillAccountId`` or this account), one
minimal request through it, its metric and log record, a trip by the deployed remediation state
machine, a refused call, the tag-conditioned guard on a second canary, the restore by the deployed
RemediateFunction, a call that goes through, both canaries deleted. The calls cost well under a cent
(the report says how much). ``--sandbox`` runs it against the sandbox's proving ground
(tokenfuse_sandbox.proving), ``--sandbox-fault`` injects a fault there first.

A readable report on stdout, or ``--json PATH`` (``-``: stdout) as contracts.md fixes. Exit 0 when
every check passed, 1 when one failed, 2 when a credential, region, stack or option is missing
(one line on stderr).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Annotated, Any, Protocol

import typer

from tokenfuse_cli.errors import Failed, Refused
from tokenfuse_cli.local import stdout_to_stderr

FAULT_HELP = "Sandbox only: inject guard-detached, logging-off, slack-token-invalid or metrics-missing."
# The options drill and doctor share.
StackName = Annotated[str, typer.Option("--stack-name", help="The tokenfuse stack.")]
Region = Annotated[str | None, typer.Option("--region", help="The stack's region.")]
Profile = Annotated[str | None, typer.Option("--profile", help="AWS named profile.")]
InSandbox = Annotated[bool, typer.Option("--sandbox", help="Run against the sandbox (no AWS).")]
Faults = Annotated[list[str] | None, typer.Option("--sandbox-fault", help=FAULT_HELP)]
JsonPath = Annotated[
    Path | None, typer.Option("--json", help="Write the report as JSON to this path ('-' = stdout).")
]


class Report(Protocol):
    passed: bool

    def to_json_text(self) -> str: ...


def drill(  # noqa: PLR0917 - typer options
    stack_name: StackName = "tokenfuse-dev",
    region: Region = None,
    profile: Profile = None,
    account: Annotated[
        str | None,
        typer.Option("--account", help="Account for the canaries (default: the stack's DrillAccountId)."),
    ] = None,
    sandbox: InSandbox = False,
    sandbox_fault: Faults = None,
    json_path: JsonPath = None,
) -> None:
    """Trip a canary through the deployed breaker, prove the deny and the restore, clean up."""
    from tokenfuse.drill.drill import run_drill

    def real() -> Any:
        from tokenfuse.drill.wiring import DrillTarget, build_drill

        deployment = read_deployment(stack_name, region, profile)
        return run_drill(*build_drill(DrillTarget.of_deployment(deployment, account)))

    def in_sandbox(ground: Any) -> Any:
        return run_drill(*ground.drill())

    report_on("drill", stack_name, sandbox, sandbox_fault, json_path, real, in_sandbox)


def report_on(  # noqa: PLR0917 - the shared options of drill and doctor
    name: str,
    stack_name: str,
    sandbox: bool,
    faults: list[str] | None,
    json_path: Path | None,
    real: Callable[[], Report],
    in_sandbox: Callable[[Any], Report],
) -> None:
    """Run the command (:func:`run_command`) and report as ``--json`` asks (:func:`finish`)."""
    from tokenfuse.drill.report import render_text

    report = run_command(sandbox, faults or [], real, in_sandbox)
    where = "the sandbox" if sandbox else f"stack {stack_name}"
    finish(report, json_path, lambda r: render_text(f"tokenfuse {name} ({where})", r))


def run_command(
    sandbox: bool,
    faults: list[str],
    real: Callable[[], Report],
    in_sandbox: Callable[[Any], Report],
) -> Report:
    """Run against the sandbox or a deployment: what the command needs and lacks is :class:`Refused`
    (one line, exit 2), any other failure :class:`Failed` (one line, exit 1), both said by the root
    command's group (:mod:`tokenfuse_cli.errors`)."""
    if faults and not sandbox:
        raise Refused("--sandbox-fault needs --sandbox")
    try:
        with stdout_to_stderr():
            if not sandbox:
                return real()
            from tokenfuse_sandbox.faults import UnknownFault
            from tokenfuse_sandbox.proving import ProvingGround

            try:
                ground: AbstractContextManager[Any] = ProvingGround(faults=faults)
            except UnknownFault as error:
                raise Refused(str(error)) from None
            with ground as seeded:
                return in_sandbox(seeded)
    except Refused:
        raise
    except Exception as error:
        raise Failed(str(error)) from None


def finish(report: Report, json_path: Path | None, render: Callable[[Any], str]) -> None:
    """The report on stdout (text, or JSON with ``--json -``) or in a file; exit 1 unless it passed."""
    if json_path is not None and str(json_path) == "-":
        typer.echo(report.to_json_text(), nl=False)
    else:
        typer.echo(render(report), nl=False)
        if json_path is not None:
            try:
                json_path.write_text(report.to_json_text())
            except OSError as error:  # the root group says it, as `report` does (exit 2)
                raise Refused(f"cannot write {json_path}: {error.strerror or error}") from None
    if not report.passed:
        raise typer.Exit(1)


def use_session(profile: str | None, region: str | None) -> tuple[str, str]:
    """Point the domain's default session at ``profile`` / ``region``; (account, region) of the
    credentials, or :class:`Refused` when a credential or the region is missing."""
    import boto3
    from botocore.exceptions import ProfileNotFound

    from tokenfuse.adapters import aws
    from tokenfuse.errors import AwsError

    try:
        session = boto3.Session(profile_name=profile, region_name=region)
    except ProfileNotFound as error:
        raise Refused(str(error)) from None
    if not session.region_name:
        raise Refused("no region: pass --region or set AWS_REGION")
    if session.get_credentials() is None:
        raise Refused("no AWS credentials: set AWS_PROFILE (or --profile) or the AWS_ACCESS_KEY_ID variables")
    if profile:
        os.environ["AWS_PROFILE"] = profile
    os.environ["AWS_DEFAULT_REGION"] = session.region_name
    aws.default_session.cache_clear()
    try:
        with aws.aws_call("sts:GetCallerIdentity"):
            account = aws.client("sts", session.region_name).get_caller_identity()["Account"]
    except AwsError as error:
        raise Refused(f"the AWS credentials do not work: {error}") from None
    return account, session.region_name


def read_deployment(stack_name: str, region: str | None, profile: str | None) -> Any:
    """The stack as a Deployment (:class:`Refused` when there is no such stack)."""
    from tokenfuse.adapters.aws import client
    from tokenfuse.drill.aws.stack import read_stack
    from tokenfuse.errors import NotFound

    account, resolved = use_session(profile, region)
    try:
        return read_stack(client("cloudformation", resolved), stack_name, resolved, account)
    except NotFound as error:
        raise Refused(str(error)) from None
