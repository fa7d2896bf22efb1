"""Sending email through SES (``send_email`` with an HTML and a plain-text part)."""

from dataclasses import dataclass
from typing import Any

from tokenfuse.adapters.aws import aws_call, client
from tokenfuse.errors import AwsError


class EmailDeliveryError(AwsError):
    """SES refused the message (or no sender is configured)."""


_REFUSED: dict[str, type[AwsError]] = dict.fromkeys(
    ("MessageRejected", "MailFromDomainNotVerifiedException"), EmailDeliveryError
)


@dataclass(frozen=True)
class EmailMessage:
    subject: str
    text: str
    html: str


class EmailSender:
    def __init__(self, sender: str | None, ses_client: Any | None = None) -> None:
        self.sender = sender or None
        self._client = ses_client

    @property
    def enabled(self) -> bool:
        return self.sender is not None

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = client("ses")
        return self._client

    def send(self, to: list[str], message: EmailMessage) -> str:
        """Send to every address in ``to`` (one message); the SES message id."""
        recipients = sorted({address for address in to if address})
        if not self.sender:
            raise EmailDeliveryError(
                "email is disabled: no SES sender configured (stack parameter SenderEmail)"
            )
        if not recipients:
            raise EmailDeliveryError("no email recipients")
        with aws_call("ses:SendEmail", codes=_REFUSED):
            response = self.client.send_email(
                Source=self.sender,
                Destination={"ToAddresses": recipients},
                Message={
                    "Subject": {"Data": message.subject, "Charset": "UTF-8"},
                    "Body": {
                        "Text": {"Data": message.text, "Charset": "UTF-8"},
                        "Html": {"Data": message.html, "Charset": "UTF-8"},
                    },
                },
            )
        return str(response["MessageId"])
