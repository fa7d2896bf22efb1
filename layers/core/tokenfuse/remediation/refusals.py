"""What the approve endpoint refuses, and the trace each refusal leaves.

Two kinds, kept apart on purpose:

- A **refused click** comes from someone tokenfuse can name: a request with Slack's valid signature
  that names a Slack user, or a correctly signed email link. Every one is audited in the approvals
  table (who, which approval or the value clicked, why, when; one PutItem, kept 400 days like the
  other audit records), logged in one line and counted (metric ``ClicksRefused``, dimension
  ``reason``).
- A **refused request** is anything else: unsigned, badly signed, replayed, not decodable, not a
  payload tokenfuse understands. Anyone on the internet can send those, so they are only logged
  and counted (``RequestsRefused``, dimension ``reason``), never stored: they cannot flood the table.

Every value that reaches a log line or the table goes through :func:`printable` first (clipped,
control / format / surrogate characters escaped), so a hostile value cannot forge log lines or
spoof text direction.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from tokenfuse import clock
from tokenfuse.errors import TokenfuseError
from tokenfuse.observability import NAMESPACE, SERVICE, logger
from tokenfuse.text import one_line

ClickRefusal = Literal[
    "unknown-action",
    "bad-value",
    "malformed-click",
    "unknown-approval",
    "not-an-approver",
    "other-team-approver",
    "expired",
    "already-decided",
    "task-not-waiting",
    "no-active-trip",
    "unknown-incident",
    "not-configured",
]
"""Why a click from a known person changed nothing (the ``reason`` of the audit item and metric)."""

RequestRefusal = Literal[
    "unsigned",
    "malformed-signature",
    "stale-timestamp",
    "bad-signature",
    "undecodable-body",
    "malformed-payload",
    "unsupported-type",
    "missing-token",
    "invalid-link",
    "unknown-route",
]
"""Why a request from nobody tokenfuse can name was refused (logged and counted, never stored)."""

VALUE_AUDIT_LENGTH = 128
"""How much of a clicked value an audit item keeps (values may be up to Slack's 2,000 characters)."""


def printable(value: object, limit: int = VALUE_AUDIT_LENGTH) -> str:
    """``value`` as one printable line (:func:`tokenfuse.text.one_line`) at the audit's length."""
    return one_line(value, limit)


class RefusedClickStore(Protocol):
    def put_refused_click(self, at_iso: str, record: Mapping[str, str], now_epoch: int) -> None: ...


@dataclass(frozen=True)
class RefusedClick:
    """One refused click, as audited."""

    reason: ClickRefusal
    actor: str
    """Slack user id, or the email address a link was issued to."""
    via: Literal["slack", "email-open", "email-confirm"]
    detail: str
    """What the clicker was told."""
    action_id: str | None = None
    value: str | None = None
    """The button value or the link's claims, kept (clipped) so an unknown id is still on record."""
    about: Mapping[str, str] | None = None
    """What the click was about, where known: approval_id, incident_id, team, profile_arn."""

    def record(self) -> dict[str, str]:
        fields = {
            "kind": "refused-click",
            "reason": self.reason,
            "actor": self.actor,
            "via": self.via,
            "detail": self.detail,
            "action_id": self.action_id,
            "value": self.value,
            **(self.about or {}),
        }
        return {key: printable(value) for key, value in fields.items() if value is not None}


def _count(name: str, reason: str) -> None:
    with single_metric(
        name=name,
        unit=MetricUnit.Count,
        value=1,
        namespace=NAMESPACE,
        default_dimensions={"service": SERVICE},
    ) as metric:
        metric.add_dimension(name="reason", value=reason)


class Refusals:
    """Logs, counts and (for clicks) audits what the endpoint refuses."""

    def __init__(self, store: RefusedClickStore, now: Callable[[], datetime] = clock.now) -> None:
        self.store = store
        self.now = now

    def click(self, refused: RefusedClick) -> None:
        """Audit a refused click. A failed audit write is logged (with everything the item held) and
        counted; the clicker still gets their answer."""
        record = refused.record()
        logger.warning(f"click refused: {refused.reason}", extra={"refused_click": record})
        _count("ClicksRefused", refused.reason)
        now = self.now().astimezone(UTC)
        try:
            self.store.put_refused_click(now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), record, int(now.timestamp()))
        except TokenfuseError as error:
            logger.error(
                f"refused click not audited: {printable(error, 300)}", extra={"refused_click": record}
            )
            _count("ClickAuditsFailed", refused.reason)

    @staticmethod
    def request(reason: RequestRefusal, detail: str) -> None:
        """Log and count a refused request (never stored)."""
        logger.warning(
            f"request refused: {reason}", extra={"reason": reason, "detail": printable(detail, 300)}
        )
        _count("RequestsRefused", reason)
