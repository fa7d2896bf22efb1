"""What AWS must show for a trip record, worked out by hand from the world's starting state (never
from tokenfuse's own functions), and what people must have been told."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

from tests.fault_injection.world import CALLER_ROLES, FINOPS_CHANNEL, MEMBER, THREAD, World
from tokenfuse.remediation.models import TripRecord

DENIED = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]


def aws_for(world: World, initial: dict[str, Any], record: TripRecord | None) -> dict[str, Any]:
    """The starting state with exactly the record's changes in force."""
    expected = copy.deepcopy(initial)
    if record is None:
        return expected
    if record.scp is not None and record.scp.added:
        expected["scp_arns"] = [*initial["scp_arns"], world.profile_arn]
    if record.tag is not None:
        expected["state_tag"] = "tripped"
    if record.caller_scp is not None:  # a caller trip's statement: the profile, denied to both roles
        digest = hashlib.sha256(world.profile_arn.encode()).hexdigest()[:8]
        expected["other_statements"] = [
            *initial["other_statements"],
            {
                "Sid": f"TokenfuseCallers{world.profile_id}{digest}",
                "Effect": "Deny",
                "Action": DENIED,
                "Resource": [world.profile_arn],
                "Condition": {
                    "ArnLike": {"aws:PrincipalArn": [f"arn:aws:iam::{MEMBER}:role/{r}" for r in CALLER_ROLES]}
                },
            },
        ]
    for change in record.role_policies:
        before = initial["policies"][change.role_name]
        deny = {
            "Sid": "TokenfuseTrippedProfile",
            "Effect": "Deny",
            "Action": DENIED,
            "Resource": [world.profile_arn],
        }
        expected["policies"][change.role_name] = {
            "Version": "2012-10-17",
            "Statement": [*(before["Statement"] if before else []), deny],
        }
    for cap in record.concurrency:
        expected["concurrency"][cap.function_name] = cap.set_to
    return expected


def prior_values_are_real(record: TripRecord, initial: dict[str, Any]) -> None:
    """What the record will put back is what was there before the trip."""
    if record.scp is not None:
        assert record.scp.arns_before == initial["scp_arns"]
    if record.caller_scp is not None:  # the world's guard denies no caller before the trip
        assert record.caller_scp.arns_before == [] and record.caller_scp.added == record.caller_scp.role_arns
    if record.tag is not None:
        assert record.tag.previous == initial["state_tag"]
    for change in record.role_policies:
        assert change.previous_document == initial["policies"][change.role_name]
    for cap in record.concurrency:
        assert cap.previous == initial["concurrency"][cap.function_name]


def named(world: World, record: TripRecord) -> list[str]:
    """A fragment naming each change the record has in force, as a person reads it."""
    fragments = []
    if record.scp is not None:
        fragments.append(f"guard SCP {world.policy_id}")
    if record.caller_scp is not None:
        roles = ", ".join(f"role/{r}" for r in CALLER_ROLES)
        fragments.append(f"guard SCP {world.policy_id} denies the profile to {roles}")
    fragments += [f"on role {c.role_name}" for c in record.role_policies]
    if record.tag is not None:
        fragments.append("tokenfuse:state=tripped")
    fragments += [f"cap concurrency: {c.function_name} reserved" for c in record.concurrency]
    return fragments


def told_what_is_in_force(world: World, record: TripRecord | None, said: list[tuple[str, str]]) -> None:
    """Some message of the trip phase names exactly what is in force; when the trip is not
    complete, FinOps heard it, and nothing says "Blocked" for what is not."""
    texts = [text for _, text in said]
    finops = [text for where, text in said if where == FINOPS_CHANNEL]
    if record is None:
        assert any("Nothing tokenfuse changed is in force" in t and "NOT denied" in t for t in finops), said
        assert not any(":no_entry: Blocked" in t for t in texts), said
        return
    fragments = named(world, record)
    assert any(all(f in t for f in fragments) for t in texts), (fragments, said)
    absent = {"tokenfuse:state=tripped"} - set(fragments)
    assert not any(a in t for a in absent for t in texts), said
    if not record.complete:
        assert any(all(f in t for f in fragments) for t in finops), (fragments, said)
        assert not any(":no_entry: Blocked" in t for t in texts), said
    assert all(where in {THREAD, FINOPS_CHANNEL} or where.startswith("email:") for where, _ in said)
