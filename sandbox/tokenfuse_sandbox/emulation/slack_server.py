"""Emulation: a Slack-compatible Web API server on loopback, and signed interactivity requests.

:class:`SlackServer` is a ``ThreadingHTTPServer`` on 127.0.0.1 that answers what slack-sdk's
``WebClient(token=..., base_url=server.base_url)`` sends for ``chat.postMessage``, ``chat.update``,
``chat.postEphemeral``, ``auth.test`` and ``conversations.info``: JSON or form-encoded bodies (and
query strings for GET), the bot token as ``Authorization: Bearer`` (or a ``token`` field), answers
shaped as Slack's (``ok``, ``error``, ``channel``, ``ts``, ``message``), ``not_authed`` /
``invalid_auth`` for a missing / wrong token, ``channel_not_found`` for a channel that was not
registered, ``message_not_found`` / ``thread_not_found`` for an unknown ``ts`` / ``thread_ts``;
``chat.update`` also ``cant_update_message`` (a message the bot did not post), ``msg_too_long``
and ``invalid_blocks`` (past 50 blocks, or a block without a type).
Message ``ts`` values are unique and increasing (``"1700000000.000100"`` style), taken from the
``now`` callable (``tokenfuse.clock.now`` by default, i.e. the simulated clock in the sandbox).
Every call, failed ones included, is recorded as a :class:`SlackCall`; the current state of each
channel's messages (after updates) is kept too. :meth:`SlackServer.inject_fault` makes the next N
calls of a method answer 429 ``ratelimited`` with ``Retry-After``, HTTP 500, or ``ok: false``.

:func:`signed_interaction` / :func:`send_interaction` build and send an interactivity request as
Slack does: form body ``payload=<json>``, ``X-Slack-Request-Timestamp`` and ``X-Slack-Signature``
= ``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{body}`` under the signing secret (the computation
``slack_sdk.signature.SignatureVerifier`` checks). :func:`block_actions_payload` builds the
``block_actions`` payload a button click sends.

What it does NOT prove: Slack's real rate limits and tiers, message formatting / mrkdwn rendering,
Block Kit validation beyond the block count and types, OAuth scopes (``missing_scope``), channel membership
(``not_in_channel``), file uploads, Events API delivery, ``response_url`` follow-ups, or that the
Slack app manifest is accepted by Slack.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import itertools
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, urlencode, urlparse

from tokenfuse import clock

__all__ = [
    "SlackCall",
    "SlackServer",
    "block_actions_payload",
    "send_interaction",
    "sign",
    "signed_interaction",
]

FaultKind = Literal["rate_limited", "server_error", "error"]
MAX_TEXT = 40_000
"""Slack truncates ``text`` past 40,000 characters; ``chat.update`` refuses it (``msg_too_long``)."""
MAX_BLOCKS = 50
"""A message holds at most 50 blocks (``invalid_blocks`` past that)."""
_METHODS = ("chat.postMessage", "chat.update", "chat.postEphemeral", "auth.test", "conversations.info")


@dataclass(frozen=True)
class SlackCall:
    """One call the server received, as it answered it."""

    method: str
    channel: str | None
    text: str | None
    blocks: list[dict[str, Any]] | None
    thread_ts: str | None
    ts: str | None
    at: datetime
    ok: bool
    error: str | None = None
    status: int = 200
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Fault:
    kind: FaultKind
    remaining: int
    error: str
    retry_after: int


class _SlackError(Exception):
    def __init__(self, error: str, status: int = 200) -> None:
        super().__init__(error)
        self.error = error
        self.status = status


class SlackServer:
    """A Slack-compatible Web API server on 127.0.0.1. Use as a context manager or start()/stop().

    ``channels`` maps channel id -> name (e.g. ``{"C0PAYMENTS": "payments-alerts"}``).
    """

    def __init__(
        self,
        token: str = "xoxb-tokenfuse-sandbox",  # noqa: S107 (a sandbox-only fake token)
        channels: Mapping[str, str] | None = None,
        *,
        port: int = 0,
        team_id: str = "T0SANDBOX",
        team: str = "tokenfuse-sandbox",
        bot_user_id: str = "U0TOKENFUSE",
        bot_id: str = "B0TOKENFUSE",
        app_id: str = "A0TOKENFUSE",
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.token = token
        self.team_id, self.team = team_id, team
        self.bot_user_id, self.bot_id, self.app_id = bot_user_id, bot_id, app_id
        self._port = port
        self._now = now or clock.now
        self._lock = threading.RLock()
        self._channels: dict[str, str] = dict(channels or {})
        self._messages: dict[str, list[dict[str, Any]]] = {}
        self._calls: list[SlackCall] = []
        self._faults: dict[str, list[_Fault]] = {}
        self._last_ts_us = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self) -> SlackServer:
        if self._server is not None:
            return self
        server = ThreadingHTTPServer(("127.0.0.1", self._port), _handler_for(self))
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="slack-emulation", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def __enter__(self) -> SlackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the Slack server is not running")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """What to pass as ``WebClient(base_url=...)``."""
        return f"http://127.0.0.1:{self.port}/api/"

    # --- set-up and inspection -------------------------------------------------------------------

    @property
    def calls(self) -> list[SlackCall]:
        """Every call so far, in order (a copy)."""
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str, *, ok: bool | None = True) -> list[SlackCall]:
        """The calls of one method; by default only the successful ones."""
        return [c for c in self.calls if c.method == method and (ok is None or c.ok == ok)]

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """The channel's messages as they stand now (updates applied), thread replies included."""
        with self._lock:
            return [dict(m) for m in self._messages.get(self._resolve(channel) or channel, [])]

    def inject_fault(
        self,
        method: str,
        kind: FaultKind = "rate_limited",
        *,
        times: int = 1,
        error: str = "internal_error",
        retry_after: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail: ``rate_limited`` = HTTP 429
        ``{"ok": false, "error": "ratelimited"}`` with ``Retry-After``; ``server_error`` = HTTP 500;
        ``error`` = HTTP 200 ``{"ok": false, "error": error}``."""
        if kind not in ("rate_limited", "server_error", "error"):
            raise ValueError(f"unknown fault kind {kind!r}")
        with self._lock:
            self._faults.setdefault(method, []).append(_Fault(kind, times, error, retry_after))

    # --- request handling ------------------------------------------------------------------------

    def _resolve(self, channel: str | None) -> str | None:
        if not channel:
            return None
        if channel in self._channels:
            return channel
        name = channel.removeprefix("#")
        for cid, cname in self._channels.items():
            if cname == name:
                return cid
        return None

    def _next_ts(self) -> str:
        now_us = int(self._now().timestamp() * 1_000_000)
        self._last_ts_us = max(now_us, self._last_ts_us + 1)
        sec, us = divmod(self._last_ts_us, 1_000_000)
        return f"{sec}.{us:06d}"

    def _take_fault(self, method: str) -> _Fault | None:
        queue = self._faults.get(method)
        if not queue:
            return None
        fault = queue[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            queue.pop(0)
        return fault

    def handle(
        self, method: str, params: dict[str, Any], authorization: str | None
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        """Answer one API call: (HTTP status, extra headers, JSON body). Thread-safe."""
        with self._lock:
            at = self._now()
            channel = params.get("channel")
            status, headers = 200, {}
            try:
                fault = self._take_fault(method)
                if fault is not None:
                    if fault.kind == "rate_limited":
                        headers = {"Retry-After": str(fault.retry_after)}
                        raise _SlackError("ratelimited", 429)
                    if fault.kind == "server_error":
                        raise _SlackError("internal_error", 500)
                    raise _SlackError(fault.error)
                self._authenticate(params, authorization)
                body = self._dispatch(method, params)
            except _SlackError as e:
                status = e.status
                body = {"ok": False, "error": e.error}
            message = body.get("message") or {}
            self._calls.append(
                SlackCall(
                    method=method,
                    channel=body.get("channel", channel),
                    text=params.get("text"),
                    blocks=params.get("blocks"),
                    thread_ts=params.get("thread_ts"),
                    ts=body.get("ts") or body.get("message_ts") or message.get("ts"),
                    at=at,
                    ok=bool(body.get("ok")),
                    error=body.get("error"),
                    status=status,
                    params=dict(params),
                )
            )
            return status, headers, body

    def _authenticate(self, params: dict[str, Any], authorization: str | None) -> None:
        token = params.get("token")
        if authorization and authorization.lower().startswith("bearer "):
            token = authorization[7:].strip()
        if not token:
            raise _SlackError("not_authed")
        if not hmac.compare_digest(str(token), self.token):
            raise _SlackError("invalid_auth")

    def _dispatch(self, method: str, p: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": f"https://{self.team}.slack.com/",
                "team": self.team,
                "user": "tokenfuse",
                "team_id": self.team_id,
                "user_id": self.bot_user_id,
                "bot_id": self.bot_id,
                "is_enterprise_install": False,
            }
        if method not in _METHODS:
            raise _SlackError("unknown_method", 404)
        cid = self._resolve(p.get("channel"))
        if cid is None:
            raise _SlackError("channel_not_found")
        if method == "conversations.info":
            return {"ok": True, "channel": self._channel_info(cid)}
        if method == "chat.postMessage":
            return self._post(cid, p)
        if method == "chat.update":
            return self._update(cid, p)
        return self._post_ephemeral(cid, p)

    def _channel_info(self, cid: str) -> dict[str, Any]:
        return {
            "id": cid,
            "name": self._channels[cid],
            "is_channel": True,
            "is_group": False,
            "is_im": False,
            "is_private": False,
            "is_archived": False,
            "is_general": False,
            "is_member": True,
            "created": 1_700_000_000,
            "creator": "U0SANDBOXADMIN",
            "context_team_id": self.team_id,
        }

    def _find(self, cid: str, ts: str) -> dict[str, Any] | None:
        return next((m for m in self._messages.get(cid, []) if m["ts"] == ts), None)

    @staticmethod
    def _require_content(p: dict[str, Any]) -> None:
        if not (p.get("text") or p.get("blocks") or p.get("attachments")):
            raise _SlackError("no_text")

    def _post(self, cid: str, p: dict[str, Any]) -> dict[str, Any]:
        self._require_content(p)
        thread_ts = p.get("thread_ts")
        if thread_ts is not None:
            parent = self._find(cid, str(thread_ts))
            if parent is None:
                raise _SlackError("thread_not_found")
            thread_ts = parent.get("thread_ts") or parent["ts"]
        message: dict[str, Any] = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "text": p.get("text") or "",
            "ts": self._next_ts(),
        }
        if p.get("blocks"):
            message["blocks"] = p["blocks"]
        if p.get("attachments"):
            message["attachments"] = p["attachments"]
        if thread_ts is not None:
            message["thread_ts"] = thread_ts
        self._messages.setdefault(cid, []).append(message)
        return {"ok": True, "channel": cid, "ts": message["ts"], "message": dict(message)}

    def _update(self, cid: str, p: dict[str, Any]) -> dict[str, Any]:
        """``chat.update`` as Slack answers it: ``message_not_found`` for an unknown ``ts``,
        ``cant_update_message`` for a message the bot did not post, ``no_text`` without content,
        ``msg_too_long`` past 40,000 characters of text, ``invalid_blocks`` past 50 blocks or for
        a block without a ``type``; else ``channel``, ``ts``, ``text`` and the updated ``message``
        (which Slack shows as edited)."""
        ts = p.get("ts")
        message = self._find(cid, str(ts)) if ts else None
        if message is None:
            raise _SlackError("message_not_found")
        if message.get("user") != self.bot_user_id:
            raise _SlackError("cant_update_message")
        self._require_content(p)
        self._check_size(p)
        if "text" in p:
            message["text"] = p.get("text") or ""
        if "blocks" in p:
            message["blocks"] = p["blocks"]
        message["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        out = {k: v for k, v in message.items() if k != "edited"}
        return {"ok": True, "channel": cid, "ts": message["ts"], "text": message["text"], "message": out}

    @staticmethod
    def _check_size(p: dict[str, Any]) -> None:
        if len(str(p.get("text") or "")) > MAX_TEXT:
            raise _SlackError("msg_too_long")
        blocks = p.get("blocks")
        if blocks is not None and (
            not isinstance(blocks, list)
            or len(blocks) > MAX_BLOCKS
            or not all(isinstance(b, dict) and b.get("type") for b in blocks)
        ):
            raise _SlackError("invalid_blocks")

    def post_as_user(self, channel: str, user: str, text: str) -> str:
        """A message a person posted (the bot may not edit it): its ``ts``."""
        with self._lock:
            cid = self._resolve(channel) or channel
            message = {"type": "message", "user": user, "text": text, "ts": self._next_ts()}
            self._messages.setdefault(cid, []).append(message)
            return str(message["ts"])

    def _post_ephemeral(self, cid: str, p: dict[str, Any]) -> dict[str, Any]:
        if not p.get("user"):
            raise _SlackError("user_not_in_channel")
        self._require_content(p)
        return {"ok": True, "message_ts": self._next_ts()}


def _parse_params(query: str, content_type: str, raw: bytes) -> dict[str, Any]:
    params: dict[str, Any] = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
    if raw:
        if content_type.startswith("application/json"):
            body = json.loads(raw.decode("utf-8"))
            if isinstance(body, dict):
                params.update(body)
        else:
            params.update({k: v[0] for k, v in parse_qs(raw.decode("utf-8"), keep_blank_values=True).items()})
    for key in ("blocks", "attachments"):  # form-encoded clients send these as JSON strings
        if isinstance(params.get(key), str):
            with contextlib.suppress(ValueError):
                params[key] = json.loads(params[key])
    return params


def _handler_for(slack: SlackServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            url = urlparse(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if not url.path.startswith("/api/"):
                self._reply(404, {}, {"ok": False, "error": "unknown_method"})
                return
            method = url.path.removeprefix("/api/").strip("/")
            try:
                params = _parse_params(url.query, self.headers.get("Content-Type") or "", raw)
            except ValueError:
                self._reply(200, {}, {"ok": False, "error": "invalid_json"})
                return
            status, headers, body = slack.handle(method, params, self.headers.get("Authorization"))
            self._reply(status, headers, body)

        def _reply(self, status: int, headers: dict[str, str], body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        do_GET = _serve
        do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


# --- interactivity: what Slack sends to the app --------------------------------------------------


def sign(signing_secret: str, timestamp: int | str, body: str | bytes) -> str:
    """``X-Slack-Signature`` for ``body``: ``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{body}``."""
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


def signed_interaction(
    payload: Mapping[str, Any], signing_secret: str, timestamp: int | None = None
) -> tuple[str, dict[str, str]]:
    """(body, headers) of an interactivity request as Slack sends it: form ``payload=<json>``,
    signed at ``timestamp`` (default: ``tokenfuse.clock.now()``, the simulated clock in the sandbox)."""
    if timestamp is None:
        timestamp = int(clock.now().timestamp())
    body = urlencode({"payload": json.dumps(payload, separators=(",", ":"))})
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": sign(signing_secret, timestamp, body),
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
    }
    return body, headers


def send_interaction(
    url: str,
    payload: Mapping[str, Any],
    signing_secret: str,
    *,
    timestamp: int | None = None,
    timeout: float = 10,
) -> tuple[int, dict[str, str], str]:
    """POST a signed interactivity request to ``url``; returns (status, headers, body text)."""
    body, headers = signed_interaction(payload, signing_secret, timestamp)
    if not url.startswith(("http://", "https://")):
        raise ValueError("url must be http(s)")
    req = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310
            return resp.status, dict(resp.headers.items()), resp.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers.items()), e.read().decode("utf-8")


_trigger_ids: Iterator[int] = itertools.count(1)


def block_actions_payload(
    *,
    action_id: str,
    value: str,
    user_id: str,
    channel_id: str,
    message_ts: str,
    block_id: str = "tokenfuse-approval",
    user_name: str | None = None,
    team_id: str = "T0SANDBOX",
    team_domain: str = "tokenfuse-sandbox",
    channel_name: str = "",
    api_app_id: str = "A0TOKENFUSE",
    message: Mapping[str, Any] | None = None,
    response_url: str = "https://hooks.slack.com/actions/T0SANDBOX/1/sandbox",
) -> dict[str, Any]:
    """The ``block_actions`` payload Slack sends when a user clicks a button in a message."""
    now = clock.now().timestamp()
    name = user_name or user_id.lower()
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": name, "name": name, "team_id": team_id},
        "api_app_id": api_app_id,
        "token": "deprecated-verification-token",
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
        },
        "trigger_id": f"{int(now)}.{next(_trigger_ids)}.sandbox",
        "team": {"id": team_id, "domain": team_domain},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": channel_name},
        "message": dict(message) if message is not None else {"type": "message", "ts": message_ts},
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": block_id,
                "text": {"type": "plain_text", "text": action_id.replace("_", " ").title(), "emoji": True},
                "value": value,
                "type": "button",
                "action_ts": f"{now:.6f}",
            }
        ],
    }
