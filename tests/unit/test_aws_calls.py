"""The one AWS-call idiom: ``aws_call`` turns botocore's errors into tokenfuse's, keeping AWS's error
code and the operation; adapters read pages through botocore's paginators; regions come from
botocore's own data, read only when needed."""

import json
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    ReadTimeoutError,
)

from tests.support.answering import answering
from tests.support.bus_samples import golden_spike, incident_of
from tokenfuse.adapters import regions
from tokenfuse.adapters.approvals_table import ApprovalsTable
from tokenfuse.adapters.aws import aws_call, error_code, translate
from tokenfuse.adapters.bedrock import get_profile, list_application_profiles
from tokenfuse.adapters.budget_plans import BudgetWriter
from tokenfuse.adapters.email import EmailDeliveryError, EmailSender
from tokenfuse.adapters.incidents_table import IncidentsTable
from tokenfuse.adapters.stepfunctions import TaskCallbacks, TaskNoLongerWaiting
from tokenfuse.errors import (
    AccessDenied,
    AwsError,
    ConditionFailed,
    CredentialsMissing,
    NotFound,
    TokenfuseError,
    TransientAwsError,
)
from tokenfuse.notifications import EmailMessage

ROOT = Path(__file__).resolve().parents[2]
ARN = "arn:aws:bedrock:us-east-1:444455556666:application-inference-profile/x7k2p9q4m1ab"


def client_error(code: str, status: int = 400, operation: str = "TagResource", **extra: Any) -> ClientError:
    response: dict[str, Any] = {
        "Error": {"Code": code, "Message": f"{code} says\nwhy  (over two lines)"},
        "ResponseMetadata": {"HTTPStatusCode": status},
        **extra,
    }
    return ClientError(response, operation)  # type: ignore[arg-type]


# --- translation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "status", "kind"),
    [
        ("ResourceNotFoundException", 404, NotFound),
        ("NoSuchEntity", 404, NotFound),
        ("AccessDeniedException", 403, AccessDenied),
        ("AccessDenied", 403, AccessDenied),
        ("ThrottlingException", 400, TransientAwsError),
        ("TooManyRequestsException", 429, TransientAwsError),
        ("ProvisionedThroughputExceededException", 400, TransientAwsError),
        ("InternalServerException", 500, TransientAwsError),
        ("SomethingNew", 503, TransientAwsError),  # an unknown code: its 5xx status says transient
        ("ConditionalCheckFailedException", 400, ConditionFailed),
        ("ValidationException", 400, AwsError),
        ("ExecutionAlreadyExists", 400, AwsError),
    ],
)
def test_a_client_error_keeps_its_code_and_the_operation(code, status, kind):
    # Given botocore's error for a call
    error = client_error(code, status)
    # When it leaves an aws_call block
    with pytest.raises(AwsError) as raised, aws_call("bedrock:TagResource", resource=ARN):
        raise error
    # Then it is tokenfuse's error of that kind, with AWS's code, the operation and the resource
    translated = raised.value
    assert type(translated) is kind
    assert (translated.code, translated.operation, translated.resource) == (code, "bedrock:TagResource", ARN)
    assert translated.__cause__ is error
    # and one line naming all three, with AWS's message
    assert str(translated) == f"bedrock:TagResource on {ARN}: {code}: {code} says why (over two lines)"


def test_the_request_id_aws_gave_a_refused_call_is_kept():
    refused = client_error("AccessDeniedException", 403)
    refused.response["ResponseMetadata"]["RequestId"] = "5c3f1a52-9d7e-4b0e-8f3a-2a6c1b9e7d40"
    translated = translate(refused, "bedrock:InvokeModel")
    assert translated.request_id == "5c3f1a52-9d7e-4b0e-8f3a-2a6c1b9e7d40"
    assert translate(client_error("AccessDeniedException", 403)).request_id is None
    assert translate(NoCredentialsError(), "sts:GetCallerIdentity").request_id is None


def test_a_call_that_never_got_an_answer_is_transient_under_botocores_name():
    failures = [
        EndpointConnectionError(endpoint_url="https://bedrock.us-east-1.amazonaws.com/"),
        ConnectTimeoutError(endpoint_url="https://bedrock.us-east-1.amazonaws.com/"),
        ReadTimeoutError(endpoint_url="https://bedrock.us-east-1.amazonaws.com/"),
    ]
    for failure in failures:
        translated = translate(failure, "bedrock:TagResource")
        assert type(translated) is TransientAwsError
        assert translated.code == type(failure).__name__ and translated.operation == "bedrock:TagResource"
        assert "\n" not in str(translated)


def test_no_credentials_and_a_bad_parameter_are_not_transient():
    missing = translate(NoCredentialsError(), "sts:GetCallerIdentity")
    assert type(missing) is CredentialsMissing and missing.code == "NoCredentialsError"
    bad = translate(ParamValidationError(report="Invalid length for parameter Name"), "ssm:GetParameter")
    assert type(bad) is AwsError and bad.code == "ParamValidationError"


def test_a_cancelled_transaction_is_what_its_reasons_say():
    def cancelled(*reasons: str) -> ClientError:
        return client_error(
            "TransactionCanceledException", operation="TransactWriteItems",
            CancellationReasons=[{"Code": r} for r in reasons],
        )  # fmt: skip

    assert type(translate(cancelled("ConditionalCheckFailed", "None"))) is ConditionFailed
    assert type(translate(cancelled("None", "TransactionConflict"))) is TransientAwsError
    other = translate(cancelled("ValidationError"))
    assert type(other) is AwsError and other.code == "TransactionCanceledException"


def test_a_call_may_say_what_a_code_means_for_it():
    class TooLate(AwsError):
        pass

    with (
        pytest.raises(TooLate) as raised,
        aws_call("states:SendTaskSuccess", codes={"TaskTimedOut": TooLate}),
    ):
        raise client_error("TaskTimedOut")
    assert raised.value.code == "TaskTimedOut"
    with pytest.raises(NotFound), aws_call("states:SendTaskSuccess", codes={"TaskTimedOut": TooLate}):
        raise client_error("ResourceNotFoundException")


def test_what_is_not_botocores_passes_through_untouched():
    with pytest.raises(KeyError), aws_call("bedrock:TagResource"):
        raise KeyError("tags")
    with pytest.raises(NotFound) as ours, aws_call("bedrock:TagResource"):
        raise NotFound("tokenfuse's own")
    assert ours.value.code is None


def test_the_code_survives_pickling_and_wrapping():
    translated = translate(client_error("AccessDeniedException", 403), "iam:PutRolePolicy", "role/x")
    copy = pickle.loads(pickle.dumps(translated))
    assert (type(copy), copy.code, copy.operation, str(copy)) == (
        AccessDenied, "AccessDeniedException", "iam:PutRolePolicy", str(translated)
    )  # fmt: skip
    # a library that raises its own error while handling botocore's (Powertools' GetParameterError)
    try:
        try:
            raise client_error("ResourceNotFoundException", 400, "GetSecretValue")
        except ClientError as inner:
            raise TokenfuseError(str(inner))  # noqa: B904 - wrapped the way Powertools does
    except TokenfuseError as wrapped:
        assert error_code(wrapped) == "ResourceNotFoundException"
    assert error_code(translated) == "AccessDeniedException"
    assert error_code(ValueError("ResourceNotFoundException")) is None  # text is never read


# --- through real botocore ------------------------------------------------------------------------


JSON = {"Content-Type": "application/json"}
DYNAMO = {"Content-Type": "application/x-amz-json-1.0"}


def test_bedrock_answers_become_tokenfuse_errors_with_their_code():
    # Given Bedrock's real error responses (rest-json: the code in x-amzn-ErrorType)
    denied = {
        **JSON,
        "x-amzn-ErrorType": "AccessDeniedException:http://internal.amazon.com/coral/com.amazon.bedrock/",
    }
    bedrock = answering(
        "bedrock",
        [
            (403, denied, {"message": "User is not authorized to perform: bedrock:GetInferenceProfile"}),
            (404, {**JSON, "x-amzn-ErrorType": "ResourceNotFoundException"}, {"message": "not found"}),
        ],
    )
    # When a profile is read, then each is tokenfuse's error, code and operation kept
    with pytest.raises(AccessDenied) as denial:
        get_profile(bedrock, ARN)
    assert denial.value.code == "AccessDeniedException"
    assert (denial.value.operation, denial.value.resource) == ("bedrock:GetInferenceProfile", ARN)
    with pytest.raises(NotFound) as missing:
        get_profile(bedrock, ARN)
    assert missing.value.code == "ResourceNotFoundException"


BUDGETS = {"Content-Type": "application/x-amz-json-1.1"}
BUDGET_REQUEST = {
    "AccountId": "111122223333",
    "Budget": {
        "BudgetName": "tokenfuse-search", "BudgetType": "COST", "TimeUnit": "MONTHLY",
        "BudgetLimit": {"Amount": "1200.00", "Unit": "USD"},
    },
}  # fmt: skip


def test_a_budget_that_exists_is_updated_by_its_error_code():
    # Given Budgets' real answer to CreateBudget for a name it holds, then UpdateBudget's
    duplicate = {"__type": "DuplicateRecordException", "Message": "the budget already exists"}
    budgets = answering("budgets", [(400, BUDGETS, duplicate), (200, BUDGETS, {})])
    # When the plan is applied, then the budget's limit is updated, the second call an UpdateBudget
    assert BudgetWriter(budgets).apply(BUDGET_REQUEST) == "updated"
    assert json.loads(budgets.sent[1]["body"])["NewBudget"]["BudgetLimit"]["Amount"] == "1200.00"


def test_a_budget_refused_otherwise_is_tokenfuses_error_naming_the_budget():
    denied = {"__type": "AccessDeniedException", "Message": "not authorized to perform budgets:ModifyBudget"}
    budgets = answering("budgets", [(400, BUDGETS, denied)])
    with pytest.raises(AccessDenied) as refused:
        BudgetWriter(budgets).apply(BUDGET_REQUEST)
    assert (refused.value.code, refused.value.operation) == ("AccessDeniedException", "budgets:CreateBudget")
    assert refused.value.resource == "tokenfuse-search" and len(budgets.sent) == 1


def test_ses_refusing_the_message_is_an_email_delivery_error_with_sess_code():
    # Given SES's real (query protocol, XML) refusal of an unverified sender
    rejected = (
        b'<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><Error><Type>Sender</Type>'
        b"<Code>MessageRejected</Code><Message>Email address is not verified.</Message></Error>"
        b"<RequestId>4c1f5a2e-0d7b-4f39-9a51-5b3c1d2e6f70</RequestId></ErrorResponse>"
    )
    ses = answering("ses", [(400, {"Content-Type": "text/xml"}, rejected)])
    # When an alert is sent, then the refusal keeps SES's code and the operation
    message = EmailMessage("[tokenfuse] spike", "text", "<p>text</p>")
    with pytest.raises(EmailDeliveryError) as refused:
        EmailSender("tokenfuse@example.com", ses).send(["team@example.com"], message)
    assert (refused.value.code, refused.value.operation) == ("MessageRejected", "ses:SendEmail")


def _summary(profile_id: str) -> dict[str, Any]:
    return {
        "inferenceProfileName": profile_id, "inferenceProfileId": profile_id, "status": "ACTIVE",
        "inferenceProfileArn": ARN.replace("x7k2p9q4m1ab", profile_id), "type": "APPLICATION",
        "models": [{"modelArn": "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0"}],
    }  # fmt: skip


def test_application_profiles_are_read_through_botocores_paginator():
    # Given two pages of ListInferenceProfiles
    bedrock = answering(
        "bedrock",
        [
            (200, JSON, {"inferenceProfileSummaries": [_summary("p1"), _summary("p2")], "nextToken": "t2"}),
            (200, JSON, {"inferenceProfileSummaries": [_summary("p3")]}),
        ],
    )
    # When they are listed, then every profile comes back, the second request naming the token
    assert [p.profile_id for p in list_application_profiles(bedrock, page_size=2)] == ["p1", "p2", "p3"]
    first, second = (request["url"] for request in bedrock.sent)
    assert "type=APPLICATION" in first and "maxResults=2" in first and "nextToken" not in first
    assert "nextToken=t2" in second


def test_a_failed_condition_in_dynamodb_is_condition_failed():
    # Given DynamoDB's real answers to a conditional put and to a transaction one of whose
    # conditions failed
    failed_put = {
        "__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
        "message": "The conditional request failed",
    }
    cancelled = {
        "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        "Message": "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[ConditionalCheckFailed, None]",
        "CancellationReasons": [{"Code": "ConditionalCheckFailed"}, {"Code": "None"}],
    }
    dynamodb = answering("dynamodb", [(400, DYNAMO, failed_put), (400, DYNAMO, cancelled)])
    # When a duplicate approval id is put, then the table says so
    with pytest.raises(ConditionFailed) as duplicate:
        ApprovalsTable("approvals", dynamodb).put_approval("abc", {"status": "pending"})
    assert duplicate.value.code == "ConditionalCheckFailedException"
    assert "approval id abc already exists" in str(duplicate.value)
    assert json.loads(dynamodb.sent[0]["body"])["ConditionExpression"] == "attribute_not_exists(pk)"
    # And a lost race to open an incident answers False, not an error
    assert IncidentsTable("incidents", dynamodb).open(incident_of(golden_spike()), None) is False


def test_a_click_after_the_task_ended_is_task_no_longer_waiting():
    answer = {"__type": "com.amazonaws.swf.service.v2.model#TaskTimedOut", "message": "Task Timed Out"}
    sfn = answering("stepfunctions", [(400, DYNAMO, answer)])
    with pytest.raises(TaskNoLongerWaiting) as late:
        TaskCallbacks(sfn).succeed("token", {"decision": "approve"})
    assert (late.value.code, late.value.operation) == ("TaskTimedOut", "states:SendTaskSuccess")


# --- regions from botocore's data -----------------------------------------------------------------

HAND_TABLE_OF_2026 = [
    "us-east-1", "us-east-2", "us-west-2", "ca-central-1", "sa-east-1", "eu-central-1", "eu-central-2",
    "eu-west-1", "eu-west-2", "eu-west-3", "eu-north-1", "eu-south-1", "eu-south-2", "ap-northeast-1",
    "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2",
]  # fmt: skip
"""The sweep list tokenfuse kept by hand until botocore's data replaced it."""


def test_bedrock_regions_are_botocores_and_cover_the_old_hand_table():
    found = regions.bedrock_regions()
    endpoints = json.loads((Path(boto3.__file__).parents[1] / "botocore/data/endpoints.json").read_text())
    (aws,) = [p for p in endpoints["partitions"] if p["partition"] == "aws"]
    assert set(found) <= set(aws["services"]["bedrock"]["endpoints"])
    assert set(HAND_TABLE_OF_2026) <= set(found)
    assert all(r.count("-") == 2 and not r.startswith(("cn-", "us-gov-")) for r in found)
    assert list(found) == sorted(found)


@pytest.mark.parametrize(
    ("name", "code"),
    [
        # as real alarm notifications write them (SNS "Region"), and as botocore describes them
        ("US East (N. Virginia)", "us-east-1"),
        ("EU (Ireland)", "eu-west-1"),
        ("Europe (Ireland)", "eu-west-1"),
        ("EU (Frankfurt)", "eu-central-1"),
        ("South America (Sao Paulo)", "sa-east-1"),
        ("Asia Pacific (Tokyo)", "ap-northeast-1"),
        ("AWS GovCloud (US-West)", "us-gov-west-1"),
        ("China (Beijing)", "cn-north-1"),
        ("aws global region", None),
        ("Mars (Olympus Mons)", None),
        ("", None),
    ],
)
def test_region_names_read_both_ways(name, code):
    assert regions.region_code(name) == code


def test_an_alarm_notification_without_its_arn_is_placed_by_the_region_name():
    from datetime import UTC, datetime

    from tokenfuse.signals import alarms

    message = json.loads(
        json.loads((ROOT / "events/alarm-sns.json").read_text())["Records"][0]["Sns"]["Message"]
    )
    message.pop("AlarmArn")
    message["Region"] = "EU (Ireland)"
    signal = alarms.from_sns(message, received_at=datetime(2026, 11, 26, 18, tzinfo=UTC), raw_source="sns")
    assert signal.region == "eu-west-1"


def test_no_handler_reads_botocores_region_data_at_import():
    # Given a fresh interpreter, as a cold Lambda container
    script = "\n".join(
        [
            "import importlib.util, sys",
            "for name in ('intake', 'attribute', 'notify', 'remediate', 'approve', 'inventory'):",
            f"    path = {str(ROOT)!r} + f'/functions/{{name}}/app.py'",
            "    spec = importlib.util.spec_from_file_location(f'{name}_app', path)",
            "    spec.loader.exec_module(importlib.util.module_from_spec(spec))",
            "print(sorted(m for m in sys.modules if m.startswith('tokenfuse.adapters.regions')))",
            "import tokenfuse.signals.alarms",
            "print('tokenfuse.adapters.regions' in sys.modules)",
        ]
    )
    paths = [str(ROOT / p) for p in ("layers/core", "sandbox", "cli", ".")]
    env = {"PYTHONPATH": ":".join(paths), "PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1"}
    # When every handler module is imported
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    # Then none of them loaded the regions module, nor does the alarm parser at import
    imported, alarms_loaded = out.stdout.splitlines()
    assert "tokenfuse.adapters.regions" not in imported
    assert alarms_loaded == "False"
