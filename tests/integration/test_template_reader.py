"""The template reader: CloudFormation short tags, intrinsics, Conditions, parameters and SAM Globals,
on the real template.yaml and on small snippets."""

import json
from pathlib import Path

import pytest
import yaml

from tokenfuse_sandbox.template import NO_VALUE, CfnLoader, Physical, Template, TemplateError

ROOT = Path(__file__).resolve().parents[2]


def _fake_physical(lid: str) -> Physical:
    attrs = {"Arn": f"arn:{lid}", "Name": f"name-{lid}", "QueueName": f"q-{lid}", "FunctionUrl": f"url-{lid}"}
    return Physical(lid, "X", f"ref-{lid}", attrs)


@pytest.fixture
def template() -> Template:
    t = Template(ROOT / "template.yaml")
    t.physical = _fake_physical
    return t


def test_short_tags_load_as_long_forms():
    text = """
a: !Ref X
b: !GetAtt Res.Arn
c: !Sub "x-${Stage}"
d: !Sub ["${A}-${B}", {A: !Ref X, B: b}]
e: !If [Cond, !Ref X, !Ref "AWS::NoValue"]
f: !Equals [!Ref X, ""]
g: !Not [!Condition C]
h: !Select [0, !Split [",", "a,b"]]
i: !Join ["-", [a, b]]
j: !FindInMap [M, k, v]
k: !And [!Equals [a, a], !Or [!Equals [a, b], !Equals [b, b]]]
"""
    data = yaml.load(text, Loader=CfnLoader)
    assert data["a"] == {"Ref": "X"}
    assert data["b"] == {"Fn::GetAtt": ["Res", "Arn"]}
    assert data["c"] == {"Fn::Sub": "x-${Stage}"}
    assert data["d"] == {"Fn::Sub": ["${A}-${B}", {"A": {"Ref": "X"}, "B": "b"}]}
    assert data["e"] == {"Fn::If": ["Cond", {"Ref": "X"}, {"Ref": "AWS::NoValue"}]}
    assert data["g"] == {"Fn::Not": [{"Condition": "C"}]}
    assert data["h"] == {"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]}
    assert data["j"] == {"Fn::FindInMap": ["M", "k", "v"]}
    assert set(data["k"]) == {"Fn::And"}


def test_intrinsics_resolve(template):
    r = template.resolve
    assert r({"Fn::Sub": "tokenfuse-${Stage}-${AWS::Region}"}) == "tokenfuse-dev-us-east-1"
    assert r({"Fn::Sub": ["${A}/${IntakeQueue.Arn}", {"A": {"Ref": "Stage"}}]}) == "dev/arn:IntakeQueue"
    assert r({"Fn::Sub": "${!Literal}"}) == "${Literal}"
    assert r({"Fn::GetAtt": ["IntakeQueue", "Arn"]}) == "arn:IntakeQueue"
    assert r({"Ref": "AWS::AccountId"}) == "111122223333"
    assert r({"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]}) == "b"
    assert r({"Fn::Join": ["-", ["a", {"Ref": "Stage"}]]}) == "a-dev"
    assert r({"Fn::If": ["IsProd", 400, 30]}) == 30
    assert r([{"Fn::If": ["HasBudgetsRole", "x", {"Ref": "AWS::NoValue"}]}, "y"]) == ["y"]
    assert r({"k": {"Ref": "AWS::NoValue"}, "j": 1}) == {"j": 1}
    assert r({"Ref": "AWS::NoValue"}) is NO_VALUE


def test_conditions_and_parameter_overrides():
    t = Template(
        ROOT / "template.yaml", {"Stage": "prod", "BudgetsRoleArn": "arn:aws:iam::123456789012:role/r"}
    )
    assert t.condition("IsProd") is True
    assert t.condition("HasBudgetsRole") is True
    assert t.condition("HasOrganization") is False
    with pytest.raises(TemplateError, match="not one of"):
        Template(ROOT / "template.yaml", {"Stage": "qa"})
    with pytest.raises(TemplateError, match="does not match"):
        Template(ROOT / "template.yaml", {"ManagementAccountId": "12"})
    with pytest.raises(TemplateError, match="not declared"):
        Template(ROOT / "template.yaml", {"NoSuchParameter": "x"})


def test_globals_apply_to_every_function(template):
    for lid in template.of_type("AWS::Serverless::Function"):
        props = template.function_properties(lid)
        env = template.resolve(props["Environment"]["Variables"], lid)
        assert env["POWERTOOLS_SERVICE_NAME"] == "tokenfuse"
        assert env["EVENT_BUS_NAME"] == "ref-TokenfuseBus"
        assert props["Runtime"] == "python3.13"
        assert template.resolve(props["Layers"], lid)[0] == "ref-CoreLayer"
        assert "Timeout" in props
    intake = template.function_properties("IntakeFunction")
    assert (
        template.resolve(intake["Environment"]["Variables"])["IDEMPOTENCY_TABLE_NAME"]
        == "ref-IdempotencyTable"
    )
    attribute = template.function_properties("AttributeFunction")
    assert attribute["Timeout"] == 120 and attribute["MemorySize"] == 1024  # own values win


def test_errors_name_the_place(template):
    with pytest.raises(TemplateError, match=r"Resources\.X\.Y.*'Missing'"):
        template.resolve({"Ref": "Missing"}, "Resources.X.Y")
    with pytest.raises(TemplateError, match="no attribute 'Nope'"):
        template.resolve({"Fn::GetAtt": ["IntakeQueue", "Nope"]}, "here")
    with pytest.raises(TemplateError, match="not a parameter or resource"):
        template.resolve({"Fn::Sub": "${Nowhere}"}, "here")
    with pytest.raises(TemplateError, match="Condition"):
        template.resolve({"Ref": "TokenfuseBusOrgPolicy"}, "here")  # HasOrganization is false


def test_state_machine_substitution(template):
    text = template.state_machine_definition("RemediationStateMachine")
    definition = json.loads(text)
    assert "${" not in text
    assert definition["States"]["DecidePolicy"]["Parameters"]["FunctionName"] == "arn:RemediateFunction"


def test_state_machine_substitution_errors(tmp_path):
    (tmp_path / "sm.json").write_text(
        json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": "${X}", "End": True}}})
    )
    (tmp_path / "template.yaml").write_text(
        "Resources:\n  SM:\n    Type: AWS::Serverless::StateMachine\n    Properties:\n"
        "      DefinitionUri: sm.json\n      DefinitionSubstitutions:\n        Y: 'y'\n"
    )
    t = Template(tmp_path / "template.yaml")
    t.physical = _fake_physical
    with pytest.raises(TemplateError, match=r"uses \$\{X\} but DefinitionSubstitutions gives only \['Y'\]"):
        t.state_machine_definition("SM")


def test_schedule_fire_times():
    from datetime import UTC, datetime

    from tokenfuse_sandbox.delivery import fire_times

    start, end = (
        datetime(2026, 11, 27, tzinfo=UTC),
        datetime(2026, 11, 29, tzinfo=UTC),
    )  # Fri 00:00 -> Sun 00:00
    assert [t.day for t in fire_times("cron(15 5 * * ? *)", start, end)] == [27, 28]
    assert fire_times("cron(0 9 ? * MON-FRI *)", start, end) == [datetime(2026, 11, 27, 9, tzinfo=UTC)]
    assert len(fire_times("rate(12 hours)", start, end)) == 4
    assert len(fire_times("rate(1 day)", start, end)) == 2
    with pytest.raises(ValueError, match="not supported"):
        fire_times("cron(0 12 L * ? *)", start, end)
