"""`tokenfuse doctor`: is the deployment whole? Read-only, never touching traffic (tokenfuse.drill.doctor).

Against a deployment (``--stack-name``, ``--region``, standard AWS credentials in the tooling
account): the member accounts' role and forwarding (the member StackSet's instances), every
profile watched, metrics and invocation logging where profiles are, the signal topics and what
publishes to them, the guard SCP's reach, cost-allocation tags, Slack, SES, the team directory,
prices, left-behind canaries, and IAM's policy simulator on the guard (``--simulate-as``: a role in
an account the guard covers). The management-account reads go through ``--management-role`` (the
``DoctorRoleArn`` output of org/management.yaml) unless the credentials are the management
account's own. ``--sandbox`` checks the sandbox's proving ground, ``--sandbox-fault`` breaks it
first. Output and exit codes as ``tokenfuse drill``.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tokenfuse_cli.drill import (
    Faults,
    InSandbox,
    JsonPath,
    Profile,
    Region,
    StackName,
    read_deployment,
    report_on,
)


def doctor(  # noqa: PLR0917 - typer options
    stack_name: StackName = "tokenfuse-dev",
    region: Region = None,
    profile: Profile = None,
    management_role: Annotated[
        str | None,
        typer.Option("--management-role", help="Role for the management account's reads (DoctorRoleArn)."),
    ] = None,
    simulate_as: Annotated[
        str | None,
        typer.Option("--simulate-as", help="Role ARN IAM's policy simulator checks the guard for."),
    ] = None,
    stack_set_region: Annotated[
        str | None, typer.Option("--stack-set-region", help="Region of the member StackSet.")
    ] = None,
    delegated_admin: Annotated[
        bool, typer.Option("--delegated-admin", help="Read the StackSet as its delegated administrator.")
    ] = False,
    sandbox: InSandbox = False,
    sandbox_fault: Faults = None,
    json_path: JsonPath = None,
) -> None:
    """Check that the deployment is whole, without touching traffic."""
    from tokenfuse.drill.doctor import run_doctor

    def real() -> Any:
        from tokenfuse.adapters.slack import bot_token_from_secret
        from tokenfuse.drill.wiring import build_doctor, management_session

        deployment = read_deployment(stack_name, region, profile)
        sources = build_doctor(
            deployment,
            management=management_session(management_role),
            slack_token=bot_token_from_secret(deployment.slack_bot_token_secret),
            simulate_as=simulate_as,
            stack_set_region=stack_set_region,
            stack_set_call_as="DELEGATED_ADMIN" if delegated_admin else "SELF",
        )
        return run_doctor(sources)

    def in_sandbox(ground: Any) -> Any:
        return run_doctor(ground.doctor())

    report_on("doctor", stack_name, sandbox, sandbox_fault, json_path, real, in_sandbox)
