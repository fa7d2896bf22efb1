"""The email channel of the alerts stage: render (:mod:`~tokenfuse.alerts.email_render`), then send
through SES, and say what came of it as an :class:`~tokenfuse.alerts.delivery.Attempt`."""

from tokenfuse.adapters.email import EMAIL_DISABLED, EmailDeliveryError, EmailSender
from tokenfuse.alerts.delivery import Alert, Attempt, EmailDestination, FinOpsNotice, SentMessage
from tokenfuse.alerts.email_render import render_email, render_notice_email, render_update_email
from tokenfuse.errors import TokenfuseError
from tokenfuse.notifications import EmailMessage
from tokenfuse.observability import logger
from tokenfuse.text import one_line


class EmailDelivery:
    def __init__(self, sender: EmailSender) -> None:
        self.sender = sender

    def send(self, destination: EmailDestination, alert: Alert, note: str | None) -> Attempt:
        """One email to the destination's addresses; SES's refusal is a failed attempt with its code
        (no sender configured rules out every email destination)."""
        message = render(alert, note)
        try:
            self.sender.send(list(destination.addresses), message)
        except EmailDeliveryError as error:
            return Attempt(destination, "failed", error.code, rules_out_channel=error.code == EMAIL_DISABLED)
        except TokenfuseError as error:  # throttled, denied: translated AWS errors
            logger.warning("alert email failed", extra={"error": one_line(error)})
            return Attempt(destination, "failed", type(error).__name__)
        sent = SentMessage("email", destination.team, message.text, None, "email")
        return Attempt(destination, "delivered", sent=(sent,))


def render(alert: Alert, note: str | None) -> EmailMessage:
    if isinstance(alert, FinOpsNotice):
        return render_notice_email(alert.subject, alert.text, note)
    if alert.follow_up:
        return render_update_email(alert.view, note)
    return render_email(alert.view, note)
