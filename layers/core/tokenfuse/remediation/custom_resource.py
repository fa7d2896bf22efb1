"""Stack deletion lifts every trip: a custom resource whose Delete runs ``restore --all``.

Create and Update do nothing. On Delete every active trip is restored; if any restore fails the
response is FAILED with the reason (the stack stops deleting rather than leave a profile denied
with nobody left to lift it; fix, then delete again).
"""

from collections.abc import Callable
from typing import Any

from tokenfuse.adapters import cfn_response
from tokenfuse.errors import TokenfuseError
from tokenfuse.remediation.trip import Tripper

PHYSICAL_ID = "tokenfuse-restore-on-delete"


def is_custom_resource(event: Any) -> bool:
    return isinstance(event, dict) and "RequestType" in event and "ResponseURL" in event


def handle(
    event: dict[str, Any],
    tripper: Tripper,
    send: Callable[[str, dict[str, Any]], None] = cfn_response.send,
) -> dict[str, Any]:
    status, reason, data = "SUCCESS", "nothing to do", {}
    if event["RequestType"] == "Delete":
        try:
            results = tripper.restore_all()
            restored = [r.profile_arn for r in results if r.restored]
            reason = f"restored {len(restored)} trip(s)"
            data = {"Restored": len(restored)}
        except TokenfuseError as error:
            status, reason = "FAILED", f"restore --all failed: {error}"[:1000]
    return respond(event, status, reason, data=data, physical_id=PHYSICAL_ID, send=send)


def respond(
    event: dict[str, Any],
    status: str,
    reason: str,
    *,
    data: dict[str, Any],
    physical_id: str,
    send: Callable[[str, dict[str, Any]], None] = cfn_response.send,
) -> dict[str, Any]:
    """Answer CloudFormation (the custom-resource response document) and return what was sent."""
    body = {
        "Status": status,
        "Reason": reason,
        "PhysicalResourceId": event.get("PhysicalResourceId") or physical_id,
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "NoEcho": False,
        "Data": data,
    }
    send(event["ResponseURL"], body)
    return body
