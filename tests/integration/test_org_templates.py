"""org/: the member role trusts only tokenfuse's function roles and grants exactly what the inventory
and remediation call; the guard SCP is valid. (cfn-lint runs over org/*.yaml once, in `make lint`.)"""

import json
from pathlib import Path

from tokenfuse_sandbox.template import load_yaml

ROOT = Path(__file__).resolve().parents[2]
ORG = ROOT / "org"


def _statements(role):
    out = []
    for policy in role["Properties"]["Policies"]:
        out.extend(policy["PolicyDocument"]["Statement"])
    return out


def _actions(statement):
    actions = statement["Action"]
    return {actions} if isinstance(actions, str) else set(actions)


def test_member_role_trusts_only_tokenfuse_function_roles():
    role = load_yaml(ORG / "member.yaml")["Resources"]["MemberRole"]
    [trust] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Effect"] == "Allow" and trust["Action"] == "sts:AssumeRole"
    assert trust["Principal"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${ToolingAccountId}:root"}}
    assert trust["Condition"] == {
        "ArnLike": {
            "aws:PrincipalArn": {
                "Fn::Sub": "arn:${AWS::Partition}:iam::${ToolingAccountId}:role/${TrustedRoleNamePattern}"
            }
        }
    }
    params = load_yaml(ORG / "member.yaml")["Parameters"]
    assert params["TrustedRoleNamePattern"]["Default"] == "tokenfuse-*"
    assert params["MemberRoleName"]["Default"] == "tokenfuse-member"


def test_member_role_actions_are_exactly_what_tokenfuse_calls():
    role = load_yaml(ORG / "member.yaml")["Resources"]["MemberRole"]
    allowed = {}
    denied = set()
    for statement in _statements(role):
        for action in _actions(statement):
            if statement["Effect"] == "Allow":
                allowed[action] = statement["Resource"]
            else:
                denied.add(action)
    assert set(allowed) == {
        "bedrock:ListInferenceProfiles", "bedrock:GetInferenceProfile", "bedrock:ListTagsForResource",
        "bedrock:TagResource", "bedrock:UntagResource",
        "cloudwatch:GetMetricData", "cloudwatch:ListMetrics", "cloudwatch:DescribeAlarms",
        "cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms",
        "account:ListRegions",
        "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:GetRolePolicy", "iam:GetRole",
        "lambda:PutFunctionConcurrency", "lambda:DeleteFunctionConcurrency", "lambda:GetFunctionConcurrency",
        "lambda:GetFunctionConfiguration",
        # the fire drill's canaries (tokenfuse.drill), tag-conditioned
        "bedrock:CreateInferenceProfile", "bedrock:DeleteInferenceProfile", "bedrock:InvokeModel",
        "bedrock:GetModelInvocationLoggingConfiguration", "logs:FilterLogEvents",
    }  # fmt: skip
    assert not any("*" in action for action in allowed)
    profile_arn = "arn:${AWS::Partition}:bedrock:*:${AWS::AccountId}:application-inference-profile/*"
    for action in ("bedrock:GetInferenceProfile", "bedrock:TagResource", "bedrock:UntagResource"):
        assert allowed[action] == {"Fn::Sub": profile_arn}
    for action in ("cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms"):
        assert allowed[action] == {
            "Fn::Sub": "arn:${AWS::Partition}:cloudwatch:*:${AWS::AccountId}:alarm:tokenfuse-*"
        }
    # "*" only where the action has no resource-level permissions
    star = {a for a, r in allowed.items() if r == "*"}
    assert star == {
        "bedrock:ListInferenceProfiles", "account:ListRegions",
        "cloudwatch:GetMetricData", "cloudwatch:ListMetrics",
        "bedrock:GetModelInvocationLoggingConfiguration",
    }  # fmt: skip
    assert denied == {"iam:PutRolePolicy", "iam:DeleteRolePolicy"}  # never on itself
    # the drill's rights reach canaries only: every statement on profiles is tag-conditioned
    drill = next(p for p in role["Properties"]["Policies"] if p["PolicyName"] == "tokenfuse-drill")
    for statement in drill["PolicyDocument"]["Statement"]:
        resource = str(statement["Resource"])
        if "application-inference-profile" in resource:
            assert "tokenfuse:drill" in str(statement["Condition"]), statement["Sid"]
        if "foundation-model" in resource and "bedrock:InvokeModel" in _actions(statement):
            assert "bedrock:InferenceProfileArn" in str(statement["Condition"]), statement["Sid"]


def test_member_forwarding_rules_target_the_tokenfuse_bus():
    resources = load_yaml(ORG / "member.yaml")["Resources"]
    alarms = resources["ForwardTokenRateAlarmsRule"]["Properties"]
    assert alarms["EventBusName"] == "default"
    assert alarms["EventPattern"]["source"] == ["aws.cloudwatch"]
    assert alarms["EventPattern"]["detail"]["state"] == {"value": ["ALARM"]}
    assert {"alarmName": [{"prefix": "tokenfuse-"}]} in alarms["EventPattern"]["detail"]["$or"]
    profiles = resources["ForwardProfileChangesRule"]["Properties"]["EventPattern"]
    assert profiles["detail"]["eventName"] == [
        "CreateInferenceProfile", "DeleteInferenceProfile", "TagResource", "UntagResource",
    ]  # fmt: skip
    for rule in ("ForwardTokenRateAlarmsRule", "ForwardProfileChangesRule"):
        [target] = resources[rule]["Properties"]["Targets"]
        assert target["Arn"] == {"Ref": "TokenfuseBusArn"}
    # IAM is global: roles only in the primary region's stack
    assert resources["MemberRole"]["Condition"] == "IsPrimaryRegion"
    assert resources["ForwarderRole"]["Condition"] == "IsPrimaryRegion"


def test_member_rule_patterns_match_what_the_main_template_consumes():
    """The main stack's inventory rule must see what the member forwards (same eventNames)."""
    main = load_yaml(ROOT / "template.yaml")["Resources"]["InventoryFunction"]["Properties"]["Events"]
    main_names = main["ProfileChanged"]["Properties"]["Pattern"]["detail"]["eventName"]
    member = load_yaml(ORG / "member.yaml")["Resources"]["ForwardProfileChangesRule"]["Properties"]
    assert sorted(member["EventPattern"]["detail"]["eventName"]) == sorted(main_names)


def test_management_template():
    resources = load_yaml(ORG / "management.yaml")["Resources"]
    monitor = resources["ServiceAnomalyMonitor"]["Properties"]
    assert (monitor["MonitorType"], monitor["MonitorDimension"]) == ("DIMENSIONAL", "SERVICE")
    subscription = resources["ImmediateAnomalySubscription"]["Properties"]
    assert subscription["Frequency"] == "IMMEDIATE"
    assert subscription["Subscribers"] == [{"Type": "SNS", "Address": {"Ref": "CostAnomalyTopicArn"}}]
    rule = resources["ForwardAnomaliesRule"]["Properties"]
    assert rule["EventPattern"] == {"source": ["aws.ce"], "detail-type": ["Anomaly Detected"]}
    role = resources["BudgetsRole"]
    [trust] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert "aws:PrincipalArn" in trust["Condition"]["ArnLike"]
    actions = set().union(*(_actions(s) for s in _statements(role)))
    assert actions == {"budgets:ViewBudget", "ce:GetCostAndUsage", "ce:ProvideAnomalyFeedback"}


def test_guard_scp_denies_invocation_of_a_placeholder_profile():
    from tokenfuse.adapters.guard_scp import PLACEHOLDER_ARN, empty_document, listed_arns
    from tokenfuse.drill.canary import tag_guard_statement

    policy = json.loads((ORG / "guard-scp.json").read_text())
    assert policy["Version"] == "2012-10-17"
    drill, statement = policy["Statement"]
    assert statement["Effect"] == "Deny"
    assert set(statement["Action"]) == {"bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"}
    assert statement["Resource"] == [PLACEHOLDER_ARN], "an SCP statement cannot have an empty resource list"
    assert ":application-inference-profile/" in PLACEHOLDER_ARN
    # the ARN statement is exactly what remediation writes when nothing is tripped ("no trips"), after
    # the drill's tag-conditioned statement, which denies only canaries (tokenfuse.drill.canary)
    assert statement == empty_document()["Statement"][0]
    assert drill == tag_guard_statement()
    assert listed_arns(policy) == []
    assert len(json.dumps(policy, separators=(",", ":"))) <= 5120  # the SCP size quota


METER_RESOURCES = {
    "MeterCoreLayer",
    "MeterFunctionRole",
    "MeterFunction",
    "MeterInvokeConfig",
    "MeterFunctionLogsPermission",
    "MeterCountersTable",
    "MeterDeadLetterQueue",
    "InvocationLoggingFunctionRole",
    "InvocationLoggingFunction",
    "InvocationLoggingRole",
    "InvocationLogMeterSetup",
}


def test_member_meter_is_deployed_only_with_an_artifact_bucket_and_reads_its_code_from_it():
    member = load_yaml(ORG / "member.yaml")
    resources = member["Resources"]
    assert {lid for lid, r in resources.items() if r.get("Condition") == "HasMeter"} == METER_RESOURCES
    assert member["Conditions"]["HasMeter"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "ArtifactBucketPrefix"}, ""]}]
    }
    assert member["Parameters"]["ArtifactBucketPrefix"]["Default"] == ""
    assert member["Parameters"]["EnableInvocationLogging"]["Default"] == "false"  # opt-in
    bucket = {"Fn::Sub": "${ArtifactBucketPrefix}-${AWS::Region}"}  # Lambda reads code in its own region
    for lid, key in (("MeterFunction", "meter.zip"), ("InvocationLoggingFunction", "invocation-logging.zip")):
        code = resources[lid]["Properties"]["Code"]
        assert code == {"S3Bucket": bucket, "S3Key": {"Fn::Sub": f"${{ArtifactPrefix}}{key}"}}
    assert resources["MeterCoreLayer"]["Properties"]["Content"]["S3Bucket"] == bucket


def test_member_meter_sends_to_tokenfuses_bus_and_may_write_only_its_own_table_and_queue():
    from tokenfuse.meter.wiring import MeterSettings

    resources = load_yaml(ORG / "member.yaml")["Resources"]
    env = resources["MeterFunction"]["Properties"]["Environment"]["Variables"]
    assert env["EVENT_BUS_NAME"] == {"Ref": "TokenfuseBusArn"}
    read = {MeterSettings.variable(name) for name in MeterSettings.model_fields}
    assert {k for k in env if not k.startswith("POWERTOOLS_")} <= read
    [policy] = resources["MeterFunctionRole"]["Properties"]["Policies"]
    by_sid = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    assert by_sid["SpendRateEvents"]["Resource"] == {"Ref": "TokenfuseBusArn"}
    assert by_sid["Counters"]["Resource"] == {"Fn::GetAtt": ["MeterCountersTable", "Arn"]}
    assert by_sid["DeadLetters"]["Resource"] == {"Fn::GetAtt": ["MeterDeadLetterQueue", "Arn"]}
    assert all(
        (s["Effect"] == "Allow" and s["Resource"] != "*") or s["Sid"] == "Baselines" for s in by_sid.values()
    )
    # no failure destination: a failed delivery would hold prompt and completion text
    assert set(resources["MeterInvokeConfig"]["Properties"]) == {
        "FunctionName",
        "Qualifier",
        "MaximumRetryAttempts",
    }


def test_member_and_main_invocation_logging_set_up_take_the_same_properties():
    main = load_yaml(ROOT / "template.yaml")["Resources"]["InvocationLogMeterSetup"]["Properties"]
    member = load_yaml(ORG / "member.yaml")["Resources"]["InvocationLogMeterSetup"]["Properties"]
    assert set(main) == set(member)
