"""The remediation stage's words (pure): about a trip, only what the record has in force, what
failed, and what a person must do; the policy, decision, verify, restore and closing replies; the
answers to a click; and the inline deny's statement arithmetic (tokenfuse's statement added beside a
policy's own, and removed leaving everyone else's)."""

from datetime import UTC, datetime

import pytest

from tests.fault_injection.contract_walk import policy_decision, remediation_incident
from tokenfuse.adapters.iam_deny import deny_document, has_deny, has_statement, with_deny, without_deny
from tokenfuse.remediation import messages
from tokenfuse.remediation.messages import failure_said, in_force, trip_said
from tokenfuse.remediation.models import (
    ApprovalOutcome,
    ConcurrencyChange,
    RestoreResult,
    RolePolicyChange,
    ScpChange,
    TagChange,
    TripRecord,
    VerifyResult,
)
from tokenfuse.text import sentence

ARN = "arn:aws:bedrock:us-east-1:111111111111:application-inference-profile/abc123def456"
AT = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
THEIRS = {"Sid": "Theirs", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}


def record(**changes: object) -> TripRecord:
    base = {
        "trip_id": "t1",
        "incident_id": "inc-1",
        "profile_arn": ARN,
        "profile_id": "abc123def456",
        "account_id": "111111111111",
        "region": "us-east-1",
        "action": "throttle",
        "mechanism": "guard-scp",
        "dry_run": False,
        "actor": "tokenfuse",
        "tripped_at": AT,
        "restore_after": datetime(2026, 11, 27, 3, 30, tzinfo=UTC),
        "complete": True,
    }
    return TripRecord.model_validate(base | changes)


SCP = ScpChange(policy_id="p-guard001", arns_before=[], added=True, status="applied")
TAG = TagChange(key="tokenfuse:state", previous=None, set_to="tripped", status="applied")


def test_a_complete_trip_names_each_change_and_when_it_ends():
    said = trip_said(record(scp=SCP, tag=TAG))
    assert said.startswith(":no_entry: Blocked for 30 min: guard SCP p-guard001 lists the profile ARN (deny)")
    assert "tag tokenfuse:state=tripped (was absent)" in said
    assert said.endswith("The block lifts at 03:30 UTC (automatic restore).")


def test_a_partial_trip_says_the_deny_is_in_force_and_what_was_not_applied():
    partial = record(scp=SCP, complete=False, problems=["tokenfuse:state tag not set: AccessDenied: no"])
    said = trip_said(partial)
    assert said.startswith(":warning: Partly blocked for 30 min: the deny is in force")
    assert "In force: guard SCP p-guard001 lists the profile ARN (deny)." in said
    assert "Not applied: tokenfuse:state tag not set: AccessDenied: no." in said
    assert "Blocked for" not in said.replace("Partly blocked for", "")
    assert "tokenfuse:state=tripped" not in said


def test_a_detach_stays_until_a_person_restores_it():
    said = trip_said(record(scp=SCP, tag=TAG, action="detach", restore_after=None))
    assert said.endswith(f"It stays until a person runs `tokenfuse restore {ARN}` (or presses Restore).")


def test_an_unconfirmed_change_is_said_to_be_unconfirmed():
    pending = record(scp=SCP.model_copy(update={"status": "pending"}), complete=False)
    assert in_force(pending) == [
        "guard SCP p-guard001 lists the profile ARN (deny) (unconfirmed: tokenfuse could not read it back)"
    ]


def test_concurrency_and_role_changes_are_named():
    changes = record(
        mechanism="inline-deny",
        caller_roles=["caller-a"],
        role_policies=[
            RolePolicyChange(
                account_id="1", role_name="caller-a", policy_name="tokenfuse-trip-x", previous_document=None,
                status="applied",
            )
        ],
        concurrency=[
            ConcurrencyChange(
                account_id="1", region="r", function_name="fn", previous=25, set_to=1, status="applied"
            )
        ],
    )  # fmt: skip
    assert in_force(changes) == [
        "inline deny tokenfuse-trip-x on role caller-a",
        "cap concurrency: fn reserved at 1 (was 25)",
    ]


def test_a_failed_trip_with_nothing_in_force_says_the_profile_is_not_denied():
    said = failure_said(
        "trip", "AccessDenied: no", None, profile="p", team="search", policy=None, restore_due=False
    )
    assert said == (
        ":sos: tokenfuse could not trip `p` (team search): AccessDenied: no. Nothing tokenfuse changed is in "
        "force: the profile is NOT denied. A person must contain the spend (fix the cause and trip again, "
        "or stop the caller)."
    )


@pytest.mark.parametrize(
    ("where", "restore_due", "then"),
    [
        ("restore", False, f"Fix the cause, then run `tokenfuse restore {ARN}`."),
        ("other", True, "The block lifts at 03:30 UTC (automatic restore): it puts back what was applied."),
        ("other", False, f"`tokenfuse restore {ARN}` (or the Restore button) lifts it."),
    ],
)
def test_a_failure_with_something_in_force_names_it_and_the_way_out(where, restore_due, then):
    said = failure_said(
        where, "Boom: x", record(scp=SCP), profile="p", team="t", policy=None, restore_due=restore_due
    )
    assert (
        "Still in force (the profile is denied): guard SCP p-guard001 lists the profile ARN (deny)." in said
    )
    assert said.endswith(then)


def test_inline_deny_goes_beside_a_policy_and_leaves_only_it():
    before = {"Version": "2012-10-17", "Statement": [THEIRS]}
    merged = with_deny(before, ARN)
    assert merged["Statement"][0] == THEIRS and has_deny(merged, ARN) and has_statement(merged)
    assert without_deny(merged) == before
    assert without_deny(deny_document(ARN)) is None
    person_added = {
        **merged,
        "Statement": [*merged["Statement"], {"Sid": "Later", "Effect": "Deny", "Action": "*"}],
    }
    assert without_deny(person_added)["Statement"] == [
        THEIRS,
        {"Sid": "Later", "Effect": "Deny", "Action": "*"},
    ]


def test_a_statement_of_tokenfuses_on_another_arn_is_not_its_deny_of_this_one():
    other = with_deny(None, ARN.replace("abc123def456", "zzz999zzz999"))
    assert has_statement(other) and not has_deny(other, ARN)
    assert not has_deny(None, ARN) and not has_deny({"Statement": THEIRS}, ARN)


def test_another_incidents_trip_in_force_is_named_not_denied_away():
    other = record(scp=SCP, incident_id="inc-0")
    said = failure_said(
        "trip", "Boom: x", None, profile="p", team="t", policy=None, restore_due=False, other=other
    )
    assert "NOT denied" not in said
    assert said.endswith(
        "Nothing of this incident's trip is in force; the profile's active trip t1 (incident inc-0) is: "
        "guard SCP p-guard001 lists the profile ARN (deny)."
    )


INCIDENT = remediation_incident()


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (45, "45 s"),
        (60, "1 min"),
        (90, "90 s"),
        (120, "2 min"),
        (900, "15 min"),
        (5400, "90 min"),
        (7200, "2 h"),
    ],
)
def test_durations_never_round_to_zero_minutes(seconds, said):
    assert messages.duration(seconds) == said


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({}, "Asking search on-call to approve: block for 30 min."),
        ({"mode": "auto", "decision": "auto"}, "Policy: block for 30 min, automatically."),
        (
            {"mode": "dry-run", "decision": "dry-run"},
            "DryRun: planning to block for 30 min; nothing will be changed.",
        ),
        ({"mode": "notify", "decision": "notify"}, "Policy: notify only; no action."),
        (
            {"mode": "notify", "decision": "protected"},
            "This profile is protected: tokenfuse never blocks it.",
        ),
    ],
)
def test_the_policy_says_what_happens_next(changes, said):
    assert messages.policy_said(policy_decision(**changes)) == said


@pytest.mark.parametrize(
    ("decision", "said"),
    [
        ("approve", "<@U0ALICE001> approved: blocking for 30 min."),
        ("decline", "<@U0ALICE001> declined: no action."),
        ("snooze", "<@U0ALICE001> snoozed for 10 min: asking again if it goes on."),
        ("timeout", None),
    ],
)
def test_a_decision_is_said_by_who_made_it(decision, said):
    outcome = ApprovalOutcome(decision=decision, actor="U0ALICE001", approval_id="Abc123_-xy")
    assert messages.decision_said(outcome, policy_decision()) == said


def test_an_email_approver_is_named_by_address():
    outcome = ApprovalOutcome(decision="approve", actor="bob@example.com")
    assert (
        messages.decision_said(outcome, policy_decision()) == "bob@example.com approved: blocking for 30 min."
    )


def test_a_short_approval_timeout_is_not_said_to_be_zero_minutes():
    said = messages.timed_out_said(INCIDENT, policy_decision(approval_timeout_seconds=30), trips=True)
    assert said == (
        ":alarm_clock: No decision on `search-answers` (team search) within 30 s: "
        "blocking it for 30 min as the policy says."
    )
    assert messages.timed_out_said(INCIDENT, policy_decision(), trips=False).endswith(
        "within 15 min: no action taken."
    )


def _verified(expect: str, still_running: bool) -> VerifyResult:
    return VerifyResult(
        still_running=still_running, expect=expect, before_tokens_per_minute=107_996.4,
        after_tokens_per_minute=52_000.0 if still_running else 0.0, threshold_ratio=0.1, before_start=AT,
        split_at=AT, after_end=AT,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("expect", "still_running", "said"),
    [
        ("stopped", False, "Verified: token rate 107,996 -> 0/min."),
        ("stopped", True, ":warning: Still running after the trip: 52,000 tokens/min."),
        ("still-running", True, "Snooze over: the spike goes on, asking again."),
        ("still-running", False, "Snooze over: the spike has subsided; no action."),
    ],
)
def test_verify_says_what_the_token_rate_did(expect, still_running, said):
    assert messages.verified_said(_verified(expect, still_running)) == said


def test_a_restore_lists_what_it_put_back_and_by_whom():
    done = RestoreResult(
        profile_arn=ARN, trip_id="t1", restored=True, note="prior state put back",
        actions=["tag tokenfuse:state removed (absent before)", "guard SCP: ARN removed"],
    )  # fmt: skip
    assert messages.restored_said(done) == (
        ":white_check_mark: Restored: tag tokenfuse:state removed (absent before); guard SCP: ARN removed."
    )
    assert messages.restored_said(done, by="slack:U0ALICE001").startswith(
        ":white_check_mark: Restored by slack:U0ALICE001: "
    )
    nothing = RestoreResult(profile_arn=ARN, trip_id=None, restored=False, note="no active trip")
    assert messages.restored_said(nothing) == "Restore: no active trip."


@pytest.mark.parametrize(
    ("told", "failed", "said"),
    [
        (["Slack C0FINOPS01"], [], "FinOps was told (Slack C0FINOPS01)."),
        (
            ["Slack C0F"],
            ["email to f@x.com: throttled"],
            "FinOps was told (Slack C0F); failed: email to f@x.com: throttled.",
        ),
        (
            [],
            ["Slack C0F: no Slack token configured"],
            "FinOps could not be told: Slack C0F: no Slack token configured.",
        ),
        ([], [], "FinOps has no Slack channel or email configured: nobody else was told."),
    ],
)
def test_who_was_told_is_only_where_it_went(told, failed, said):
    assert messages.told_sentence(told, failed) == said


@pytest.mark.parametrize(
    ("trip", "restored", "note", "trip_failed", "said"),
    [
        (None, None, None, False, "no action"),
        (None, None, None, True, "trip failed: nothing is in force"),
        ("dry", None, None, False, "dry run: planned, nothing changed"),
        ("throttle", True, "prior state put back", False, "blocked for 30 min, then restored"),
        ("throttle", None, None, False, "blocked for 30 min; restore: did not run"),
        ("detach", None, None, False, "blocked until restored"),
        (
            "partial",
            None,
            None,
            False,
            "partly blocked until restored (tag not set: AccessDenied)",
        ),
    ],
)
def test_the_outcome_is_what_the_state_says_happened(trip, restored, note, trip_failed, said):
    records = {
        None: None,
        "dry": record(dry_run=True),
        "throttle": record(scp=SCP, tag=TAG),
        "detach": record(scp=SCP, tag=TAG, action="detach", restore_after=None),
        "partial": record(
            scp=SCP,
            action="detach",
            restore_after=None,
            complete=False,
            problems=["tag not set: AccessDenied"],
        ),
    }
    assert messages.outcome_said(records[trip], restored, note, trip_failed) == said


def test_the_close_names_the_failure_it_came_through():
    assert messages.closed_said("no action", "decline", None) == "Closed: no action (decision: decline)."
    assert messages.closed_said("no action", None, "AccessDenied: no") == (
        "Closed after a failure (AccessDenied: no): no action."
    )


def test_a_click_after_the_deadline_does_not_claim_finops_was_told():
    # the time-out's escalation may not have run yet, or may have failed: only the default is certain
    assert "FinOps" not in messages.TIMED_OUT
    assert messages.TIMED_OUT.endswith("Nothing was changed.")


def test_every_refusal_says_nothing_was_changed():
    refusals = [
        messages.UNKNOWN_CHOICE, messages.UNKNOWN_APPROVAL, messages.WHO_IS_DECIDING, messages.TIMED_OUT,
        messages.TOO_LATE, messages.UNREADABLE_CLICK, messages.UNKNOWN_BUTTON, messages.TRY_AGAIN,
        messages.FEEDBACK_OFF, messages.RESTORE_OFF, messages.ONLY_TEAM_RESTORES, messages.UNKNOWN_INCIDENT,
        messages.only_team_approvers("search"), messages.already_decided("approve", "U0ALICE001"),
        *(text for _, text in (messages.LINK_INCOMPLETE, messages.LINK_EXPIRED, messages.LINK_INVALID)),
    ]  # fmt: skip
    for text in refusals:
        assert "Nothing was changed" in text, text


def test_the_deciding_click_says_what_happens_now_and_by_whom():
    assert messages.decided_reply("approve", "U0ALICE001") == "Approved: blocking now. (by <@U0ALICE001>)"
    assert messages.decided_reply("snooze", "bob@example.com") == "Snoozed. (by bob@example.com)"


CALLER = "arn:aws:iam::111111111111:role/Checkout-Worker"


def test_a_caller_scope_policy_says_who_it_blocks_in_the_same_words_as_a_profile_trip():
    throttle = policy_decision(scope="caller", callers=[CALLER], action="throttle", cooldown_seconds=900)
    detach = policy_decision(scope="caller", callers=[CALLER], action="detach")
    assert (
        messages.caller_block(throttle, "support-bot")
        == "block role/Checkout-Worker on support-bot for 15 min"
    )
    assert (
        messages.caller_block(detach, "support-bot")
        == "block role/Checkout-Worker on support-bot until restored"
    )
    # the approve button keeps the role's own capitals (str.capitalize would lower-case them)
    assert messages.approval_button_labels(throttle)["approve"] == "Block for 15 min"


def test_a_caller_scope_policy_with_action_none_blocks_nobody_and_never_says_so():
    none = policy_decision(scope="caller", callers=[CALLER], action="none", mode="notify")
    assert messages.caller_block(none, "support-bot") is None
    assert "until restored" not in messages.block_phrase(none)
    assert "block" not in messages.policy_said(none, "support-bot").lower()


def test_sentence_upper_cases_the_first_letter_only():
    assert (
        sentence("blocked role/Checkout-Worker on ModelId x") == "Blocked role/Checkout-Worker on ModelId x"
    )
    assert sentence("") == ""
