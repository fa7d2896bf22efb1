"""The member template deploys the fast path without touching what a member account had already
(issue 13): ``org/member.yaml`` as the StackSet, with ``EnableInvocationLogging=true``, into an
organization where one account and region already logs model invocations to a log group of its
own (with text delivery on) and another logs to S3 only. Each configuration is read back after the
deployment and compared with what it was; the custom resource's answers say what was found."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from tokenfuse.adapters.aws import MemberSessions
from tokenfuse_sandbox.core import Sandbox
from tokenfuse_sandbox.member_stacks import MemberStacks, meter_parameters
from tokenfuse_sandbox.story import org as org_mod
from tokenfuse_sandbox.story.timeline import HISTORY_START

# one worker builds the module's sandbox once for all its tests
pytestmark = pytest.mark.xdist_group("test_member_logging_setup")

PROD, DEV = (account.account_id for account in org_mod.ACCOUNTS)
OWN_GROUP = "/acme/bedrock/invocations"
S3_ONLY: dict[str, Any] = {
    "s3Config": {"bucketName": "acme-bedrock-logs", "keyPrefix": "invocations/"},
    "textDataDeliveryEnabled": True,
}
SETUP = "InvocationLogMeterSetup"


def _own_cloudwatch_logging(account_id: str) -> dict[str, Any]:
    return {
        "cloudWatchConfig": {
            "logGroupName": OWN_GROUP,
            "roleArn": f"arn:aws:iam::{account_id}:role/acme-bedrock-logging",
        },
        "textDataDeliveryEnabled": True,
        "imageDataDeliveryEnabled": False,
        "embeddingDataDeliveryEnabled": False,
    }


def _logging(sessions: MemberSessions, account_id: str, region: str) -> dict[str, Any]:
    answer = sessions.client("bedrock", account_id, region).get_model_invocation_logging_configuration()
    return dict(answer.get("loggingConfig") or {})


def _what_the_accounts_had(sessions: MemberSessions) -> None:
    sessions.client("logs", PROD, "us-east-1").create_log_group(logGroupName=OWN_GROUP)
    sessions.client("bedrock", PROD, "us-east-1").put_model_invocation_logging_configuration(
        loggingConfig=_own_cloudwatch_logging(PROD)  # type: ignore[arg-type]
    )
    sessions.client("bedrock", PROD, "us-west-2").put_model_invocation_logging_configuration(
        loggingConfig=S3_ONLY  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def deployed() -> Iterator[tuple[MemberStacks, MemberSessions]]:
    with Sandbox(
        clock_start=HISTORY_START - timedelta(hours=1),
        fire_schedules=False,
        function_urls=False,
        **org_mod.sandbox_settings("auto"),
    ) as sb:
        org, sessions = org_mod.seed(
            sb,
            member_parameters=meter_parameters(enable_logging=True),
            accounts_own_setup=_what_the_accounts_had,
        )
        assert org.member_stacks is not None
        yield org.member_stacks, sessions


def test_an_account_logging_to_its_own_group_keeps_its_configuration_and_is_metered_there(deployed) -> None:
    stacks, sessions = deployed
    assert _logging(sessions, PROD, "us-east-1") == _own_cloudwatch_logging(PROD)
    reason = stacks.answer(PROD, "us-east-1", SETUP).reason
    assert f"already on to {OWN_GROUP}: configuration left as it is" in reason
    filters = sessions.client("logs", PROD, "us-east-1").describe_subscription_filters(logGroupName=OWN_GROUP)
    (meter,) = filters["subscriptionFilters"]
    assert meter["destinationArn"].startswith(f"arn:aws:lambda:us-east-1:{PROD}:function:")
    assert "meter" in meter["destinationArn"]


def test_an_s3_only_account_is_left_untouched_and_reported(deployed) -> None:
    stacks, sessions = deployed
    assert _logging(sessions, PROD, "us-west-2") == S3_ONLY
    reason = stacks.answer(PROD, "us-west-2", SETUP).reason
    assert "S3 only" in reason and "left untouched" in reason


@pytest.mark.parametrize("region", org_mod.REGIONS)
def test_an_account_with_logging_off_has_it_turned_on_without_text(deployed, region: str) -> None:
    stacks, sessions = deployed
    config = _logging(sessions, DEV, region)
    assert config["cloudWatchConfig"]["logGroupName"] == "/aws/bedrock/modelinvocations"
    assert config.get("textDataDeliveryEnabled") is False
    assert "s3Config" not in config
    assert "was off: turned on" in stacks.answer(DEV, region, SETUP).reason
