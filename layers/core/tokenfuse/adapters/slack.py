"""Sending to Slack through slack-sdk's WebClient: post, update, thread replies.

429s are retried after Slack's Retry-After (``RateLimitErrorRetryHandler``), connection errors and
5xx a couple of times; what still fails raises :class:`SlackDeliveryError` with Slack's error
code, which the alerts stage records before it tries the next destination of its ladder. The bot
token comes from Secrets Manager through Powertools (cached), never from an environment value,
and is never logged.
"""

from typing import TYPE_CHECKING, Any

from tokenfuse.adapters.aws import error_code, get_secret
from tokenfuse.errors import TokenfuseError
from tokenfuse.notifications import Posted, SlackMessage
from tokenfuse.text import secret_value

if TYPE_CHECKING:  # slack-sdk is imported with the first client, off every path that sends nothing
    from slack_sdk import WebClient

DEFAULT_BASE_URL = "https://slack.com/api/"
TOKEN_MAX_AGE_SECONDS = 300
BOT_TOKEN_KEYS = ("bot_token", "token")
"""Where a JSON bot-token secret holds the token."""

WORKSPACE_ERRORS = frozenset(
    {"no_token", "invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"}
)
"""Slack errors after which no channel of the workspace will take a message (the token is the problem)."""


class SlackDeliveryError(TokenfuseError):
    """Slack refused or failed a call after retries. ``code`` is Slack's error (or ``http_<status>``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code

    @property
    def workspace_wide(self) -> bool:
        """True when no channel of this workspace will work either (a missing, revoked or refused
        token); False when another channel may (``channel_not_found``, a 5xx, a lost connection)."""
        return self.code in WORKSPACE_ERRORS


class SlackSender:
    """chat.postMessage / chat.update against Slack (or the sandbox's Slack-compatible server)."""

    def __init__(
        self,
        token: str | None,
        base_url: str | None = None,
        client: "WebClient | None" = None,
        max_rate_limit_retries: int = 2,
        timeout_seconds: int = 10,
    ) -> None:
        self._client = client
        self._token = token
        self._base_url = base_url or DEFAULT_BASE_URL
        self._max_rate_limit_retries = max_rate_limit_retries
        self._timeout = timeout_seconds

    @property
    def client(self) -> "WebClient":
        if self._client is None:
            if not self._token:
                raise SlackDeliveryError(
                    "no_token", "no Slack bot token configured (secret empty or missing)"
                )
            from slack_sdk import WebClient
            from slack_sdk.http_retry.builtin_handlers import (
                ConnectionErrorRetryHandler,
                RateLimitErrorRetryHandler,
                ServerErrorRetryHandler,
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
        client = self.client  # imports slack-sdk, whose errors are caught below
        from slack_sdk.errors import SlackApiError, SlackClientError

        try:
            response = getattr(client, method)(**kwargs)
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
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    try:
        value = str(get_secret(secret_arn, max_age=max_age)).strip()
    except GetParameterError as error:
        if error_code(error) == "ResourceNotFoundException":  # created by the stack, value not set yet
            return None
        raise TokenfuseError(
            f"cannot read the Slack bot token secret: {' '.join(str(error).split())}"
        ) from None
    try:
        return secret_value(value, *BOT_TOKEN_KEYS) or None
    except ValueError as error:
        raise TokenfuseError(f"the Slack bot token secret {error}") from None
