"""Signed email links for teams without Slack (:mod:`tokenfuse.remediation.links` signs them).

``GET /email/approve?token=...`` checks the link and shows a one-button confirmation page (mail
scanners follow GET links; a GET never decides). ``POST /email/approve`` (form ``token``) decides.
Missing token: 400; bad signature or malformed: 401 (counted, never stored); expired: 401 and
audited; reused: 200 "already decided" and audited.
"""

import html
import time
from collections.abc import Callable
from typing import Literal
from urllib.parse import parse_qs

from tokenfuse.errors import TokenfuseError
from tokenfuse.observability import logger
from tokenfuse.remediation import links, messages
from tokenfuse.remediation.decisions import ApprovalDesk, DecisionReply
from tokenfuse.remediation.interactions import HttpReply
from tokenfuse.remediation.refusals import Refusals, RefusedClick, printable


class EmailLinks:
    def __init__(
        self,
        link_key: Callable[[], bytes],
        desk: ApprovalDesk,
        refusals: Refusals,
        now_epoch: Callable[[], float] = time.time,
    ) -> None:
        self._key = link_key
        self.desk = desk
        self.refusals = refusals
        self._now_epoch = now_epoch

    def _claims(
        self, token: str | None, via: Literal["email-open", "email-confirm"]
    ) -> links.LinkClaims | HttpReply:
        if not token:
            self.refusals.request("missing-token", "no link token")
            return _page(400, *messages.LINK_INCOMPLETE)
        try:
            return links.verify(self._key(), token, int(self._now_epoch()))
        except links.ExpiredLink as expired:
            title, text = messages.LINK_EXPIRED
            self._audit(expired.claims, via, DecisionReply(401, text, refused="expired"))
            return _page(401, title, text)
        except links.InvalidLink as invalid:
            self.refusals.request("invalid-link", f"{invalid} ({len(token)} characters)")
            return _page(401, *messages.LINK_INVALID)

    def confirm_page(self, token: str | None) -> HttpReply:
        claims = self._claims(token, "email-open")
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

    def decide(self, form_body: str | None) -> HttpReply:
        """The confirmation form's POST (``form_body`` None: it could not be decoded)."""
        if form_body is None:
            self.refusals.request("undecodable-body", "the body is not valid base64 or UTF-8")
            return _page(400, *messages.NOT_THE_FORM)
        claims = self._claims(_form_token(form_body), "email-confirm")
        if isinstance(claims, HttpReply):
            return claims
        try:
            reply = self.desk.decide(claims.approval_id, claims.choice, email=claims.email)
        except TokenfuseError as error:
            logger.error(f"email decision not taken: {type(error).__name__}: {printable(error, 300)}")
            return _page(503, *messages.TRY_AGAIN_PAGE)
        self._audit(claims, "email-confirm", reply)
        return _page(reply.status, "tokenfuse", reply.text)

    def _audit(
        self, claims: links.LinkClaims, via: Literal["email-open", "email-confirm"], reply: DecisionReply
    ) -> None:
        if reply.refused is None:
            return
        about = {"approval_id": claims.approval_id, **reply.about}
        value = f"{claims.approval_id}:{claims.choice}"
        self.refusals.click(
            RefusedClick(reply.refused, claims.email, via, reply.text, value=value, about=about)
        )


def _form_token(form_body: str) -> str | None:
    """The form's one ``token`` field, else None (not a form, no token, several)."""
    try:
        tokens = parse_qs(form_body, errors="strict", max_num_fields=20).get("token", [])
    except ValueError:
        return None
    return tokens[0] if len(tokens) == 1 else None


def _page(status: int, title: str, body: str, raw: bool = False) -> HttpReply:
    content = body if raw else f"<p>{html.escape(body)}</p>"
    return HttpReply(
        status,
        f"<!doctype html><html><head><meta charset=utf-8><title>{html.escape(title)}</title></head>"
        f"<body>{content}</body></html>",
        content_type="text/html; charset=utf-8",
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )
