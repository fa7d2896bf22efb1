"""What tokenfuse says about a trip (pure): only what the record has in force, what failed, and
what a person must do; and the inline deny's statement arithmetic (tokenfuse's statement added
beside a policy's own, and removed leaving everyone else's)."""

from datetime import UTC, datetime

import pytest

from tokenfuse.adapters.iam_deny import deny_document, has_deny, has_statement, with_deny, without_deny
from tokenfuse.remediation.messages import failure_said, in_force, trip_said
from tokenfuse.remediation.models import ConcurrencyChange, RolePolicyChange, ScpChange, TagChange, TripRecord

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
    assert said.startswith(":no_entry: Tripped (throttle): guard SCP p-guard001 lists the profile ARN (deny)")
    assert "tag tokenfuse:state=tripped (was absent)" in said
    assert said.endswith("The automatic restore runs at 2026-11-27T03:30:00Z.")


def test_a_partial_trip_says_the_deny_is_in_force_and_what_was_not_applied():
    partial = record(scp=SCP, complete=False, problems=["tokenfuse:state tag not set: AccessDenied: no"])
    said = trip_said(partial)
    assert said.startswith(":warning: Partly tripped (throttle): the deny is in force")
    assert "In force: guard SCP p-guard001 lists the profile ARN (deny)." in said
    assert "Not applied: tokenfuse:state tag not set: AccessDenied: no." in said
    assert "Tripped (" not in said.replace("Partly tripped (", "")
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
        "reserved concurrency of fn at 1 (was 25)",
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
        ("other", True, "The automatic restore runs at 2026-11-27T03:30:00Z and puts back what was applied."),
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
