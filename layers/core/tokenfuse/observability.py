"""Logger, metrics and tracer, built once, and the one handler shell every function wears.

Service name, namespace and level come from the function's environment (POWERTOOLS_SERVICE_NAME,
POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_LOG_LEVEL, set in the template's Globals). The fallbacks
matter where the package is imported before that environment exists (tests, the sandbox, the CLI):
Powertools reads it once, at construction, and refuses to flush metrics without a namespace - which
would fail a handler after its work was done.

:func:`lambda_handler_shell` is the decorator stack of every ``functions/*/app.py``, outermost first:

1. ``logger.inject_lambda_context``: the Lambda context keys, the correlation id read from the event
   (``correlation_id_path``), ``clear_state=True`` (no key of the previous invocation survives),
   ``log_event=False`` (events carry account ids and message text);
2. ``metrics.log_metrics``: the invocation's metrics flushed once, as EMF, after the handler;
3. ``tracer.capture_lambda_handler(capture_response=False)``: the ``## lambda_handler`` subsegment
   (responses hold tokenfuse's messages: not trace metadata).

The correlation id is one spike's id across every hop: the first signal's ``dedup_key`` (intake
per record, attribute from the SpendSignal, notify from the SpikeAttributed's signal, remediation
from the incident's first dedup key, approve from the record it acts on); ``incident_id`` joins it
as a key once there is an incident. The inventory uses its own: the CloudTrail event's id, or the
sweep's.

The Tracer is built at the first traced invocation, not at import: building it imports the X-Ray
SDK and patches botocore and http.client. With tracing off (``POWERTOOLS_TRACE_DISABLED``, or outside
Lambda: tests, the sandbox, the CLI) it is never built, so the SDK is never imported.
"""

import contextlib
import functools
import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, cast

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.shared import constants
from aws_lambda_powertools.shared.functions import resolve_truthy_env_var_choice

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or "tokenfuse"
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "Tokenfuse"

TRACED_MODULES = ("botocore", "httplib")
"""What X-Ray traces: every AWS call, and HTTPS through http.client (slack-sdk's transport). Not
Powertools' default (every module the SDK knows, each imported to be patched)."""

EVENT_BRIDGE_ID = correlation_paths.EVENT_BRIDGE
"""The EventBridge event's ``id`` (Powertools' constant), where a function has no id of its own."""

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


def tracing_enabled() -> bool:
    """Powertools' own rule: off when POWERTOOLS_TRACE_DISABLED is true, outside Lambda
    (no LAMBDA_TASK_ROOT), and under SAM local or Chalice."""
    if resolve_truthy_env_var_choice(env=os.getenv(constants.TRACER_DISABLED_ENV, "false")):
        return False
    in_lambda = bool(os.getenv(constants.LAMBDA_TASK_ROOT_ENV))
    emulated = bool(os.getenv(constants.SAM_LOCAL_ENV) or os.getenv(constants.CHALICE_LOCAL_ENV))
    return in_lambda and not emulated


@functools.cache
def tracer() -> "Tracer":
    """The process's Tracer, built on first use (the X-Ray SDK is imported here)."""
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE, patch_modules=TRACED_MODULES)


@contextlib.contextmanager
def subsegment(name: str) -> Iterator[None]:
    """An X-Ray subsegment ``## <name>`` around a block, when tracing is on (nothing otherwise)."""
    if not tracing_enabled():
        yield
        return
    with tracer().provider.in_subsegment(name=f"## {name}"):
        yield


def _traced[HandlerT: Callable[..., Any]](handler: HandlerT) -> HandlerT:
    @functools.wraps(handler)
    def run(event: Any, context: Any) -> Any:
        if not tracing_enabled():
            return handler(event, context)
        return tracer().capture_lambda_handler(handler, capture_response=False)(event, context)

    return cast("HandlerT", run)


def lambda_handler_shell[HandlerT: Callable[..., Any]](
    *, correlation_id_path: str | None = None
) -> Callable[[HandlerT], HandlerT]:
    """The one decorator stack of every handler (see the module's docstring for its order)."""

    def wear(handler: HandlerT) -> HandlerT:
        measured = metrics.log_metrics(_traced(handler))
        logged = logger.inject_lambda_context(
            measured, correlation_id_path=correlation_id_path, clear_state=True, log_event=False
        )
        return cast("HandlerT", functools.wraps(handler)(logged))

    return wear


def correlate(correlation_id: str | None, **keys: object) -> None:
    """Make ``correlation_id`` (when known) this invocation's correlation id from here on, and add
    ``keys`` (``incident_id``, ...) to every following log line."""
    if correlation_id:
        logger.set_correlation_id(correlation_id)
    present = {key: value for key, value in keys.items() if value is not None}
    if present:
        logger.append_keys(**present)


__all__ = [
    "EVENT_BRIDGE_ID",
    "NAMESPACE",
    "SERVICE",
    "TRACED_MODULES",
    "correlate",
    "lambda_handler_shell",
    "logger",
    "metrics",
    "subsegment",
    "tracer",
    "tracing_enabled",
]
