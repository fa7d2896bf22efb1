"""Where people are told, read-only: Slack (``auth.test``, channel membership) and SES (identities,
the SES sandbox)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from tokenfuse.adapters.aws import aws_call
from tokenfuse.adapters.slack import DEFAULT_BASE_URL
from tokenfuse.drill.ports import ChannelMembership, IdentityStatus, SlackAuth

if TYPE_CHECKING:
    from mypy_boto3_ses import SESClient
    from mypy_boto3_sesv2 import SESV2Client

_STATUSES: frozenset[str] = frozenset({"Success", "Pending", "Failed", "TemporaryFailure", "NotStarted"})


def _slack_error(error: SlackApiError | SlackClientError | OSError) -> str:
    if isinstance(error, SlackApiError):
        data = error.response.data if isinstance(error.response.data, dict) else {}
        return str(data.get("error") or f"http_{getattr(error.response, 'status_code', '?')}")
    return f"connection: {type(error).__name__}"


class SlackProbe:
    """:class:`~tokenfuse.drill.ports.SlackPort` with slack-sdk's WebClient (read-only calls)."""

    def __init__(self, token: str | None, base_url: str | None = None, timeout: int = 10) -> None:
        self.token = token
        base = base_url or DEFAULT_BASE_URL
        self.client = WebClient(
            token=token, base_url=base if base.endswith("/") else base + "/", timeout=timeout
        )

    def auth(self) -> SlackAuth:
        if not self.token:
            return SlackAuth(ok=False, error="no bot token in the secret")
        try:
            data = self.client.auth_test().data
        except (SlackApiError, SlackClientError, OSError) as error:
            return SlackAuth(ok=False, error=_slack_error(error))
        answer = data if isinstance(data, dict) else {}
        return SlackAuth(ok=True, team=answer.get("team"), bot_user=answer.get("user_id"))

    def membership(self, channel: str) -> ChannelMembership:
        try:
            data = self.client.conversations_info(channel=channel).data
        except (SlackApiError, SlackClientError, OSError) as error:
            return ChannelMembership(channel, member=False, error=_slack_error(error))
        info = (data if isinstance(data, dict) else {}).get("channel") or {}
        return ChannelMembership(channel, member=bool(info.get("is_member")), name=info.get("name"))


class SesMail:
    """:class:`~tokenfuse.drill.ports.MailPort` with boto3's ``ses`` (identities) and ``sesv2``
    (``GetAccount``: ``ProductionAccessEnabled``)."""

    def __init__(self, ses: SESClient, sesv2: SESV2Client) -> None:
        self.ses = ses
        self.sesv2 = sesv2

    def identity_status(self, identity: str) -> IdentityStatus:
        with aws_call("ses:GetIdentityVerificationAttributes", resource=identity):
            answer = self.ses.get_identity_verification_attributes(Identities=[identity])
        found = (answer.get("VerificationAttributes") or {}).get(identity)
        status = found.get("VerificationStatus") if found else None
        # botocore does not check answers: a status SES adds later reads as absent, not as itself
        return status if status is not None and status in _STATUSES else "absent"

    def production_access(self) -> bool | None:
        with aws_call("ses:GetAccount"):
            answer = self.sesv2.get_account()
        value = answer.get("ProductionAccessEnabled")
        return value if isinstance(value, bool) else None
