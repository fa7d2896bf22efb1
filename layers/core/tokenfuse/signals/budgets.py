"""AWS Budgets alerts: plain text over SNS, recognised by its own first words,
"AWS Budget Notification". The text (as AWS sends it)::

    AWS Budget Notification November 27, 2026
    AWS Account 111122223333

    Dear AWS Customer,

    You requested that we alert you when the ACTUAL Cost associated with your bedrock-monthly
    budget is greater than $800.00 for the current month. The ACTUAL Cost associated with this
    budget is $812.34. You can find additional details below and by accessing the AWS Budgets
    dashboard [1].

    Budget Name: bedrock-monthly
    Budget Type: Cost
    Budgeted Amount: $1,000.00
    Alert Type: ACTUAL
    Alert Threshold: > $800.00
    ACTUAL Amount: $812.34

Variants read here: ACTUAL / FORECASTED; an absolute (``> $800.00``) or percentage (``> 80%``,
``> 80.00% ($800.00)``) threshold; "for the current month|quarter|year" or "per day" ("Yesterday,
...") wording; Cost or Usage budgets (a usage figure carries its unit, e.g. ``1,000.00 Hrs``).

A cost figure is US dollars as AWS writes them, ``$`` then a number in US format (``$1,234.56``).
Anything else in a cost budget - another currency (``EUR``, ``€``, ``¥``), another number format
(``1.234,56``), no ``$`` - is refused (ImplausibleSignal), never rounded or reinterpreted. A usage
figure is a number and its unit (kept in ``unit``); a ``$`` there is refused too.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from tokenfuse.errors import ImplausibleSignal, MalformedSignal, UnsupportedSignal
from tokenfuse.events import SpendSignal
from tokenfuse.signals._common import RawSource, dedup_hash, midnight, require_day, shorten
from tokenfuse.signals.envelope import BUDGETS_ANCHOR

TimeUnit = Literal["DAILY", "MONTHLY", "QUARTERLY", "ANNUALLY"]

_HEADER_DATE = re.compile(re.escape(BUDGETS_ANCHOR) + r"\s+([A-Z][a-z]+ \d{1,2}, \d{4})")
_ACCOUNT = re.compile(r"AWS Account\s+(\d{12})\b")
_MAX_FIELD = 256
"""Longer than any value AWS writes in these lines (a budget name is at most 100 characters)."""
_NUMBER = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
"""A number as AWS writes it in US format: ``8,312.47``, ``800``, ``0.95``."""
_COMPARED = r"^\s*[<>=]*\s*"
_DOLLARS = re.compile(rf"{_COMPARED}(?:(-)\s*\$|\$\s*(-)?)\s*({_NUMBER})\s*$")
"""``$8,312.47``; a minus sign on either side of the ``$`` is read (and refused as negative)."""
_USAGE = re.compile(rf"{_COMPARED}(-?{_NUMBER})\s*([A-Za-z][A-Za-z0-9 ._/-]{{0,39}})?\s*$")
_PERCENT = re.compile(rf"{_COMPARED}({_NUMBER})\s*%\s*(?:\((.*)\))?\s*$")
_DIGIT = re.compile(r"\d")
_KNOWN_FIELDS = frozenset(
    {
        "budget name",
        "budget type",
        "budgeted amount",
        "alert type",
        "alert threshold",
        "actual amount",
        "forecasted amount",
    }
)
_PERIODS: tuple[tuple[re.Pattern[str], TimeUnit], ...] = (
    # AWS's own phrases (never the budget's name, which may well say "monthly").
    (re.compile(r"\bper day\b|\bYesterday, the\b"), "DAILY"),
    (re.compile(r"\bfor the current month\b"), "MONTHLY"),
    (re.compile(r"\bfor the current quarter\b"), "QUARTERLY"),
    (re.compile(r"\bfor the current year\b"), "ANNUALLY"),
)


@dataclass(frozen=True)
class _Quantity:
    value: float
    unit: str | None
    """A usage figure's unit (``Hrs``); None for dollars."""


def looks_like(message: str) -> bool:
    return BUDGETS_ANCHOR in message


def parse(
    text: str, *, received_at: datetime, sent_at: datetime | None, raw_source: RawSource
) -> SpendSignal:
    """One SpendSignal for one Budgets alert."""
    if BUDGETS_ANCHOR not in text:
        raise UnsupportedSignal("text is not an AWS Budgets notification")
    fields = _fields(text)

    name = _required(fields, "budget name")
    budget_kind = _required(fields, "budget type").lower()
    if budget_kind not in ("cost", "usage"):
        raise UnsupportedSignal(f"Budgets alert for a {shorten(budget_kind, 40)} budget: only cost and usage")
    budget_type: Literal["cost", "usage"] = "cost" if budget_kind == "cost" else "usage"
    alert_type = _required(fields, "alert type").upper()
    if alert_type not in ("ACTUAL", "FORECASTED"):
        raise MalformedSignal(f"Budgets alert: unknown Alert Type {shorten(alert_type, 40)}")
    notification_type: Literal["ACTUAL", "FORECASTED"] = "ACTUAL" if alert_type == "ACTUAL" else "FORECASTED"
    is_cost = budget_type == "cost"
    threshold_text = _required(fields, "alert threshold")
    amount = _figure(_required(fields, f"{alert_type.lower()} amount"), f"{alert_type} Amount", is_cost)
    budgeted = (
        _figure(fields["budgeted amount"], "Budgeted Amount", is_cost)
        if fields.get("budgeted amount")
        else None
    )
    threshold, threshold_percent = _threshold(threshold_text, is_cost)

    account = _ACCOUNT.search(text)
    header = _HEADER_DATE.search(text)
    header_day = _header_day(header.group(1)) if header else None
    time_unit = _time_unit(text)
    alerted = _alert_time(sent_at, header_day, received_at)
    day = header_day if header_day is not None and sent_at is None else alerted.date()
    start = _period_start(day, time_unit)
    alerted = max(alerted, start)

    threshold_value = threshold.value if threshold else None
    if threshold_value is None and threshold_percent is not None and budgeted is not None:
        threshold_value = round(budgeted.value * threshold_percent / 100, 2)

    unit = None if is_cost else (amount.unit or (budgeted.unit if budgeted else None))
    actual = amount.value if notification_type == "ACTUAL" else None
    forecast = amount.value if notification_type == "FORECASTED" else None
    budget_value = budgeted.value if budgeted else None
    figure = f"${amount.value:,.2f}" if is_cost else f"{amount.value:,.2f}{f' {unit}' if unit else ''}"
    summary = (
        f"Budget {name} ({(time_unit or 'unknown period').lower()} {budget_type}):"
        f" {notification_type} {figure}"
        f" over threshold {threshold_text}"
        + (f" of {fields['budgeted amount']}" if fields.get("budgeted amount") else "")
        + (f" in account {account.group(1)}" if account else "")
    )
    return SpendSignal(
        source="budget",
        # One alert per budget, alert type, threshold and period: that is how often AWS sends it.
        dedup_key=dedup_hash(
            "budget",
            account.group(1) if account else "",
            name,
            notification_type,
            " ".join(threshold_text.split()),
            start.date().isoformat(),
        ),
        received_at=received_at,
        account_id=account.group(1) if account else None,
        region=None,
        window_start=start,
        window_end=alerted,
        actual_usd=actual if is_cost else None,
        forecasted_usd=forecast if is_cost else None,
        budgeted_usd=budget_value if is_cost else None,
        threshold_usd=threshold_value if is_cost else None,
        threshold_percent=threshold_percent,
        actual_amount=None if is_cost else actual,
        forecasted_amount=None if is_cost else forecast,
        budgeted_amount=None if is_cost else budget_value,
        threshold_amount=None if is_cost else threshold_value,
        unit=unit,
        budget_name=name,
        budget_type=budget_type,
        notification_type=notification_type,
        time_unit=time_unit,
        raw_source=raw_source,
        summary=shorten(summary, 300),
    )


def _fields(text: str) -> dict[str, str]:
    """The ``Key: value`` lines AWS writes below the letter, keys lower-cased. Read line by line
    with ``partition`` (a regular expression over the whole text backtracks quadratically on a long
    line of spaces). A line read here twice with two values is ambiguous, one longer than any AWS
    writes is not AWS's: both refused."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        name, colon, rest = line.partition(":")
        key = " ".join(name.split()).lower()
        if not colon or key not in _KNOWN_FIELDS:
            continue
        value = rest.strip()
        if len(value) > _MAX_FIELD:
            raise MalformedSignal(f"Budgets alert: '{key.title()}' is {len(value):,} characters long")
        if fields.get(key, value) != value:
            raise MalformedSignal(f"Budgets alert: two '{key.title()}' lines that differ")
        fields[key] = value
    return fields


def _required(fields: dict[str, str], key: str) -> str:
    value = fields.get(key)
    if not value:
        raise MalformedSignal(f"Budgets alert: no '{key.title()}' line")
    return value


def _figure(text: str, what: str, is_cost: bool) -> _Quantity:
    """A cost figure (``$8,312.47``) or a usage figure with its unit (``912.50 Hrs``)."""
    if is_cost:
        dollars = _DOLLARS.match(text)
        if dollars:
            sign = "-" if dollars.group(1) or dollars.group(2) else ""
            return _Quantity(value=_number(sign + dollars.group(3)), unit=None)
        if _DIGIT.search(text):
            raise ImplausibleSignal(
                f"Budgets alert: {what} is not in US dollars ($1,234.56): {shorten(text, 60)}"
            )
        raise MalformedSignal(f"Budgets alert: {what} is not a number: {shorten(text, 60)}")
    usage = _USAGE.match(text)
    if usage is None:
        raise MalformedSignal(
            f"Budgets alert: {what} is not a usage figure (a number and its unit): {shorten(text, 60)}"
        )
    return _Quantity(value=_number(usage.group(1)), unit=(usage.group(2) or "").strip() or None)


def _threshold(text: str, is_cost: bool) -> tuple[_Quantity | None, float | None]:
    """``Alert Threshold``: an absolute figure (``> $800.00``), a percentage (``> 80.00%``), or
    both (``> 80.00% ($800.00)``)."""
    percent = _PERCENT.match(text)
    if percent is None:
        return _figure(text, "Alert Threshold", is_cost), None
    absolute = _figure(percent.group(2), "Alert Threshold", is_cost) if percent.group(2) else None
    return absolute, _number(percent.group(1))


def _number(text: str) -> float:
    """A US-format number matched by ``_NUMBER`` (so ``float`` cannot fail; a huge one is inf,
    which the plausibility check refuses by name, as it does a negative one)."""
    return float(text.replace(",", ""))


def _header_day(text: str) -> date | None:
    try:
        day = datetime.strptime(text, "%B %d, %Y").date()
    except ValueError:
        return None
    return require_day(day, "Budgets alert header date")


def _time_unit(text: str) -> TimeUnit | None:
    sentence = text.split("Budget Name", 1)[0]
    for pattern, unit in _PERIODS:
        if pattern.search(sentence):
            return unit
    return None


def _alert_time(sent_at: datetime | None, header_day: date | None, received_at: datetime) -> datetime:
    """When the alert was sent: SNS's timestamp; for a bare message, the end of the day its
    header names (or when it was received, if that is earlier)."""
    if sent_at is not None:
        return sent_at
    if header_day is not None:
        return min(received_at, midnight(header_day + timedelta(days=1)))
    return received_at


def _period_start(day: date, unit: TimeUnit | None) -> datetime:
    """The start of the budget period the alert speaks of: the previous day for a daily budget
    (AWS reports yesterday's cost), else the calendar month, quarter or year so far."""
    if unit == "DAILY":
        return midnight(day - timedelta(days=1))
    if unit == "QUARTERLY":
        return midnight(day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1))
    if unit == "ANNUALLY":
        return midnight(day.replace(month=1, day=1))
    return midnight(day.replace(day=1))
