"""The invocation-log meter's spend-rate event (``source: tokenfuse.meter``, ``detail-type: Spend
Rate``, :class:`~tokenfuse.events.SpendRate`), as a rule on tokenfuse's bus routes it to the intake
queue: one normalized spend signal like the others (``source: invocation-log``).

The event must come from the account it meters: its ``account_id`` (and its profile's account)
equals the EventBridge event's ``account``, which EventBridge sets from the caller and no sender
can forge. A member account may speak only of its own spend; tokenfuse's own account (its main
stack's meter, which may read member accounts' records through the member role) may speak for any.
Fields a newer meter adds are
accepted (member stacks and the main stack are updated apart); the dollars are believed as sent,
within the plausibility bounds every signal passes.
"""

from datetime import datetime
from typing import Any

from pydantic import ConfigDict, ValidationError

from tokenfuse.arns import PROFILE_ARN
from tokenfuse.errors import MalformedSignal
from tokenfuse.events import SpendRate, SpendSignal
from tokenfuse.signals._common import RawSource, condense, shorten

EVENT_SOURCE = "tokenfuse.meter"
DETAIL_TYPE = "Spend Rate"


class _SpendRateIn(SpendRate):
    model_config = ConfigDict(defer_build=True, frozen=True, extra="ignore", allow_inf_nan=False)


def parse(
    account: str | None,
    detail: dict[str, Any],
    *,
    received_at: datetime,
    raw_source: RawSource,
    tokenfuse_account: str | None = None,
) -> SpendSignal:
    try:
        rate = _SpendRateIn.model_validate(detail)
    except ValidationError as error:
        raise condense(error, "spend-rate event") from None
    if account != rate.account_id and (tokenfuse_account is None or account != tokenfuse_account):
        raise MalformedSignal(
            f"spend-rate event: account_id {shorten(rate.account_id, 20)} is not the sending account "
            f"{shorten(account, 20)}"
        )
    if rate.subject == "profile":
        match = PROFILE_ARN.fullmatch(rate.profile_arn or "")
        if match is None:
            raise MalformedSignal("spend-rate event: profile_arn is not an application inference profile ARN")
        if (match["account"], match["region"]) != (rate.account_id, rate.region):
            raise MalformedSignal("spend-rate event: profile_arn is not in the event's account and region")
        if rate.profile_id not in (None, match["profile_id"]):
            raise MalformedSignal("spend-rate event: profile_id is not the profile ARN's id")
    elif rate.profile_arn is not None or not rate.model_ids:
        raise MalformedSignal(
            "spend-rate event: a direct-model subject has no profile_arn and names its model"
        )
    seconds = int((rate.window_end - rate.window_start).total_seconds())
    subject = rate.profile_arn or f"direct calls to {rate.model_ids[0]}"
    top = rate.callers[0].role_arn if rate.callers else "no caller named"
    summary = (
        f"invocation logs: {subject} burns ${rate.burn_usd_per_hour:,.2f}/h over {seconds} s "
        f"(armed at ${rate.threshold_usd_per_hour:,.2f}/h, {rate.threshold_basis}); "
        f"{rate.invocations:,} calls, ${rate.window_usd:,.4f}; top caller {top}"
    )
    return SpendSignal(
        source="invocation-log",
        dedup_key=rate.dedup_key,
        received_at=received_at,
        account_id=rate.account_id,
        region=rate.region,
        window_start=rate.window_start,
        window_end=rate.window_end,
        actual_usd=rate.window_usd,
        burn_usd_per_hour=rate.burn_usd_per_hour,
        burn_threshold_usd_per_hour=rate.threshold_usd_per_hour,
        model_ids=list(rate.model_ids),
        callers=list(rate.callers),
        profile_id=match["profile_id"] if rate.subject == "profile" and match else None,
        profile_arn=rate.profile_arn,
        raw_source=raw_source,
        summary=shorten(summary, 600),
    )
