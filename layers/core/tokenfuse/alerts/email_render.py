"""The alert as an email (subject with the dollars and the profile, HTML and plain-text parts). Pure."""

from html import escape

from tokenfuse.adapters.email import EmailMessage
from tokenfuse.alerts.slack_render import alert_text, signal_reply_text
from tokenfuse.alerts.view import AlertView, rate_phrase, usd
from tokenfuse.events import Incident


def render_email(view: AlertView, fallback_note: str | None = None) -> EmailMessage:
    """The incident's alert. ``fallback_note`` explains why it came by email (Slack failed)."""
    i = view.incident
    rate = f"{usd(i.cost_per_hour_usd)}/h" if i.cost_per_hour_usd is not None else "unpriced"
    subject = f"{view.prefix}[tokenfuse] {rate} Bedrock spend spike on {view.profile} ({view.owner_label}"
    subject += f", {i.environment})" if i.environment else ")"
    text = alert_text(view)
    if fallback_note:
        text = f"{fallback_note}\n\n{text}"
    rows = [
        view.subject_field,
        ("Owner", f"{view.owner_label} ({view.route_reason})"),
        ("Feature / environment", f"{i.feature or 'n/a'} / {i.environment or 'n/a'}"),
        ("Account / region", f"{i.account_id} / {i.region}"),
        ("Spend rate", rate_phrase(i)),
        ("Month-end at this rate", usd(i.month_end_usd)),
        ("Spike kind", f"{view.kind_label}: {view.tokens_line}"),
        ("Severity", i.severity),
    ]
    if view.spark:
        rows.append((f"Spend ({view.spark_caption})", view.spark))
    if view.rate_basis:
        rows.append(("Rate", view.rate_basis))
    table = "\n".join(
        f'<tr><th align="left" style="padding:4px 12px 4px 0">{escape(k)}</th><td>{escape(v)}</td></tr>'
        for k, v in rows
    )
    links = " · ".join(f'<a href="{escape(lk.url)}">{escape(lk.label)}</a>' for lk in view.links)
    note = f'<p style="color:#a00">{escape(fallback_note)}</p>' if fallback_note else ""
    html = f"""<!doctype html>
<html><body style="font-family:sans-serif;font-size:14px">
{note}<h2 style="margin:0 0 8px">{escape(view.title)}</h2>
<table>
{table}
</table>
<p><b>Next:</b> {escape(view.next_step)}</p>
<p><b>Lever:</b> {escape(view.lever)}</p>
<p>{links}</p>
<p style="color:#666">Incident {escape(i.incident_id)} · {escape(view.sources_line)} · tokenfuse</p>
</body></html>
"""
    return EmailMessage(subject=_one_line(subject), text=text, html=html)


def render_update_email(view: AlertView, previous: Incident | None) -> EmailMessage:
    """A later signal for the same incident (email-only teams)."""
    if view.signal is None:
        raise ValueError("an update email needs the signal")
    reply = signal_reply_text(view.signal, view.incident, previous, view.prefix)
    full = render_email(view)
    return EmailMessage(
        subject=_one_line(f"Update: {full.subject}"),
        text=f"{reply}\n\n{full.text}",
        html=full.html.replace("<h2", f"<p>{escape(reply)}</p>\n<h2", 1),
    )


def _one_line(text: str) -> str:
    return " ".join(text.split())[:200]
