"""Sending email through SES (``send_email`` with an HTML and a plain-text part)."""

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from tokenfuse.adapters.aws import AWS_ERRORS, client, translate
from tokenfuse.errors import TokenfuseError


class EmailDeliveryError(TokenfuseError):
    """SES refused the message (or no sender is configured)."""


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
        try:
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
        except ClientError as error:
            if error.response["Error"]["Code"] in {"MessageRejected", "MailFromDomainNotVerifiedException"}:
                raise EmailDeliveryError(" ".join(str(error).split())) from error
            raise translate(error) from error
        except AWS_ERRORS as error:
            raise translate(error) from error
        return str(response["MessageId"])
