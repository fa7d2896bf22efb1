"""The approve endpoint's logic (the handler only routes): Slack interactivity, and what every
route shares (the HTTP reply, body decoding, the answer to a failure). Email links are in
:mod:`tokenfuse.remediation.email_links`.

``POST /slack/interactivity``: the body must carry Slack's v0 signature (signing secret, 5-minute
replay window, slack-sdk's ``SignatureVerifier``; headers that are not ASCII digits / ``v0=<hex>``
are refused before it sees them, since it raises on those), else 401 and nothing changes. A signed
``block_actions`` payload naming a Slack user is a click: its one button's ``action_id`` picks the
value parser and the handler from :attr:`SlackInteractions.buttons` (approval buttons -> the
:class:`~tokenfuse.remediation.decisions.ApprovalDesk`, CAD feedback -> the anomaly-feedback hook,
Restore -> the restore hook). An unknown action id, or a value that does not parse for its action
id, changes nothing. Every answer a person should see (including "only approvers may decide", whose
domain status is 403) is sent back with HTTP 200 (Slack shows its own error for anything else) as
``{"response_type": "ephemeral", "text": ..., "tokenfuse_status": ...}``, and through the
interaction's ``response_url`` when it has one (Slack ignores the HTTP body of a ``block_actions``
request). A signed payload that is no click (not JSON, nested over 100 levels, another interaction
type, no user) is 400.

Refusals are audited, logged and counted by :class:`~tokenfuse.remediation.refusals.Refusals`.
"""

import base64
import binascii
import contextlib
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import parse_qs

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from tokenfuse.adapters.anomaly_feedback import CHOICES as FEEDBACK_CHOICES
from tokenfuse.alerts.feedback_buttons import feedback_action_id, parse_feedback_value
from tokenfuse.errors import TokenfuseError
from tokenfuse.observability import logger
from tokenfuse.remediation import messages
from tokenfuse.remediation.blocks import (
    RESTORE_ACTION_ID,
    approval_action_id,
    parse_button_value,
    parse_restore_value,
)
from tokenfuse.remediation.channels import ResponderPort
from tokenfuse.remediation.decisions import ApprovalDesk, DecisionReply
from tokenfuse.remediation.links import CHOICES
from tokenfuse.remediation.refusals import Refusals, RefusedClick, RequestRefusal, printable
from tokenfuse.teams import SLACK_USER_PATTERN

if TYPE_CHECKING:  # slack-sdk's package (its WebClient too) is imported by the first Slack request
    from slack_sdk.signature import Clock, SignatureVerifier

NESTING_LIMIT = 100
"""A ``payload`` nested deeper than this is refused before any model sees it."""
MAX_VALUE_LENGTH = 1024
"""No button tokenfuse renders has a longer value (Slack allows 2,000 characters)."""
REPLAY_WINDOW_SECONDS = 300
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")

FeedbackHook = Callable[[str, str, str], DecisionReply]
"""(incident id, accurate|false-positive|planned, Slack user id) -> the answer."""

RestoreHook = Callable[[str, str], DecisionReply]
"""(profile ARN, Slack user id) -> the answer; lifts the profile's trip when the clicker may."""


class EndpointMisconfigured(TokenfuseError):
    """The signing secret or the link key cannot be loaded: a deployment error, not bad input."""


@dataclass(frozen=True)
class HttpReply:
    status: int
    body: str
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def _json(status: int, text: str, **extra: Any) -> HttpReply:
    return HttpReply(
        status, json.dumps({"response_type": "ephemeral", "replace_original": False, "text": text, **extra})
    )


def _error(status: int, message: str) -> HttpReply:
    return HttpReply(status, json.dumps({"error": message}))


def request_text(body: str | None, is_base64_encoded: bool) -> str | None:
    """The request body as text ("" when there is none); None when it is not valid base64 (Lambda
    encodes bodies it does not take for text) or not UTF-8, which neither Slack nor a browser sends."""
    if not body:
        return ""
    try:
        if is_base64_encoded:
            return base64.b64decode(body, validate=True).decode("utf-8")
        body.encode("utf-8")  # lone surrogates (only a direct invoke can carry them)
    except (binascii.Error, ValueError):
        return None
    return body


def failure_reply(error: Exception) -> HttpReply:
    """500 with one log line for what no request should cause: a misconfigured deployment (the
    signing secret or link key cannot be loaded, the environment does not validate) or a bug."""
    what = "misconfigured" if isinstance(error, EndpointMisconfigured) else "failed"
    logger.error(f"approve endpoint {what}: {type(error).__name__}: {printable(error, 300)}")
    return _error(500, messages.CANNOT_HANDLE)


# -- reading a Slack interaction -------------------------------------------------------------------


def _too_deep(value: object, limit: int = NESTING_LIMIT) -> bool:
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _payload(body: str) -> dict[str, object] | str:
    """The interaction's ``payload`` (a JSON object), or one line saying why it is none."""
    try:
        form = parse_qs(body, strict_parsing=True, errors="strict", max_num_fields=20)
    except ValueError:
        return "the body is not form-encoded"
    if len(form.get("payload", [])) != 1:
        return "the form has no single payload field"
    try:
        payload = json.loads(form["payload"][0])
    except (ValueError, RecursionError):
        return "payload is not JSON"
    if _too_deep(payload):
        return f"payload is nested deeper than {NESTING_LIMIT} levels"
    if not isinstance(payload, dict):
        return "payload is not a JSON object"
    return payload


class _Model(BaseModel):
    model_config = ConfigDict(defer_build=True, strict=True, frozen=True, extra="ignore")


class _User(_Model):
    id: Annotated[str, StringConstraints(pattern=SLACK_USER_PATTERN, max_length=32)]


class _Clicker(_Model):
    user: _User


class _Button(_Model):
    type: Literal["button"]
    action_id: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    value: str = ""  # Slack leaves it out for a button without one


class _ButtonClick(_Model):
    actions: Annotated[list[_Button], Field(min_length=1, max_length=1)]
    response_url: str | None = None


@dataclass(frozen=True)
class Click:
    """One button click of a known Slack user."""

    user_id: str
    action_id: str
    value: str
    response_url: str | None


ButtonRoute = Callable[[Click], DecisionReply | None]
"""A button's handling: its answer, or None when the value does not parse for this action id."""


def button_route[T](
    parse: Callable[[str], T | None], handle: Callable[[Click, T], DecisionReply]
) -> ButtonRoute:
    """The route of one action id: ``parse`` the value (None: not one of this button's values), then
    ``handle`` what it parsed."""

    def route(click: Click) -> DecisionReply | None:
        parsed = parse(click.value) if len(click.value) <= MAX_VALUE_LENGTH else None
        return None if parsed is None else handle(click, parsed)

    return route


def approval_value_parser(choice: str) -> Callable[[str], tuple[str, str] | None]:
    """The approval button for ``choice`` carries ``<approval id>:<choice>``, that choice only."""

    def parse(value: str) -> tuple[str, str] | None:
        parsed = parse_button_value(value)
        return parsed if parsed is not None and parsed[1] == choice else None

    return parse


def feedback_value_parser(choice: str) -> Callable[[str], tuple[str, str] | None]:
    """The CAD feedback button for ``choice`` carries ``{"incident_id", "choice"}``, that choice only."""

    def parse(value: str) -> tuple[str, str] | None:
        try:
            parsed = parse_feedback_value(value)
        except ValueError:
            return None
        return parsed if parsed[1] == choice else None

    return parse


# -- Slack -----------------------------------------------------------------------------------------


@cache
def _epoch_clock() -> "Callable[[Callable[[], float]], Clock]":
    """slack-sdk's verifier clock over ``now_epoch`` (the endpoint's clock, not the system's); its
    class is made once, at the first Slack request."""
    from slack_sdk.signature import Clock

    class EpochClock(Clock):
        def __init__(self, now_epoch: Callable[[], float]) -> None:
            self._now = now_epoch

        def now(self) -> float:
            return self._now()

    return EpochClock


class SlackInteractions:
    def __init__(
        self,
        signing_secret: Callable[[], str],
        desk: ApprovalDesk,
        refusals: Refusals,
        *,
        responder: ResponderPort | None = None,
        feedback: FeedbackHook | None = None,
        restore: RestoreHook | None = None,
        now_epoch: Callable[[], float] = time.time,
    ) -> None:
        self._signing_secret = signing_secret
        self.desk = desk
        self.refusals = refusals
        self.responder = responder
        self.feedback = feedback
        self.restore = restore
        self._now_epoch = now_epoch
        self.buttons: dict[str, ButtonRoute] = {
            **{approval_action_id(c): button_route(approval_value_parser(c), self._decide) for c in CHOICES},
            **{
                feedback_action_id(c): button_route(feedback_value_parser(c), self._feedback)
                for c in FEEDBACK_CHOICES
            },
            RESTORE_ACTION_ID: button_route(parse_restore_value, self._restore),
        }
        """Every button tokenfuse renders: action id -> its value parser and handler."""

    def verifier(self) -> "SignatureVerifier":
        from slack_sdk.signature import SignatureVerifier

        return SignatureVerifier(self._signing_secret(), clock=_epoch_clock()(self._now_epoch))

    def handle(self, body: str | None, headers: Mapping[str, str]) -> HttpReply:
        """Answer one interactivity request (``body`` None: it could not be decoded)."""
        if body is None:
            return self._refuse(400, "undecodable-body", "the body is not valid base64 or UTF-8")
        unverified = self._unverified(body, headers)
        if unverified is not None:
            return self._refuse(401, *unverified)
        click = self._click(body)
        return click if isinstance(click, HttpReply) else self._dispatch(click)

    def _click(self, body: str) -> Click | HttpReply:
        """The signed body's click, or the answer to a payload that is none."""
        payload = _payload(body)
        if isinstance(payload, str):
            return self._refuse(400, "malformed-payload", payload)
        if payload.get("type") != "block_actions":
            kind = printable(payload.get("type"), 40)
            return self._refuse(400, "unsupported-type", f"interaction type {kind}")
        try:
            user_id = _Clicker.model_validate(payload).user.id
        except ValidationError:
            return self._refuse(400, "malformed-payload", "block_actions without a Slack user id")
        try:
            button = _ButtonClick.model_validate(payload)
        except ValidationError as error:
            url = payload.get("response_url")
            unread = Click(user_id, "", "", url if isinstance(url, str) else None)
            where = ".".join(str(part) for part in error.errors()[0]["loc"])
            return self._answer(
                unread, DecisionReply(400, messages.UNREADABLE_CLICK, refused="malformed-click"), where
            )
        action = button.actions[0]
        return Click(user_id, action.action_id, action.value, button.response_url)

    def _unverified(self, body: str, headers: Mapping[str, str]) -> tuple[RequestRefusal, str] | None:
        """Why the request is not Slack's (None when it is). Checks the headers' shape first, so the
        verifier never meets a non-ASCII signature or a timestamp that is no number."""
        lower = {str(k).lower(): v for k, v in headers.items()}
        timestamp, signature = lower.get("x-slack-request-timestamp"), lower.get("x-slack-signature")
        if timestamp is None or signature is None:
            return "unsigned", "no X-Slack-Signature or X-Slack-Request-Timestamp header"
        if not (isinstance(timestamp, str) and _TIMESTAMP.fullmatch(timestamp)):
            return "malformed-signature", f"X-Slack-Request-Timestamp {printable(timestamp, 40)}"
        if not (isinstance(signature, str) and _SIGNATURE.fullmatch(signature)):
            return "malformed-signature", f"X-Slack-Signature {printable(signature, 80)}"
        if abs(self._now_epoch() - int(timestamp)) > REPLAY_WINDOW_SECONDS:
            return "stale-timestamp", f"signed at {timestamp}, outside the 5-minute replay window"
        if not self.verifier().is_valid(body, timestamp, signature):
            return "bad-signature", "the signature does not match the body"
        return None

    def _dispatch(self, click: Click) -> HttpReply:
        route = self.buttons.get(click.action_id)
        try:
            reply = route(click) if route is not None else None
        except TokenfuseError as error:
            logger.error(f"click not taken: {type(error).__name__}: {printable(error, 300)}")
            return self._answer(click, DecisionReply(503, messages.TRY_AGAIN))
        if reply is None:
            if route is None:
                unknown = DecisionReply(400, messages.UNKNOWN_BUTTON, refused="unknown-action")
                return self._answer(click, unknown)
            return self._answer(click, DecisionReply(400, messages.UNREADABLE_CLICK, refused="bad-value"))
        return self._answer(click, reply)

    def _decide(self, click: Click, parsed: tuple[str, str]) -> DecisionReply:
        approval_id, choice = parsed
        return self.desk.decide(approval_id, choice, slack_user_id=click.user_id)

    def _feedback(self, click: Click, parsed: tuple[str, str]) -> DecisionReply:
        if self.feedback is None:
            about = {"incident_id": parsed[0]}
            return DecisionReply(200, messages.FEEDBACK_OFF, refused="not-configured", about=about)
        return self.feedback(parsed[0], parsed[1], click.user_id)

    def _restore(self, click: Click, profile_arn: str) -> DecisionReply:
        if self.restore is None:
            about = {"profile_arn": profile_arn}
            return DecisionReply(200, messages.RESTORE_OFF, refused="not-configured", about=about)
        return self.restore(profile_arn, click.user_id)

    def _answer(self, click: Click, reply: DecisionReply, detail: str | None = None) -> HttpReply:
        if reply.refused is not None:
            self.refusals.click(
                RefusedClick(
                    reply.refused,
                    click.user_id,
                    "slack",
                    f"{reply.text} ({detail})" if detail else reply.text,
                    action_id=click.action_id or None,
                    value=click.value or None,
                    about=reply.about,
                )
            )
        self._respond(click.response_url, reply)
        return _json(200, reply.text, tokenfuse_status=reply.status)

    def _refuse(self, status: int, reason: RequestRefusal, detail: str) -> HttpReply:
        self.refusals.request(reason, detail)
        return _error(status, messages.INVALID_SIGNATURE if status == 401 else messages.NOT_AN_INTERACTION)

    def _respond(self, response_url: str | None, reply: DecisionReply) -> None:
        if not response_url or self.responder is None:
            return
        # The one click that decided replaces the buttons (nobody clicks a decided request again);
        # every other answer is shown to the clicker alone.
        if reply.changed:
            message: dict[str, Any] = {"replace_original": True, "text": reply.text}
        else:
            message = {"response_type": "ephemeral", "replace_original": False, "text": reply.text}
        with contextlib.suppress(Exception):  # the HTTP answer already carries the text
            self.responder.respond(response_url, message)
