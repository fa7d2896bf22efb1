"""Sending to Slack through slack-sdk's WebClient: post, update, thread replies.

429s are retried after Slack's Retry-After (``RateLimitErrorRetryHandler``), connection errors and
5xx a couple of times; what still fails raises :class:`SlackDeliveryError`, which the alert
service turns into the email / FinOps fallback. The bot token comes from Secrets Manager through
Powertools (cached), never from an environment value, and is never logged.
"""

import json
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from tokenfuse.adapters.aws import error_code
from tokenfuse.errors import TokenfuseError

DEFAULT_BASE_URL = "https://slack.com/api/"
TOKEN_MAX_AGE_SECONDS = 300

# Errors that say this channel (not Slack as a whole) cannot take the message: another channel may.
CHANNEL_ERRORS = frozenset({"channel_not_found", "not_in_channel", "is_archived", "restricted_action"})


class SlackDeliveryError(TokenfuseError):
    """Slack refused or failed a call after retries. ``code`` is Slack's error (or ``http_<status>``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code

    @property
    def channel_only(self) -> bool:
        """True when another channel of the same workspace may still work."""
        return self.code in CHANNEL_ERRORS


@dataclass(frozen=True)
class SlackMessage:
    """What a renderer produces: the plain-text fallback (reads well alone) and Block Kit blocks."""

    text: str
    blocks: list[dict[str, Any]]


@dataclass(frozen=True)
class Posted:
    channel: str
    ts: str


class SlackSender:
    """chat.postMessage / chat.update against Slack (or the sandbox's Slack-compatible server)."""

    def __init__(
        self,
        token: str | None,
        base_url: str | None = None,
        client: WebClient | None = None,
        max_rate_limit_retries: int = 2,
        timeout_seconds: int = 10,
    ) -> None:
        self._client = client
        self._token = token
        self._base_url = base_url or DEFAULT_BASE_URL
        self._max_rate_limit_retries = max_rate_limit_retries
        self._timeout = timeout_seconds

    @property
    def client(self) -> WebClient:
        if self._client is None:
            if not self._token:
                raise SlackDeliveryError(
                    "no_token", "no Slack bot token configured (secret empty or missing)"
                )
            base_url = self._base_url if self._base_url.endswith("/") else self._base_url + "/"
            self._client = WebClient(
                token=self._token,
                base_url=base_url,
                timeout=self._timeout,
                retry_handlers=[
                    RateLimitErrorRetryHandler(max_retry_count=self._max_rate_limit_retries),
                    ConnectionErrorRetryHandler(max_retry_count=2),
                    ServerErrorRetryHandler(max_retry_count=1),
                ],
            )
        return self._client

    def post(self, channel: str, message: SlackMessage, thread_ts: str | None = None) -> Posted:
        """A top-level message, or a reply in ``thread_ts``'s thread."""
        kwargs: dict[str, Any] = {"channel": channel, "text": message.text, "blocks": message.blocks}
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
        data = self._call("chat_postMessage", **kwargs)
        return Posted(channel=str(data.get("channel") or channel), ts=str(data["ts"]))

    def update(self, channel: str, ts: str, message: SlackMessage) -> Posted:
        data = self._call("chat_update", channel=channel, ts=ts, text=message.text, blocks=message.blocks)
        return Posted(channel=str(data.get("channel") or channel), ts=str(data.get("ts") or ts))

    def _call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = getattr(self.client, method)(**kwargs)
        except SlackApiError as error:
            status = getattr(error.response, "status_code", None)
            data = error.response.data if isinstance(error.response.data, dict) else {}
            code = str(data.get("error") or f"http_{status}")
            raise SlackDeliveryError(code, f"Slack {method} failed: {code} (HTTP {status})") from error
        except (SlackClientError, OSError) as error:
            raise SlackDeliveryError(
                "connection", f"Slack {method} failed: {type(error).__name__}"
            ) from error
        data = response.data if isinstance(response.data, dict) else {}
        return data


def bot_token_from_secret(secret_arn: str | None, max_age: int = TOKEN_MAX_AGE_SECONDS) -> str | None:
    """The bot token in the secret (a plain ``xoxb-...`` string, or JSON with ``token``/``bot_token``).

    None when no secret is configured or it holds no value yet (Slack then counts as failed and the
    alert goes by email); other errors raise.
    """
    if not secret_arn:
        return None
    from aws_lambda_powertools.utilities import parameters
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    try:
        value = str(parameters.get_secret(secret_arn, max_age=max_age)).strip()
    except GetParameterError as error:
        if error_code(error) == "ResourceNotFoundException":  # created by the stack, value not set yet
            return None
        raise TokenfuseError(
            f"cannot read the Slack bot token secret: {' '.join(str(error).split())}"
        ) from None
    if value.startswith("{"):
        document = json.loads(value)
        value = str(document.get("bot_token") or document.get("token") or "")
    return value or None
