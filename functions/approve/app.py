"""ApproveFunction (Function URL): Slack interactivity and signed email links resume a waiting remediation."""

from typing import Any

from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from tokenfuse.observability import logger, metrics, tracer
from tokenfuse.remediation.endpoint import endpoint
from tokenfuse.remediation.interactions import HttpReply
from tokenfuse.remediation.settings import ApproveSettings

app = LambdaFunctionUrlResolver()


def _response(reply: HttpReply) -> Response[str]:
    return Response(
        status_code=reply.status, content_type=reply.content_type, body=reply.body, headers=reply.headers
    )


@app.post("/slack/interactivity")
def slack_interactivity() -> Response[str]:
    event = app.current_event
    return _response(
        endpoint(ApproveSettings.from_env()).slack.handle(event.decoded_body or "", event.headers)
    )


@app.get("/email/approve")
def email_confirm() -> Response[str]:
    token = app.current_event.get_query_string_value("token")
    return _response(endpoint(ApproveSettings.from_env()).email.confirm_page(token))


@app.post("/email/approve")
def email_decide() -> Response[str]:
    return _response(endpoint(ApproveSettings.from_env()).email.decide(app.current_event.decoded_body or ""))


@app.not_found
def not_found(_: Exception) -> Response[str]:
    return Response(status_code=400, content_type="application/json", body='{"error": "unknown route"}')


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    ApproveSettings.from_env()  # a broken environment fails here, before the request is read
    return app.resolve(event, context)
