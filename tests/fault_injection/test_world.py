"""The world's reading of what is in force (``World.observe``, from moto's own state) sees what AWS's
API changed: every check of the fault matrices stands on it."""

from __future__ import annotations

import json

from tests.fault_injection.world import PERSONS_POLICY, World
from tokenfuse.adapters.guard_scp import listed_arns


def test_the_starting_state_is_the_worlds_own(world: World) -> None:
    assert world.pristine == {
        "scp_arns": [],
        "other_statements": [s for s in world.guard_document["Statement"] if s["Sid"] == "PersonsGuard"],
        "state_tag": "watching",
        "policies": {"caller-a": None, "caller-b": PERSONS_POLICY, "worker-role": None},
        "concurrency": {"worker-a": 25, "worker-b": None},
    }


def test_each_change_through_the_api_is_seen(world: World) -> None:
    # When each thing observed is changed through AWS's API, as tokenfuse changes it
    document = {**world.guard_document}
    listed = json.loads(json.dumps(document))
    for statement in listed["Statement"]:
        if statement.get("Sid") == "TokenfuseTrippedProfiles":
            statement["Resource"] = [world.profile_arn]
    org = world.client("organizations", member=False)
    org.update_policy(PolicyId=world.policy_id, Content=json.dumps(listed))
    world.client("bedrock").tag_resource(
        resourceARN=world.profile_arn, tags=[{"key": "tokenfuse:state", "value": "tripped"}]
    )
    deny = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "bedrock:*", "Resource": "*"}],
    }
    world.client("iam").put_role_policy(
        RoleName="worker-role", PolicyName=world.policy_name, PolicyDocument=json.dumps(deny)
    )
    world.client("lambda").put_function_concurrency(FunctionName="worker-b", ReservedConcurrentExecutions=0)
    # Then the world reads each change
    seen = world.observe()
    assert seen["scp_arns"] == listed_arns(listed) == [world.profile_arn]
    assert seen["state_tag"] == "tripped"
    assert seen["policies"]["worker-role"] == deny
    assert seen["concurrency"] == {"worker-a": 25, "worker-b": 0}
