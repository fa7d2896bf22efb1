"""Digest: the weekly showback digest to each team (Monday 08:00 in its time zone) and FinOps, and the
daily reconciliation with Cost Explorer.

Wiring only (the work is in tokenfuse.showback.runtime): the schedules' input is one explicit model
(``DigestRun``); anything else is refused with one line and sends nothing.
"""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from tokenfuse.observability import lambda_handler_shell, logger, metrics
from tokenfuse.showback import runtime
from tokenfuse.showback.settings import DigestRun, DigestSettings
from tokenfuse.text import one_line


@lambda_handler_shell()
def lambda_handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    settings = DigestSettings.from_env()  # a broken environment fails here, before the event is read
    try:
        run = DigestRun.model_validate(event)
    except ValidationError as error:
        first = error.errors()[0]
        reason = one_line(f"{'/'.join(str(p) for p in first['loc']) or 'event'}: {first['msg']}")
        logger.warning(f"refused: not a digest schedule's input ({reason})")
        metrics.add_metric(name="DigestEventsRefused", unit=MetricUnit.Count, value=1)
        return {"refused": reason}
    logger.append_keys(action=run.action, scheduled_time=run.scheduled_time.isoformat())
    if run.action == "daily-reconciliation":
        result = runtime.daily_reconciliation(settings, run)
        logger.info("reconciled", extra={"days": result["days"]})
        return result
    result = runtime.weekly_digest(settings, run)
    metrics.add_metric(name="DigestsSent", unit=MetricUnit.Count, value=len(result["delivered"]))
    logger.info("weekly digest", extra={"due": result["due"], "delivered": result["delivered"]})
    return result
