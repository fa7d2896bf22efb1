"""The remediation stage's Block Kit, rendered by slack_sdk (which checks Slack's limits): the
approval request, a detach's Restore reply and a plain thread reply, for ordinary and hostile
values alike."""

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from slack_sdk.models.blocks import ActionsBlock, ButtonElement, SectionBlock

from tests.fault_injection.contract_walk import policy_decision, remediation_incident
from tests.support.adversarial import HOSTILE_STRINGS, unicode_text
from tokenfuse.adapters.slack import SlackMessage
from tokenfuse.remediation.blocks import (
    approval_blocks,
    parse_button_value,
    parse_restore_value,
    rendered,
    restore_blocks,
    section,
)
from tokenfuse.remediation.channels import SlackChat

ARN = "arn:aws:bedrock:us-east-1:111111111111:application-inference-profile/abc123def456"
DEADLINE = datetime(2026, 11, 27, 3, 15, tzinfo=UTC)
SECTION_LIMIT, LABEL_LIMIT, VALUE_LIMIT = 3000, 75, 2000  # Slack's, as its Block Kit reference gives them


def _buttons(blocks: list[dict]) -> list[dict]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def test_the_approval_request_is_a_section_and_three_buttons_carrying_only_id_and_choice():
    blocks = approval_blocks(
        remediation_incident(), policy_decision(), "Abc123_-xy", ["U0ALICE001"], DEADLINE
    )
    assert [type(b) for b in blocks] == [SectionBlock, ActionsBlock]
    out = rendered(blocks)
    text = out[0]["text"]
    assert text["type"] == "mrkdwn"
    assert text["text"] == (
        ":rotating_light: *Block `search-answers` for 30 min?* (output-runaway, high) at $120.00/h vs "
        "$6.00/h baseline.\nApprovers: <@U0ALICE001>. Without a decision by "
        "<!date^1795749300^{time}|2026-11-27T03:15:00Z> tokenfuse will take no action and tell FinOps."
    )
    assert out[1]["block_id"] == "tokenfuse_approval_Abc123_-xy"
    buttons = _buttons(out)
    assert [(b["action_id"], b["value"], b["text"]["text"], b.get("style")) for b in buttons] == [
        ("tokenfuse_approval_approve", "Abc123_-xy:approve", "Block for 30 min", "danger"),
        ("tokenfuse_approval_decline", "Abc123_-xy:decline", "Decline", None),
        ("tokenfuse_approval_snooze", "Abc123_-xy:snooze", "Snooze 10 min", None),
    ]
    assert all(b["text"]["type"] == "plain_text" for b in buttons)
    assert [parse_button_value(b["value"]) for b in buttons] == [
        ("Abc123_-xy", "approve"),
        ("Abc123_-xy", "decline"),
        ("Abc123_-xy", "snooze"),
    ]


def test_an_approval_with_a_trip_by_default_says_so():
    out = rendered(
        approval_blocks(
            remediation_incident(), policy_decision(on_timeout="trip"), "Abc123_-xy", [], DEADLINE
        )
    )
    assert "Approvers: FinOps on-call." in out[0]["text"]["text"]
    assert "tokenfuse will block it for 30 min and tell FinOps." in out[0]["text"]["text"]


def test_a_request_with_hundreds_of_approvers_is_clipped_inside_slacks_limit_and_says_so():
    approvers = [f"U{n:09d}" for n in range(400)]  # 400 mentions: ~6,000 characters
    out = rendered(
        approval_blocks(remediation_incident(), policy_decision(), "Abc123_-xy", approvers, DEADLINE)
    )
    text = out[0]["text"]["text"]
    assert len(text) == SECTION_LIMIT and text.endswith(" …")


@given(name=unicode_text, kind_of_text=st.sampled_from(HOSTILE_STRINGS))
def test_any_profile_name_renders(name, kind_of_text):
    blocks = approval_blocks(
        remediation_incident(profile_name=(name + kind_of_text)[:256]),
        policy_decision(),
        "Abc123_-xy",
        ["U0ALICE001"],
        DEADLINE,
    )
    out = rendered(blocks)  # slack_sdk raises SlackObjectFormationError past any limit
    assert len(out[0]["text"]["text"]) <= SECTION_LIMIT
    for button in _buttons(out):
        assert len(button["text"]["text"]) <= LABEL_LIMIT and len(button["value"]) <= VALUE_LIMIT


def test_a_detach_reply_carries_a_restore_button_with_the_arn_only_and_a_confirmation():
    out = rendered(restore_blocks("Tripped (detach): ...", ARN))
    assert out[0] == {"type": "section", "text": {"type": "mrkdwn", "text": "Tripped (detach): ..."}}
    (button,) = _buttons(out)
    assert button["action_id"] == "tokenfuse_restore" and button["style"] == "primary"
    assert button["value"] == f"restore:{ARN}" and parse_restore_value(button["value"]) == ARN
    assert button["text"]["text"] == "Restore"
    assert button["confirm"]["title"]["text"] == "Restore this profile?"
    assert button["confirm"]["text"] == {
        "type": "mrkdwn",
        "text": "tokenfuse puts back what the trip changed.",
    }
    assert (button["confirm"]["confirm"]["text"], button["confirm"]["deny"]["text"]) == ("Restore", "Cancel")


@pytest.mark.parametrize("length", [0, 1, SECTION_LIMIT, SECTION_LIMIT + 1, 40_000])
def test_a_section_never_exceeds_slacks_limit(length):
    text = "x" * length if length else " "
    out = section(text).to_dict()
    assert len(out["text"]["text"]) == min(length or 1, SECTION_LIMIT)
    if length > SECTION_LIMIT:
        assert out["text"]["text"].endswith(" …")


class FakeSender:
    def __init__(self) -> None:
        self.sent: list[tuple[str, SlackMessage, str | None]] = []

    def post(self, channel: str, message: SlackMessage, thread_ts: str | None) -> object:
        self.sent.append((channel, message, thread_ts))
        return type("Posted", (), {"ts": "1.1"})()


def test_a_plain_thread_reply_is_one_section_of_its_text_and_keeps_the_whole_text_as_fallback():
    sender = FakeSender()
    long = "Restored: " + "x" * 4000
    assert SlackChat(sender).post("C0SEARCH01", long, thread_ts="100.1") == "1.1"  # type: ignore[arg-type]
    ((channel, message, thread_ts),) = sender.sent
    assert (channel, thread_ts, message.text) == ("C0SEARCH01", "100.1", long)
    assert len(message.blocks) == 1 and len(message.blocks[0]["text"]["text"]) == SECTION_LIMIT


def test_given_blocks_are_rendered_as_slacks_api_takes_them():
    sender = FakeSender()
    blocks = restore_blocks("Detached.", ARN)
    SlackChat(sender).post("C0SEARCH01", "Detached.", blocks=blocks)  # type: ignore[arg-type]
    assert sender.sent[0][1].blocks == rendered(blocks)
    assert isinstance(blocks[1], ActionsBlock) and isinstance(blocks[1].elements[0], ButtonElement)
