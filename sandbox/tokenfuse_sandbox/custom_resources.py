"""Emulation: CloudFormation's custom resources. After the sandbox has provisioned the template and
loaded the handlers, each custom resource whose ``ServiceToken`` is one of the template's functions
gets CloudFormation's Create request (its resolved properties, a pre-signed-style ``ResponseURL`` on
loopback), and the response the function PUTs there becomes the resource: ``PhysicalResourceId``
its ``!Ref``, ``Data`` its attributes. A FAILED response fails the sandbox's start, as it would
fail the stack.

What it does NOT prove: CloudFormation's own time-outs, retries, Update and Delete requests (the
sandbox is never updated; tests send Update and Delete requests themselves), and the ordering
CloudFormation derives beyond ``DependsOn`` and references.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tokenfuse_sandbox.provision import Provisioner
    from tokenfuse_sandbox.runtime import Runtime

LOG = logging.getLogger("tokenfuse.sandbox.custom_resources")
CUSTOM_TYPES = ("AWS::CloudFormation::CustomResource",)
STACK_ID = (
    "arn:aws:cloudformation:{region}:{account}:stack/tokenfuse-sandbox/00000000-0000-0000-0000-000000000000"
)


class _Responses:
    def __init__(self) -> None:
        self.bodies: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()


class ResponseServer:
    """Where custom resources PUT their answer (loopback, a path per request)."""

    def __init__(self) -> None:
        responses = _Responses()
        self.responses = responses

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with responses.lock:
                    responses.bodies[self.path.strip("/")] = body
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # one server per stack's custom resources: its shutdown() waits for the loop's next poll, so
        # poll every 0.05 s (socketserver's 0.5 s was most of a member stack's deployment)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> ResponseServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def url(self, key: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{key}"


def create_all(provisioner: Provisioner, runtime: Runtime) -> dict[str, dict[str, Any]]:
    """Send each custom resource its Create request; logical id -> the response it sent."""
    template = provisioner.t
    answers: dict[str, dict[str, Any]] = {}
    with ResponseServer() as server:
        for lid in template.of_type(*CUSTOM_TYPES):
            where = f"Resources.{lid}.Properties"
            props = dict(template.resolve(template.resources[lid].get("Properties") or {}, where))
            function = runtime.logical_id(str(props.get("ServiceToken", "")).rsplit(":", 1)[-1])
            if function is None:
                continue  # a service token outside the template: nothing the sandbox can run
            answer = send_create(
                runtime,
                server,
                function,
                logical_id=lid,
                resource_type=str(template.resources[lid].get("Type")),
                stack_id=STACK_ID.format(region=template.region, account=template.account_id),
                properties=props,
            )
            if answer is None:
                continue  # a scripted test double that never answers (warned)
            if answer.get("Status") != "SUCCESS":
                from tokenfuse_sandbox.template import TemplateError

                raise TemplateError(f"Resources.{lid}: custom resource failed: {answer.get('Reason')}")
            physical = provisioner.physicals[lid]
            physical.ref = answer.get("PhysicalResourceId") or physical.ref
            physical.attrs.update({str(k): v for k, v in (answer.get("Data") or {}).items()})
            answers[lid] = answer
    return answers


def send_create(
    runtime: Runtime,
    server: ResponseServer,
    function: str,
    *,
    logical_id: str,
    resource_type: str,
    stack_id: str,
    properties: dict[str, Any],
) -> dict[str, Any] | None:
    """CloudFormation's Create request to ``function`` (a logical id of the runtime); the response
    it PUT (None: it answered nothing yet returned, warned). A function that raised without
    answering is a FAILED response carrying its error."""
    key = uuid.uuid4().hex
    event = {
        "RequestType": "Create",
        "ServiceToken": properties["ServiceToken"],
        "ResponseURL": server.url(key),
        "StackId": stack_id,
        "RequestId": str(uuid.uuid4()),
        "LogicalResourceId": logical_id,
        "ResourceType": resource_type,
        "ResourceProperties": properties,
    }
    invocation = runtime.invoke(function, event, trigger="cloudformation:Create")
    with server.responses.lock:
        answer = server.responses.bodies.get(key)
    if answer is None and invocation.ok:
        # a scripted test double that never answers: CloudFormation would wait an hour
        LOG.warning("custom resource %s: %s sent no response", logical_id, function)
        return None
    if answer is None:
        return {"Status": "FAILED", "Reason": (invocation.error or {}).get("errorMessage")}
    return answer


__all__ = ["ResponseServer", "create_all", "send_create"]
