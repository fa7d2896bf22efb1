"""`tokenfuse restore`: lift a trip (or every trip), putting back exactly the prior state tokenfuse
recorded when it tripped: the guard SCP loses only that ARN, the state tag gets its old value back,
tokenfuse's statement leaves its inline policy (the policy is deleted when nothing else is in it;
statements a person added stay), each function's reserved concurrency returns to its prior value
(or to none). Each restore is audited (actor: your identity) and told in the thread. A restore
that fails says what is still in force (exit 1); run it again once the cause is fixed.

Against a real account (standard AWS credentials, ``--stack-name``): by default the stack's
RemediateFunction does it (its role holds the SCP, member-role and tag permissions);
``--direct`` does it in this process with your credentials and the function's configuration.
``--sandbox`` runs the same task in the sandbox.
"""

from __future__ import annotations

import json
import os
from typing import Annotated, Any

import typer

from tokenfuse_cli.local import stdout_to_stderr

REMEDIATE_LOGICAL_ID = "RemediateFunction"


def restore(  # noqa: PLR0917 - typer options
    profile_arn: Annotated[str | None, typer.Argument(help="The tripped inference profile's ARN.")] = None,
    all_trips: Annotated[bool, typer.Option("--all", help="Lift every active trip.")] = False,
    stack_name: Annotated[str, typer.Option("--stack-name", help="The tokenfuse stack.")] = "tokenfuse-dev",
    region: Annotated[str | None, typer.Option("--region", help="The stack's region.")] = None,
    profile: Annotated[str | None, typer.Option("--profile", help="AWS named profile.")] = None,
    direct: Annotated[
        bool,
        typer.Option("--direct", help="Restore in this process with your credentials, not via the function."),
    ] = False,
    sandbox: Annotated[bool, typer.Option("--sandbox", help="Run against the sandbox (no AWS).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> None:
    """Lift a trip by profile ARN, or every trip with --all."""
    if bool(profile_arn) == all_trips:
        typer.echo("give a profile ARN or --all (not both)", err=True)
        raise typer.Exit(2)
    try:
        with stdout_to_stderr():
            if sandbox:
                outcome = _sandbox(profile_arn, all_trips)
            else:
                outcome = _real(profile_arn, all_trips, stack_name, region, profile, direct)
    except Exception as error:
        typer.echo(f"restore failed: {' '.join(str(error).split())}", err=True)
        raise typer.Exit(1) from None
    _print(outcome, as_json)
    if outcome.get("failed"):
        raise typer.Exit(1)


def payload(profile_arn: str | None, all_trips: bool, actor: str) -> dict[str, Any]:
    """The remediate function's ``restore-profiles`` task input, checked by its model (a profile ARN
    that is none fails in one line, before the function is invoked)."""
    from tokenfuse.remediation.contracts import parse_task

    task = {"task": "restore-profiles", "profile_arn": profile_arn, "all": all_trips, "actor": actor}
    parsed: dict[str, Any] = parse_task(task).model_dump(mode="json")
    return parsed


def _print(outcome: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(outcome, indent=2))
        return
    results = outcome.get("results", [])
    if not results and not outcome.get("failed"):
        typer.echo("no active trips")
    for result in results:
        state = "restored" if result.get("restored") else "unchanged"
        typer.echo(f"{result['profile_arn']}: {state} ({result.get('note')})")
        for action in result.get("actions", []):
            typer.echo(f"  - {action}")
    for failure in outcome.get("failed", []):
        typer.echo(f"FAILED {failure}", err=True)


def _real(  # noqa: PLR0917
    profile_arn: str | None,
    all_trips: bool,
    stack_name: str,
    region: str | None,
    profile: str | None,
    direct: bool,
) -> dict[str, Any]:
    import boto3

    session = boto3.Session(profile_name=profile, region_name=region)
    actor = str(session.client("sts").get_caller_identity()["Arn"])
    function = session.client("cloudformation").describe_stack_resource(
        StackName=stack_name, LogicalResourceId=REMEDIATE_LOGICAL_ID
    )["StackResourceDetail"]["PhysicalResourceId"]
    lam = session.client("lambda")
    if not direct:
        response = lam.invoke(
            FunctionName=function, Payload=json.dumps(payload(profile_arn, all_trips, actor)).encode()
        )
        body = json.loads(response["Payload"].read() or b"null")
        if response.get("FunctionError"):
            raise RuntimeError(f"{body.get('errorType')}: {body.get('errorMessage')}")
        result: dict[str, Any] = body
        return result
    from tokenfuse.adapters import aws as aws_adapter
    from tokenfuse.remediation import tasks
    from tokenfuse.remediation.settings import RemediateSettings

    environment = (
        lam.get_function_configuration(FunctionName=function).get("Environment", {}).get("Variables", {})
    )
    # The domain builds its clients from one default session: make it this one (profile, region).
    if profile:
        os.environ["AWS_PROFILE"] = profile
    os.environ["AWS_DEFAULT_REGION"] = session.region_name
    aws_adapter.default_session.cache_clear()
    return tasks.dispatch(
        payload(profile_arn, all_trips, actor), tasks.Deps(RemediateSettings.from_env(environment))
    )


def _sandbox(profile_arn: str | None, all_trips: bool) -> dict[str, Any]:
    from tokenfuse_sandbox.core import Sandbox

    with Sandbox(function_urls=False) as sb:
        invocation = sb.invoke(REMEDIATE_LOGICAL_ID, payload(profile_arn, all_trips, "sandbox-operator"))
        if invocation.error:
            raise RuntimeError(str(invocation.error.get("errorMessage", invocation.error)))
        result: dict[str, Any] = invocation.result
        return result
