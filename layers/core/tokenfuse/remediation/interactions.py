"""The approve endpoint's logic (the handler only routes): Slack interactivity and email links.

- ``POST /slack/interactivity``: the body must carry Slack's v0 signature (signing secret, 5-minute
  replay window, slack-sdk's ``SignatureVerifier``), else 401 and nothing changes. A
  ``block_actions`` payload whose button value is ``<approval id>:<choice>`` goes to the
  :class:`~tokenfuse.remediation.approvals.ApprovalDesk`; the alert's CAD feedback buttons (JSON
  ``{"incident_id", "choice"}``) go to the anomaly-feedback hook. Every answer a person should see
  (including "only approvers may decide", whose domain status is 403) is sent back with HTTP 200
  (Slack shows its own error for anything else) as ``{"response_type": "ephemeral", "text": ...}``,
  and through the interaction's ``response_url`` when it has one (Slack ignores the HTTP body of
  a ``block_actions`` request).
- ``GET /email/approve?token=...``: checks the signed link and shows a one-button confirmation page
  (mail scanners follow GET links; a GET never decides). ``POST /email/approve`` (form ``token``)
  decides. Bad signature: 401; expired: 401; reused: 200 "already decided".
"""

import contextlib
import html
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from slack_sdk.signature import Clock, SignatureVerifier

from tokenfuse.alerts.slack_render import parse_feedback_value
from tokenfuse.remediation import links
from tokenfuse.remediation.approvals import ApprovalDesk, DecisionReply, parse_button_value
from tokenfuse.remediation.channels import ResponderPort

FeedbackHook = Callable[[str, str, str], str]
"""(incident id, accurate|false-positive|planned, Slack user id) -> text to show the clicker."""


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


class _EpochClock(Clock):
    def __init__(self, now_epoch: Callable[[], float]) -> None:
        self._now = now_epoch

    def now(self) -> float:
        return self._now()


RESTORE_ACTION_ID = "tokenfuse_restore"
RESTORE_PREFIX = "restore:"

RestoreHook = Callable[[str, str], DecisionReply]
"""(profile ARN, Slack user id) -> the answer; lifts the profile's trip when the clicker may."""


def restore_blocks(text: str, profile_arn: str) -> list[dict[str, Any]]:
    """A detached profile's thread reply: what was changed, and a Restore button (value: the ARN only;
    who may click is checked against the owning team's approvers when the click arrives)."""
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}},
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": RESTORE_ACTION_ID,
                    "text": {"type": "plain_text", "text": "Restore"},
                    "style": "primary",
                    "value": f"{RESTORE_PREFIX}{profile_arn}",
                    "confirm": {
                        "title": {"type": "plain_text", "text": "Restore this profile?"},
                        "text": {"type": "mrkdwn", "text": "tokenfuse puts back what the trip changed."},
                        "confirm": {"type": "plain_text", "text": "Restore"},
                        "deny": {"type": "plain_text", "text": "Cancel"},
                    },
                }
            ],
        },
    ]


class SlackInteractions:
    def __init__(
        self,
        signing_secret: Callable[[], str],
        desk: ApprovalDesk,
        responder: ResponderPort | None = None,
        feedback: FeedbackHook | None = None,
        now_epoch: Callable[[], float] | None = None,
        *,
        restore: RestoreHook | None = None,
    ) -> None:
        self._signing_secret = signing_secret
        self.desk = desk
        self.responder = responder
        self.feedback = feedback
        self._now_epoch = now_epoch
        self.restore = restore

    def verifier(self) -> SignatureVerifier:
        if self._now_epoch is None:
            return SignatureVerifier(self._signing_secret())
        return SignatureVerifier(self._signing_secret(), clock=_EpochClock(self._now_epoch))

    def handle(self, body: str, headers: Mapping[str, str]) -> HttpReply:  # noqa: PLR0911
        lower = {k.lower(): v for k, v in headers.items()}
        timestamp = lower.get("x-slack-request-timestamp")
        signature = lower.get("x-slack-signature")
        try:
            valid = bool(timestamp and timestamp.isdigit()) and self.verifier().is_valid(
                body, timestamp, signature
            )
        except ValueError:
            valid = False
        if not valid:
            return HttpReply(401, json.dumps({"error": "invalid signature"}))
        try:
            payload = json.loads(parse_qs(body, strict_parsing=True)["payload"][0])
            user_id = str(payload["user"]["id"])
            action = payload["actions"][0]
            value = str(action["value"])
        except (ValueError, KeyError, IndexError, TypeError):
            return HttpReply(400, json.dumps({"error": "not a block_actions payload tokenfuse understands"}))
        if payload.get("type") != "block_actions":
            return HttpReply(400, json.dumps({"error": "unsupported interaction type"}))
        response_url = payload.get("response_url")

        parsed = parse_button_value(value)
        if parsed is not None:
            approval_id, choice = parsed
            reply = self.desk.decide(approval_id, choice, slack_user_id=user_id)
            self._respond(response_url, reply)
            return _json(200, reply.text, tokenfuse_status=reply.status)
        feedback_of = _feedback(value)
        if feedback_of is not None:
            incident_id, feedback = feedback_of
            if self.feedback is None:
                return _json(200, "Feedback is not configured here. Nothing was changed.")
            text = self.feedback(incident_id, feedback, user_id)
            self._respond(response_url, DecisionReply(200, text, changed=True))
            return _json(200, text)
        if value.startswith(RESTORE_PREFIX):
            if self.restore is None:
                return _json(200, "Restore is not configured here. Nothing was changed.")
            reply = self.restore(value.removeprefix(RESTORE_PREFIX), user_id)
            self._respond(response_url, reply)
            return _json(200, reply.text, tokenfuse_status=reply.status)
        return HttpReply(400, json.dumps({"error": "unknown action"}))

    def _respond(self, response_url: Any, reply: DecisionReply) -> None:
        if not response_url or self.responder is None:
            return
        # The one click that decided replaces the buttons (nobody clicks a decided request again);
        # every other answer is shown to the clicker alone.
        if reply.changed:
            message: dict[str, Any] = {"replace_original": True, "text": reply.text}
        else:
            message = {"response_type": "ephemeral", "replace_original": False, "text": reply.text}
        with contextlib.suppress(Exception):  # the HTTP answer already carries the text
            self.responder.respond(str(response_url), message)


def _feedback(value: str) -> tuple[str, str] | None:
    """(incident id, choice) of the alert's CAD feedback button (its value is JSON), else None."""
    try:
        return parse_feedback_value(value)
    except (ValueError, AttributeError):
        return None


class EmailLinks:
    def __init__(
        self, link_key: Callable[[], bytes], desk: ApprovalDesk, now_epoch: Callable[[], float]
    ) -> None:
        self._key = link_key
        self.desk = desk
        self._now_epoch = now_epoch

    def _claims(self, token: str | None) -> links.LinkClaims | HttpReply:
        if not token:
            return _page(400, "Missing link token", "This link is incomplete. Nothing was changed.")
        try:
            return links.verify(self._key(), token, int(self._now_epoch()))
        except links.ExpiredLink:
            return _page(401, "Link expired", "This approval link has expired. Nothing was changed.")
        except links.InvalidLink:
            return _page(401, "Invalid link", "This link is not valid. Nothing was changed.")

    def confirm_page(self, token: str | None) -> HttpReply:
        claims = self._claims(token)
        if isinstance(claims, HttpReply):
            return claims
        safe_token = html.escape(token or "", quote=True)
        choice = html.escape(claims.choice)
        body = (
            f"<p>You are about to <strong>{choice}</strong> tokenfuse's request "
            f"<code>{html.escape(claims.approval_id)}</code> as {html.escape(claims.email)}.</p>"
            f'<form method="post" action="approve"><input type="hidden" name="token" value="{safe_token}">'
            f'<button type="submit">Confirm: {choice}</button></form>'
        )
        return _page(200, f"tokenfuse: {choice}?", body, raw=True)

    def decide(self, form_body: str) -> HttpReply:
        try:
            token = parse_qs(form_body).get("token", [None])[0]
        except ValueError:
            token = None
        claims = self._claims(token)
        if isinstance(claims, HttpReply):
            return claims
        reply = self.desk.decide(claims.approval_id, claims.choice, email=claims.email)
        return _page(reply.status, "tokenfuse", reply.text)


def _page(status: int, title: str, body: str, raw: bool = False) -> HttpReply:
    content = body if raw else f"<p>{html.escape(body)}</p>"
    return HttpReply(
        status,
        f"<!doctype html><html><head><meta charset=utf-8><title>{html.escape(title)}</title></head>"
        f"<body>{content}</body></html>",
        content_type="text/html; charset=utf-8",
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )
