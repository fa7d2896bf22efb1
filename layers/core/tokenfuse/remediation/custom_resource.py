"""Stack deletion lifts every trip: a custom resource whose Delete runs ``restore --all``.

CloudFormation's request is read with Powertools' models (Create, Update, Delete, told apart by
``RequestType``); one that is none is :class:`InvalidTaskInput`. Create and Update do nothing. On
Delete every active trip is restored; if any restore fails the response is FAILED with the reason
(the stack stops deleting rather than leave a profile denied with nobody left to lift it; fix,
then delete again).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, TypeAdapter, ValidationError

from tokenfuse.adapters import cfn_response
from tokenfuse.errors import TokenfuseError
from tokenfuse.remediation import messages
from tokenfuse.remediation.contracts import invalid_input_line
from tokenfuse.remediation.errors import InvalidTaskInput

PHYSICAL_ID = "tokenfuse-restore-on-delete"
REASON_LIMIT = 1000

if TYPE_CHECKING:  # CloudFormation's models (built as they are imported) load at the first request
    from aws_lambda_powertools.utilities.parser.models.cloudformation_custom_resource import (
        CloudFormationCustomResourceCreateModel,
        CloudFormationCustomResourceDeleteModel,
        CloudFormationCustomResourceUpdateModel,
    )

    from tokenfuse.remediation.trip import Tripper

    CustomResourceRequest = (
        CloudFormationCustomResourceCreateModel
        | CloudFormationCustomResourceUpdateModel
        | CloudFormationCustomResourceDeleteModel
    )


@cache
def _request() -> TypeAdapter[CustomResourceRequest]:
    from aws_lambda_powertools.utilities.parser.models import cloudformation_custom_resource as models

    request = (
        models.CloudFormationCustomResourceCreateModel
        | models.CloudFormationCustomResourceUpdateModel
        | models.CloudFormationCustomResourceDeleteModel
    )
    return TypeAdapter(Annotated[request, Field(discriminator="request_type")])


def is_custom_resource(event: object) -> bool:
    """CloudFormation's request (RequestType and ResponseURL), not a state machine task."""
    return isinstance(event, Mapping) and "RequestType" in event and "ResponseURL" in event


def parse_request(event: object) -> CustomResourceRequest:
    """CloudFormation's request; else :class:`InvalidTaskInput` naming the field."""
    try:
        return _request().validate_python(event)
    except ValidationError as error:
        line = invalid_input_line(event, error.errors(include_url=False), tag="RequestType")
        raise InvalidTaskInput(f"custom resource: {line}") from error


def handle(
    event: object,
    tripper: Tripper,
    send: Callable[[str, dict[str, Any]], None] = cfn_response.send,
) -> dict[str, Any]:
    from aws_lambda_powertools.utilities.parser.models.cloudformation_custom_resource import (
        CloudFormationCustomResourceDeleteModel,
    )

    request = parse_request(event)
    status: Literal["SUCCESS", "FAILED"] = "SUCCESS"
    reason, data = "nothing to do", {}
    if isinstance(request, CloudFormationCustomResourceDeleteModel):
        try:
            results = tripper.restore_all()
            restored = [r.profile_arn for r in results if r.restored]
            reason = messages.stack_delete_restored(len(restored))
            data = {"Restored": len(restored)}
        except TokenfuseError as error:
            status, reason = "FAILED", messages.stack_delete_failed(str(error))
    return respond(request, status, reason, data=data, send=send)


def respond(
    request: CustomResourceRequest,
    status: Literal["SUCCESS", "FAILED"],
    reason: str,
    *,
    data: dict[str, Any],
    physical_id: str = PHYSICAL_ID,
    send: Callable[[str, dict[str, Any]], None] = cfn_response.send,
) -> dict[str, Any]:
    """Answer CloudFormation (the custom-resource response document) and return what was sent; the
    resource keeps the physical id CloudFormation already knows (Update, Delete)."""
    body = {
        "Status": status,
        "Reason": reason[:REASON_LIMIT],
        "PhysicalResourceId": getattr(request, "physical_resource_id", None) or physical_id,
        "StackId": request.stack_id,
        "RequestId": request.request_id,
        "LogicalResourceId": request.logical_resource_id,
        "NoEcho": False,
        "Data": data,
    }
    send(str(request.response_url), body)
    return body
