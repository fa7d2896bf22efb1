"""Sending email through SES (``send_email`` with an HTML and a plain-text part).

SES's refusals of this message (``MessageRejected``, an unverified MAIL FROM domain) and a missing
sender or recipient raise :class:`EmailDeliveryError` with a code; other AWS errors (throttling,
access) are translated as every AWS call is (:func:`tokenfuse.adapters.aws.aws_call`).
"""

from typing import TYPE_CHECKING

from tokenfuse.adapters.aws import aws_call, client
from tokenfuse.errors import AwsError
from tokenfuse.notifications import EmailMessage

if TYPE_CHECKING:
    from mypy_boto3_ses import SESClient

SEND_EMAIL = "ses:SendEmail"
EMAIL_DISABLED = "email_disabled"
NO_RECIPIENTS = "no_recipients"


class EmailDeliveryError(AwsError):
    """SES refused the message, or it cannot be sent at all. ``code`` is SES's error code, or
    :data:`EMAIL_DISABLED` / :data:`NO_RECIPIENTS`."""

    code: str

    def __init__(
        self, message: str, *, code: str, operation: str | None = SEND_EMAIL, resource: str | None = None
    ) -> None:
        super().__init__(message, code=code, operation=operation, resource=resource)


REFUSALS: dict[str, type[AwsError]] = dict.fromkeys(
    ("MessageRejected", "MailFromDomainNotVerifiedException"), EmailDeliveryError
)
"""SES error codes that refuse this message (another address or a fixed identity may work)."""


class EmailSender:
    def __init__(self, sender: str | None, ses_client: "SESClient | None" = None) -> None:
        self.sender = sender or None
        self._client = ses_client

    @property
    def enabled(self) -> bool:
        return self.sender is not None

    @property
    def client(self) -> "SESClient":
        if self._client is None:
            self._client = client("ses")
        return self._client

    def send(self, to: list[str], message: EmailMessage) -> str:
        """Send to every address in ``to`` (one message); the SES message id."""
        recipients = sorted({address for address in to if address})
        if not self.sender:
            raise EmailDeliveryError(
                "email is disabled: no SES sender configured (stack parameter SenderEmail)",
                code=EMAIL_DISABLED,
            )
        if not recipients:
            raise EmailDeliveryError("no email recipients", code=NO_RECIPIENTS)
        with aws_call(SEND_EMAIL, codes=REFUSALS):
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
