"""The sandbox delivers every kind of event source in template.yaml the way AWS would, checked with
a scripted stand-in handler for every function (tests/fixtures/handlers/scripted_app.py), so the
delivery rules are tested apart from what the real handlers do."""

import json
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from tokenfuse_sandbox import Sandbox

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def sb(project_factory):
    template = project_factory("scripted", handlers="scripted")
    with Sandbox(template) as sandbox:
        yield sandbox


def _new(sb, since):
    return sb.invocations[since:]


def test_account_region_and_resources(sb):
    assert sb.account_id == "111122223333"
    assert (
        sb.resources["IntakeQueue"] == "https://sqs.us-east-1.amazonaws.com/111122223333/tokenfuse-intake-dev"
    )
    assert sb.resources["TokenfuseBus"] == "tokenfuse-dev"
    assert sb.resources["RemediationStateMachine"].startswith(
        "arn:aws:states:us-east-1:111122223333:stateMachine:"
    )
    assert sb.clients["sts"].get_caller_identity()["Account"] == "111122223333"
    tables = sb.clients["dynamodb"].list_tables()["TableNames"]
    assert {"tokenfuse-incidents-dev", "tokenfuse-approvals-dev", "tokenfuse-idempotency-dev"} <= set(tables)
    ttl = sb.clients["dynamodb"].describe_time_to_live(TableName="tokenfuse-incidents-dev")
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires_at"
    assert (
        sb.clients["ssm"]
        .get_parameter(Name="/tokenfuse/dev/teams")["Parameter"]["Value"]
        .startswith("teams:")
    )


def test_function_environment_is_globals_plus_own(sb):
    env = sb.runtime.env_for(sb.runtime.functions["IntakeFunction"])
    assert env["EVENT_BUS_NAME"] == "tokenfuse-dev"  # Globals
    assert env["IDEMPOTENCY_TABLE_NAME"] == "tokenfuse-idempotency-dev"  # the function's own
    assert "BUDGETS_ROLE_ARN" not in env  # !If [HasBudgetsRole, ..., !Ref AWS::NoValue]
    notify = sb.runtime.env_for(sb.runtime.functions["NotifyFunction"])
    assert notify["REMEDIATION_STATE_MACHINE_ARN"] == sb.resources["RemediationStateMachine"]
    assert notify["SLACK_BOT_TOKEN_SECRET_ARN"].startswith(
        "arn:aws:secretsmanager:us-east-1:111122223333:secret:"
    )


def test_sns_to_sqs_to_intake_with_partial_batch_failure_and_redrive(sb):
    since = len(sb.invocations)
    sb.publish("BudgetsTopic", json.dumps({"ok": 1}), subject="AWS Budgets: over")
    sb.publish("CostAnomalyTopic", json.dumps({"fail": True}))
    sb.drain()
    intake = [i for i in _new(sb, since) if i.function == "IntakeFunction"]
    records = [r for i in intake for r in i.event["Records"]]
    first = records[0]
    assert first["eventSource"] == "aws:sqs"
    assert first["eventSourceARN"] == "arn:aws:sqs:us-east-1:111122223333:tokenfuse-intake-dev"
    assert set(first) >= {
        "messageId",
        "receiptHandle",
        "body",
        "attributes",
        "messageAttributes",
        "awsRegion",
    }
    notification = json.loads(first["body"])  # raw delivery off: the body is the SNS notification
    assert notification["Type"] == "Notification"
    assert notification["TopicArn"] == sb.resources["BudgetsTopic"]
    assert notification["Subject"] == "AWS Budgets: over"
    # the failing record is retried until maxReceiveCount (3), then the redrive policy moves it
    failing = [r for r in records if json.loads(json.loads(r["body"])["Message"]).get("fail")]
    assert len(failing) == 3
    assert [r["attributes"]["ApproximateReceiveCount"] for r in failing] == ["1", "2", "3"]
    dlq = sb.queue_messages("IntakeDeadLetterQueue", delete=True)
    assert len(dlq) == 1
    assert json.loads(json.loads(dlq[0]["Body"])["Message"]) == {"fail": True}
    assert sb.queue_messages("IntakeQueue") == []


def test_whole_batch_failure_when_handler_raises(sb):
    since = len(sb.invocations)
    sb.send_to_queue("IntakeQueue", {"raise": True})
    sb.drain()
    attempts = [i for i in _new(sb, since) if i.function == "IntakeFunction"]
    assert len(attempts) == 3
    assert all(i.error["errorType"] == "RuntimeError" for i in attempts)
    assert len(sb.queue_messages("IntakeDeadLetterQueue", delete=True)) == 1


def test_rule_to_function_with_retries_and_on_failure_destination(sb):
    since = len(sb.invocations)
    sb.put_events(
        [{"Source": "tokenfuse.intake", "DetailType": "Spend Signal", "Detail": json.dumps({"fail": True})}],
        bus="TokenfuseBus",
    )
    sb.drain()
    attempts = [i for i in _new(sb, since) if i.function == "AttributeFunction"]
    assert len(attempts) == 3  # EventInvokeConfig.MaximumRetryAttempts: 2
    event = attempts[0].event
    assert event["source"] == "tokenfuse.intake"
    assert event["detail-type"] == "Spend Signal"
    assert event["account"] == "111122223333"
    assert event["region"] == "us-east-1"
    assert "ingestion-time" not in event
    records = sb.queue_messages("AttributeDeadLetterQueue", delete=True)
    assert len(records) == 1
    record = json.loads(records[0]["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["requestContext"]["functionArn"].endswith(":function:tokenfuse-attribute-dev:$LATEST")
    assert record["requestPayload"]["detail"] == {"fail": True}
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorType"] == "ValueError"


def test_rule_routes_only_matching_events(sb):
    since = len(sb.invocations)
    sb.put_events(
        [
            {"Source": "tokenfuse.attribution", "DetailType": "Spike Attributed", "Detail": "{}"},
            {"Source": "tokenfuse.attribution", "DetailType": "Something Else", "Detail": "{}"},
        ],
        bus="TokenfuseBus",
    )
    sb.drain()
    new = _new(sb, since)
    assert [i.function for i in new] == ["NotifyFunction"]
    assert new[0].result["env"] == "tokenfuse-dev"
    types = [e["detail-type"] for e in sb.bus_events[-2:]]
    assert types == ["Spike Attributed", "Something Else"]


def test_cloudtrail_profile_change_reaches_inventory(sb):
    # Minimal real-shaped CloudTrail event (no sample in events/ yet), raised on the default bus and
    # forwarded to tokenfuse's bus by ForwardToTokenfuseBusRule.
    since = len(sb.invocations)
    sb.put_events(
        [
            {
                "source": "aws.bedrock",
                "detail-type": "AWS API Call via CloudTrail",
                "detail": {
                    "eventSource": "bedrock.amazonaws.com",
                    "eventName": "CreateInferenceProfile",
                    "awsRegion": "us-east-1",
                    "requestParameters": {"inferenceProfileName": "x"},
                },
            }
        ]
    )
    sb.drain()
    assert [i.function for i in _new(sb, since)] == ["InventoryFunction"]


def test_schedule_fires_inventory(sb):
    [sched] = [s for s in sb.schedules if s["function"] == "InventoryFunction"]
    assert sched["kind"] == "ScheduleV2"
    assert sched["expression"] == "cron(15 5 * * ? *)"
    [inv] = sb.fire_schedule("InventoryFunction", "DailySweep")
    assert inv.ok and inv.trigger.startswith("schedule:")


def test_function_url_over_real_http(sb):
    url = sb.function_url("ApproveFunction")
    assert url.startswith("http://127.0.0.1:")
    env = sb.runtime.env_for(sb.runtime.functions["ApproveFunction"])
    assert env["APPROVALS_TABLE_NAME"] == "tokenfuse-approvals-dev"
    since = len(sb.invocations)
    request = urllib.request.Request(
        url + "slack/actions?a=1&b=two",
        data=b"payload=%7B%7D",
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Signature": "v0=abc"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201
        assert response.headers["x-stub"] == "yes"
        body = json.loads(response.read())
    assert body == {
        "path": "/slack/actions",
        "query": "a=1&b=two",
        "method": "POST",
        "body": "payload=%7B%7D",
    }
    [inv] = _new(sb, since)
    event = inv.event
    assert event["version"] == "2.0" and event["routeKey"] == "$default"
    assert event["headers"]["x-slack-signature"] == "v0=abc"
    assert event["queryStringParameters"] == {"a": "1", "b": "two"}
    assert event["requestContext"]["http"]["sourceIp"] == "127.0.0.1"
    assert event["isBase64Encoded"] is False
    assert sb.attr("ApproveFunctionUrl", "FunctionUrl") == url


def test_lambda_invoke_through_boto3_runs_the_handler(sb):
    resp = sb.clients["lambda"].invoke(
        FunctionName="tokenfuse-remediate-dev", Payload=json.dumps({"task": "trip"})
    )
    assert "FunctionError" not in resp
    answer = json.loads(resp["Payload"].read())
    assert {k: answer[k] for k in ("tripped", "dry_run")} == {"tripped": None, "dry_run": False}
    assert answer["restore_after"].endswith("Z")
    resp = sb.clients["lambda"].invoke(
        FunctionName=sb.attr("RemediateFunction", "Arn"),
        Payload=json.dumps({"task": "policy", "incident": {"fatal": 1}}),
    )
    assert resp["FunctionError"] == "Unhandled"
    assert json.loads(resp["Payload"].read())["errorType"] == "KeyError"


def test_async_lambda_invoke_is_delivered_on_drain(sb):
    since = len(sb.invocations)
    resp = sb.clients["lambda"].invoke(
        FunctionName="tokenfuse-remediate-dev", InvocationType="Event", Payload=json.dumps({"task": "verify"})
    )
    assert resp["StatusCode"] == 202
    assert _new(sb, since) == []
    sb.drain()
    [inv] = _new(sb, since)
    assert inv.trigger == "lambda:Invoke(Event)" and inv.result == {"still_running": False}


def test_state_machine_retries_transient_error_then_runs_to_audit(sb):
    arn = sb.start_execution(
        "RemediationStateMachine",
        {"incident": {"id": "inc-retry", "transient_failures": 2}},
        name="inc-retry",
    )
    result = sb.wait_execution(arn, timeout=20)
    assert result["status"] == "SUCCEEDED", result
    path = sb.execution_path(arn)
    assert (
        path[0] == "DecidePolicy"
        and path[-4:] == ["Audit", "Closed", "EscalatedOnTheWay", "Done"]
        and "Trip" not in path
    )
    policy_calls = [
        i
        for i in sb.invocations
        if i.event.get("task") == "policy" and i.event["incident"].get("id") == "inc-retry"
    ]
    assert [i.error["errorType"] if i.error else None for i in policy_calls] == [
        "TransientAwsError",
        "TransientAwsError",
        None,
    ]


def test_drain_waits_for_running_executions(sb):
    arn = sb.start_execution(
        "RemediationStateMachine", {"incident": {"id": "inc-drain", "transient_failures": 1}}
    )
    sb.drain()
    assert sb.clients["stepfunctions"].describe_execution(executionArn=arn)["status"] == "SUCCEEDED"


def test_state_machine_catches_other_errors_and_escalates(sb):
    arn = sb.start_execution("RemediationStateMachine", {"incident": {"id": "inc-fatal", "fatal": True}})
    result = sb.wait_execution(arn, timeout=20)
    assert result["status"] == "FAILED"
    path = sb.execution_path(arn)
    assert path == ["DecidePolicy", "Escalate", "AfterEscalate", "RemediationFailed"]  # Catch States.ALL
    escalate = [i for i in sb.invocations if i.event.get("task") == "escalate"][-1]
    assert escalate.event["state"]["error"]["Error"] == "KeyError"


def test_state_machine_waits_for_approval_token(sb):
    handler = sb.runtime.handlers["RemediateFunction"]
    tokens = handler.__globals__["TOKENS"]
    arn = sb.start_execution(
        "RemediationStateMachine", {"incident": {"id": "inc-approve", "mode": "approve"}}
    )
    sb.drain()  # returns while the execution is parked on the task token
    assert sb.clients["stepfunctions"].describe_execution(executionArn=arn)["status"] == "RUNNING"
    sb.clients["stepfunctions"].send_task_success(
        taskToken=tokens["inc-approve"], output=json.dumps({"decision": "decline", "actor": "U123"})
    )
    result = sb.wait_execution(arn, timeout=20)
    assert result["status"] == "SUCCEEDED"
    path = sb.execution_path(arn)
    assert path[:3] == ["DecidePolicy", "ByPolicy", "RequestApproval"]
    assert path[-4:] == ["Audit", "Closed", "EscalatedOnTheWay", "Done"] and "Trip" not in path  # declined


def test_state_machine_approval_times_out(sb):
    arn = sb.start_execution(
        "RemediationStateMachine",
        {"incident": {"id": "inc-timeout", "mode": "approve", "approval_timeout": 1}},
    )
    if sb.clock is not None:  # the time-out counts simulated seconds: nobody answers for one of them
        sb.drain()
        sb.clock.advance(1)
    result = sb.wait_execution(arn, timeout=20)
    assert result["status"] == "SUCCEEDED"
    assert "ApprovalTimedOut" in sb.execution_path(arn)


def test_state_machine_approved_trip_runs_waits_on_the_simulated_clock(sb):
    if sb.clock is None:
        pytest.skip("simulated clock emulation not installed")
    handler = sb.runtime.handlers["RemediateFunction"]
    tokens = handler.__globals__["TOKENS"]
    before = sb.clock.now()
    arn = sb.start_execution("RemediationStateMachine", {"incident": {"id": "inc-trip", "mode": "approve"}})
    sb.drain()
    sb.clients["stepfunctions"].send_task_success(
        taskToken=tokens["inc-trip"], output=json.dumps({"decision": "approve", "actor": "U1"})
    )
    result = sb.wait_execution(arn, timeout=20)
    assert result["status"] == "SUCCEEDED"
    path = sb.execution_path(arn)
    for state in ("RequestApproval", "Trip", "WaitBeforeVerify", "Verify", "Cooldown", "Restore", "Audit"):
        assert state in path
    # the restore comes when the trip said: tripped_at + the cooldown (the verify delay runs inside it)
    assert (sb.clock.now() - before).total_seconds() >= 3600


def test_schedule_fires_when_the_simulated_clock_passes_it(sb):
    if sb.clock is None:
        pytest.skip("simulated clock emulation not installed")
    since = len(sb.invocations)
    now = sb.clock.now()
    next_sweep = now.replace(hour=5, minute=15, second=0, microsecond=0)
    if next_sweep <= now:
        next_sweep += timedelta(days=1)
    sb.clock.advance_to(next_sweep - timedelta(minutes=1))
    sb.drain()
    assert [i for i in _new(sb, since) if i.trigger.startswith("schedule:")] == []
    sb.clock.advance(timedelta(days=1, minutes=2))  # crosses two 05:15: today's and tomorrow's
    sb.drain()
    fired = [i for i in _new(sb, since) if i.trigger.startswith("schedule:")]
    assert [i.function for i in fired if i.function == "InventoryFunction"] == ["InventoryFunction"] * 2
    # the digest function's own schedules (its daily reconciliation at 06:00) run too, without error
    assert all(i.error is None for i in fired if i.function == "DigestFunction")


def test_function_url_response_mapping():
    from tokenfuse_sandbox.function_url import request_event, response_parts

    assert response_parts({"statusCode": 302, "headers": {"location": "/x"}}) == (
        302,
        {"location": "/x"},
        b"",
    )
    assert response_parts({"statusCode": 200, "body": "aGk=", "isBase64Encoded": True})[2] == b"hi"
    assert response_parts({"ok": True}) == (200, {"content-type": "application/json"}, b'{"ok": true}')
    assert response_parts("plain") == (200, {"content-type": "application/json"}, b"plain")
    event = request_event(
        "GET", "/a?x=1&x=2", {"User-Agent": "t", "Cookie": "a=1; b=2"}, b"", "127.0.0.1", "h:1"
    )
    assert event["queryStringParameters"] == {"x": "1,2"}
    assert event["cookies"] == ["a=1", "b=2"] and "cookie" not in event["headers"]
    assert "body" not in event
    binary = request_event("POST", "/", {"Content-Type": "application/octet-stream"}, b"\x00\x01", "ip", "h")
    assert binary["isBase64Encoded"] is True and binary["body"] == "AAE="


def test_sns_notifications_are_stamped_on_the_simulated_clock(sb):
    # Given the simulated clock two days ahead of the wall clock
    sb.clock.advance(timedelta(days=2))
    since = len(sb.invocations)
    # When a Budgets alert is published and delivered
    sb.publish("BudgetsTopic", json.dumps({"ok": 1}), subject="AWS Budgets: over")
    sb.drain()
    # Then the SNS notification in the intake's SQS body carries the simulated time, as AWS's would
    intake = next(i for i in _new(sb, since) if i.function == "IntakeFunction")
    notification = json.loads(intake.event["Records"][0]["body"])
    stamped = datetime.strptime(notification["Timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert abs(stamped - sb.clock.now()) < timedelta(seconds=1)
