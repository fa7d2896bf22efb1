"""Signed, expiring approval links for teams without Slack.

A link token is ``<payload>.<signature>``: the payload is base64url JSON ``{"a": approval id,
"c": choice, "e": recipient email, "x": expiry (epoch seconds)}``, the signature base64url
HMAC-SHA256 of the payload with the key from ``EMAIL_LINK_KEY_SECRET_ARN``. Each recipient gets
their own links. Single use comes from the approval itself: once any link (or Slack click) has
decided it, every other link answers "already decided".
"""

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from urllib.parse import urlencode

from tokenfuse.errors import TokenfuseError

CHOICES = ("approve", "decline", "snooze")


class InvalidLink(TokenfuseError):
    """Tampered, malformed or signed with another key."""


class ExpiredLink(TokenfuseError):
    """Correctly signed, but past its expiry."""


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
    payload, dot, signature = token.partition(".")
    if not dot or not payload or not signature:
        raise InvalidLink("malformed link")
    if not hmac.compare_digest(_mac(key, payload), signature):
        raise InvalidLink("bad signature")
    try:
        body = json.loads(_unb64(payload))
        claims = LinkClaims(
            approval_id=str(body["a"]), choice=str(body["c"]), email=str(body["e"]), expires=int(body["x"])
        )
    except (ValueError, KeyError, TypeError, binascii.Error) as error:
        raise InvalidLink("malformed link") from error
    if claims.choice not in CHOICES:
        raise InvalidLink("unknown choice")
    if now_epoch > claims.expires:
        raise ExpiredLink("this link has expired")
    return claims


def link_url(base_url: str, token: str) -> str:
    """``<approve function URL>/email/approve?token=...``."""
    return f"{base_url.rstrip('/')}/email/approve?{urlencode({'token': token})}"
