"""ApproveFunction (Function URL): Slack interactivity and signed email links resume a waiting remediation.

The correlation id starts as the request's id (Powertools' Function URL path) and becomes the
spike's (its first dedup key) once the approval or trip record the click acts on is read.
"""

from typing import Any

from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from tokenfuse.observability import lambda_handler_shell
from tokenfuse.remediation.endpoint import Endpoint, dependencies
from tokenfuse.remediation.interactions import HttpReply, failure_reply, request_text
from tokenfuse.remediation.refusals import Refusals
from tokenfuse.remediation.settings import ApproveSettings

app = LambdaFunctionUrlResolver()


def _endpoint() -> Endpoint:
    return dependencies(ApproveSettings.from_env())


def _response(reply: HttpReply) -> Response[str]:
    return Response(
        status_code=reply.status, content_type=reply.content_type, body=reply.body, headers=reply.headers
    )


def _body() -> str | None:
    return request_text(app.current_event.body, bool(app.current_event.is_base64_encoded))


@app.post("/slack/interactivity")
def slack_interactivity() -> Response[str]:
    return _response(_endpoint().slack.handle(_body(), app.current_event.headers))


@app.get("/email/approve")
def email_confirm() -> Response[str]:
    return _response(_endpoint().email.confirm_page(app.current_event.get_query_string_value("token")))


@app.post("/email/approve")
def email_decide() -> Response[str]:
    return _response(_endpoint().email.decide(_body()))


@app.not_found
def not_found(_: Exception) -> Response[str]:
    Refusals.request("unknown-route", f"{app.current_event.http_method} {app.current_event.path}")
    return Response(status_code=400, content_type="application/json", body='{"error": "unknown route"}')


def failed(error: Exception) -> Response[str]:
    """Nothing escapes the handler: a misconfiguration or a bug is one log line and a 500."""
    return _response(failure_reply(error))


app.exception_handler(Exception)(failed)


@lambda_handler_shell(correlation_id_path=correlation_paths.LAMBDA_FUNCTION_URL)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    _endpoint()  # a broken environment fails here, before the request is read
    return app.resolve(event, context)
