"""Signed, expiring approval links for teams without Slack.

A link token is ``<payload>.<signature>``: the payload is base64url JSON ``{"a": approval id,
"c": choice, "e": recipient email, "x": expiry (epoch seconds)}``, the signature base64url
HMAC-SHA256 of the payload with the key from ``EMAIL_LINK_KEY_SECRET_ARN``. Each recipient gets
their own links. Single use comes from the approval itself: once any link (or Slack click) has
decided it, every other link answers "already decided".

:func:`verify` refuses, as :class:`InvalidLink`, anything but a well-formed token: longer than
:data:`MAX_TOKEN_LENGTH`, not ASCII, a bad signature, or claims of the wrong shape (an approval id
that is not one tokenfuse issues, an unknown choice, an expiry that is not an integer epoch).
"""

import base64
import binascii
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from urllib.parse import urlencode

from tokenfuse.errors import TokenfuseError

CHOICES = ("approve", "decline", "snooze")
MAX_TOKEN_LENGTH = 1024
"""A real token is about 400 characters (the email address is most of it); anything longer is junk."""
APPROVAL_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{10}")
"""What :func:`tokenfuse.remediation.approvals.new_approval_id` issues (10 url-safe characters)."""
_TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


class InvalidLink(TokenfuseError):
    """Tampered, malformed or signed with another key."""


class ExpiredLink(TokenfuseError):
    """Correctly signed, but past its expiry (``claims`` says whose link, for which approval)."""

    def __init__(self, claims: "LinkClaims") -> None:
        super().__init__("this link has expired")
        self.claims = claims


@dataclass(frozen=True)
class LinkClaims:
    approval_id: str
    choice: str
    email: str
    expires: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, payload: str) -> str:
    return _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())


def sign(key: bytes, claims: LinkClaims) -> str:
    if claims.choice not in CHOICES:
        raise ValueError(f"unknown choice {claims.choice!r}")
    body = {"a": claims.approval_id, "c": claims.choice, "e": claims.email, "x": claims.expires}
    payload = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
    return f"{payload}.{_mac(key, payload)}"


def verify(key: bytes, token: str, now_epoch: int) -> LinkClaims:
    """The claims of a genuine, unexpired token; raises :class:`InvalidLink` / :class:`ExpiredLink`."""
    if len(token) > MAX_TOKEN_LENGTH or not _TOKEN_PATTERN.fullmatch(token):
        raise InvalidLink("malformed link")
    payload, _, signature = token.partition(".")
    if not hmac.compare_digest(_mac(key, payload), signature):
        raise InvalidLink("bad signature")
    try:
        body = json.loads(_unb64(payload))
        approval_id, choice, email, expires = body["a"], body["c"], body["e"], body["x"]
    except (ValueError, KeyError, TypeError, binascii.Error) as error:
        raise InvalidLink("malformed link") from error
    if not (
        isinstance(approval_id, str)
        and APPROVAL_ID_PATTERN.fullmatch(approval_id)
        and isinstance(email, str)
        and 0 < len(email) <= 254
        and type(expires) is int
    ):
        raise InvalidLink("malformed link")
    if choice not in CHOICES:
        raise InvalidLink("unknown choice")
    claims = LinkClaims(approval_id=approval_id, choice=choice, email=email, expires=expires)
    if now_epoch > claims.expires:
        raise ExpiredLink(claims)
    return claims


def link_url(base_url: str, token: str) -> str:
    """``<approve function URL>/email/approve?token=...``."""
    return f"{base_url.rstrip('/')}/email/approve?{urlencode({'token': token})}"
