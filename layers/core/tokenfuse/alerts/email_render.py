"""Alerts as email: the subject names the dollars and the profile; the HTML and plain-text parts
come from the Jinja2 templates in ``alerts/templates`` (``.html`` autoescaped: every value is
escaped, nothing is marked safe by hand; ``.txt`` as written). Pure: no I/O but reading the
templates. The words come from :mod:`tokenfuse.alerts.messages`.

Jinja2 is imported on first use (:func:`tokenfuse.html_email.templates`), so an invoke that
sends no email never pays for it.
"""

from collections.abc import Sequence

from tokenfuse.alerts import messages
from tokenfuse.alerts.view import AlertView
from tokenfuse.html_email import templates
from tokenfuse.notifications import EmailMessage

TEXT_TEMPLATE = "message.txt"


def render_email(view: AlertView, note: str | None = None) -> EmailMessage:
    """The incident's alert. ``note`` says why it came by email (Slack failed)."""
    return _alert_email(view, note, lead=None, subject=messages.alert_subject(view))


def render_update_email(view: AlertView, note: str | None = None) -> EmailMessage:
    """A later signal for the same incident: what it says first, then the whole alert as it stands."""
    reply = messages.view_signal_reply(view)
    subject = messages.update_subject(messages.alert_subject(view))
    return _alert_email(view, note, lead=reply, subject=subject)


def render_notice_email(subject: str, text: str, note: str | None = None) -> EmailMessage:
    """A note to FinOps that is no incident's alert, as email."""
    return EmailMessage(
        subject=messages.one_line(subject),
        text=_text([note], text),
        html=_render("notice.html", why_email=note, text=text),
    )


def render_card_email(view: AlertView) -> EmailMessage:
    """One state change of the incident's status card, for a team without Slack: short, the
    status, the rate now and what happens next."""
    i = view.incident
    card = messages.card_of(i)
    rows = [
        (messages.STATUS, messages.card_status(card)),
        (messages.RATE_NOW, messages.rate_now(card, i)),
        (messages.SPEND_RATE, messages.rate_phrase(i)),
        (messages.NEXT, messages.card_next(view, card)),
    ]
    html = _render(
        "card.html",
        title=messages.title(view),
        rows=rows,
        footer=f"{messages.incident_footer(i)} · {messages.PRODUCT}",
    )
    text = messages.card_text(view, card)
    return EmailMessage(subject=messages.card_subject(view, card), text=_text([], text), html=html)


def _alert_email(view: AlertView, note: str | None, lead: str | None, subject: str) -> EmailMessage:
    i = view.incident
    card = messages.card_of(i)
    rows = [
        messages.subject_field(view),
        (messages.OWNER, f"{view.owner_label} ({view.route_reason})"),
        (messages.FEATURE_ENVIRONMENT, messages.feature_environment(i)),
        (messages.ACCOUNT_REGION, messages.account_region(i)),
        (messages.STATUS, messages.card_status(card)),
        (messages.RATE_NOW, messages.rate_now(card, i)),
        (messages.SPEND_RATE, messages.rate_phrase(i)),
        (messages.MONTH_END, messages.usd(i.month_end_usd)),
        (messages.SPIKE_KIND, f"{messages.kind_label(i.kind)}: {messages.tokens_line(i.culprit)}"),
        (messages.SEVERITY, i.severity),
    ]
    if view.spark:
        rows.append((messages.spend_label(i.culprit), view.spark))
    if i.culprit.rate_basis:
        rows.append((messages.RATE, i.culprit.rate_basis))
    html = _render(
        "alert.html",
        why_email=note,
        lead=lead,
        title=messages.title(view),
        rows=rows,
        next_label=messages.NEXT,
        next_step=messages.card_next(view, card),
        lever_label=messages.LEVER,
        lever=messages.lever(i),
        links=[{"url": link.url, "label": messages.link_label(link.kind)} for link in view.links],
        footer=f"{messages.incident_footer(i)} · {messages.PRODUCT}",
    )
    return EmailMessage(subject=subject, text=_text([note, lead], messages.alert_text(view)), html=html)


def _text(lead: Sequence[str | None], body: str) -> str:
    return _render(TEXT_TEMPLATE, lead=[paragraph for paragraph in lead if paragraph], body=body)


def _render(template: str, **values: object) -> str:
    return templates("tokenfuse.alerts").get_template(template).render(**values)
