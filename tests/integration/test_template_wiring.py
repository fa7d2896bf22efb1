"""A wiring mistake in template.yaml (or the ASL behind it) fails loudly when the sandbox reads it:
each test mutates a copy of the real template and expects a clear TemplateError."""

import json
from pathlib import Path

import pytest

from tokenfuse.events import BUS_SOURCES, DETAIL_TYPES
from tokenfuse_sandbox import Sandbox, TemplateError

INTAKE_HANDLER = "CodeUri: functions/intake/\n      Handler: app.lambda_handler"


def _start(template, **kwargs):
    with Sandbox(template, **kwargs):
        pass


@pytest.mark.parametrize(
    ("replace", "message"),
    [
        (
            [(INTAKE_HANDLER, "CodeUri: functions/intake/\n      Handler: app.handler")],
            "has no callable 'handler'",
        ),
        (
            [(INTAKE_HANDLER, "CodeUri: functions/intake/\n      Handler: main.lambda_handler")],
            "main.py, which does not exist",
        ),
        (
            [(INTAKE_HANDLER, "CodeUri: functions/intak/\n      Handler: app.lambda_handler")],
            "is not a folder",
        ),
    ],
    ids=["handler-function", "handler-module", "code-uri"],
)
def test_wrong_handler_fails(project_factory, replace, message):
    template = project_factory("bad-handler", handlers="scripted", replace=replace)
    with pytest.raises(TemplateError, match=message):
        _start(template, function_urls=False)


def test_ref_to_missing_resource_fails(project_factory):
    template = project_factory(
        "bad-ref",
        handlers="scripted",
        replace=[
            ("IDEMPOTENCY_TABLE_NAME: !Ref IdempotencyTable", "IDEMPOTENCY_TABLE_NAME: !Ref IdempotencyTabel")
        ],
    )
    with pytest.raises(
        TemplateError, match=r"IntakeFunction.*'IdempotencyTabel', which is not a parameter or resource"
    ):
        _start(template, load_handlers=False, function_urls=False)


def test_unknown_attribute_fails(project_factory):
    template = project_factory(
        "bad-getatt",
        handlers="scripted",
        replace=[("Queue: !GetAtt IntakeQueue.Arn", "Queue: !GetAtt IntakeQueue.QueueArn")],
    )
    with pytest.raises(TemplateError, match=r"IntakeQueue .* has no attribute 'QueueArn'"):
        _start(template, load_handlers=False, function_urls=False)


def test_missing_definition_substitution_fails(project_factory):
    template = project_factory(
        "bad-substitution",
        handlers="scripted",
        replace=[("        RemediateFunctionArn: !GetAtt RemediateFunction.Arn\n", "")],
    )
    with pytest.raises(TemplateError, match=r"uses \$\{RemediateFunctionArn\} but DefinitionSubstitutions"):
        _start(template, load_handlers=False, function_urls=False)


def test_unknown_variable_in_asl_fails(project_factory):
    template = project_factory(
        "bad-asl-variable",
        handlers="scripted",
        asl_replace=[
            ('"FunctionName": "${RemediateFunctionArn}"', '"FunctionName": "${RemediateFunctionName}"')
        ],
    )
    with pytest.raises(TemplateError, match=r"\$\{RemediateFunctionName\}"):
        _start(template, load_handlers=False, function_urls=False)


def test_definition_moto_refuses_fails(project_factory):
    template = project_factory(
        "bad-asl", handlers="scripted", asl_replace=[('"Type": "Choice"', '"Type": "Choise"')]
    )
    with pytest.raises(TemplateError, match="Step Functions refused the definition"):
        _start(template, load_handlers=False, function_urls=False)


def test_transition_to_missing_state_fails(project_factory):
    # Step Functions refuses this at create time (MISSING_TRANSITION_TARGET); moto's parser does not,
    # so the sandbox checks it.
    template = project_factory(
        "bad-transition", handlers="scripted", asl_replace=[('"Next": "ByPolicy"', '"Next": "ByPolicyy"')]
    )
    with pytest.raises(TemplateError, match=r"DecidePolicy.Next names 'ByPolicyy', which is not a state"):
        _start(template, load_handlers=False, function_urls=False)


def test_sqs_event_on_a_queue_not_in_the_template_fails(project_factory):
    template = project_factory(
        "bad-queue",
        handlers="scripted",
        replace=[("Queue: !GetAtt IntakeQueue.Arn", "Queue: arn:aws:sqs:us-east-1:111122223333:elsewhere")],
    )
    with pytest.raises(TemplateError, match="no queue in the template has ARN"):
        _start(template, load_handlers=False, function_urls=False)


def test_a_rule_pattern_that_matches_no_sample_is_caught(project_factory):
    template = project_factory(
        "bad-pattern",
        handlers="scripted",
        replace=[("        detail-type: [Anomaly Detected]\n", "        detail-type: [Anomaly Detectd]\n")],
    )
    events_dir = Path(__file__).resolve().parents[2] / "events"
    samples = [json.loads(p.read_text()) for p in sorted(events_dir.glob("*.json"))]
    events = [s for s in samples if "detail-type" in s]
    events += [
        {
            "source": "aws.bedrock",
            "detail-type": "AWS API Call via CloudTrail",
            "detail": {"eventSource": "bedrock.amazonaws.com", "eventName": "TagResource"},
        },
    ]
    events += [{"source": BUS_SOURCES[m], "detail-type": DETAIL_TYPES[m], "detail": {}} for m in DETAIL_TYPES]
    with Sandbox(template, function_urls=False, load_handlers=False) as sb:
        assert sb.unmatched_rules(events) == ["tokenfuse-sandbox-CostAnomalyEventRule"]


def test_the_sandbox_leaves_the_process_as_it_found_it(project_factory):
    import os

    from moto.awslambda_simple.models import LambdaSimpleBackend
    from moto.events.models import EventsBackend

    from tokenfuse import clock

    env = dict(os.environ)
    invoke, put_events = LambdaSimpleBackend.invoke, EventsBackend.put_events
    template = project_factory("clean-exit", handlers="scripted")
    with Sandbox(template, function_urls=False) as sb:
        assert os.environ["MOTO_ACCOUNT_ID"] == "111122223333"
        assert clock.now() == sb.clock.now()
    assert dict(os.environ) == env
    assert (LambdaSimpleBackend.invoke, EventsBackend.put_events) == (invoke, put_events)
    sb.clock.advance(3600)
    assert abs((clock.now() - sb.clock.now()).total_seconds()) > 3000  # back on the wall clock
    assert sb.runtime.closed
