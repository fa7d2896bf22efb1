"""Sending email through SES (``send_email`` with an HTML and a plain-text part).

SES's refusals of this message (``MessageRejected``, an unverified MAIL FROM domain) and a missing
sender or recipient raise :class:`EmailDeliveryError` with a code; other AWS errors (throttling,
access) are translated as every adapter translates them (:func:`tokenfuse.adapters.aws.translate`).
"""

from typing import Any

from botocore.exceptions import ClientError

from tokenfuse.adapters.aws import AWS_ERRORS, client, translate
from tokenfuse.errors import TokenfuseError
from tokenfuse.notifications import EmailMessage

REFUSALS = frozenset({"MessageRejected", "MailFromDomainNotVerifiedException"})
"""SES error codes that refuse this message (another address or a fixed identity may work)."""
EMAIL_DISABLED = "email_disabled"
NO_RECIPIENTS = "no_recipients"


class EmailDeliveryError(TokenfuseError):
    """SES refused the message, or it cannot be sent at all. ``code`` is SES's error code, or
    :data:`EMAIL_DISABLED` / :data:`NO_RECIPIENTS`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


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
                EMAIL_DISABLED, "email is disabled: no SES sender configured (stack parameter SenderEmail)"
            )
        if not recipients:
            raise EmailDeliveryError(NO_RECIPIENTS, "no email recipients")
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
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in REFUSALS:
                raise EmailDeliveryError(code, " ".join(str(error).split())) from error
            raise translate(error) from error
        except AWS_ERRORS as error:
            raise translate(error) from error
        return str(response["MessageId"])
