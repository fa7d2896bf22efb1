"""The slow path's alerts, as AWS sends them, built from the spike the sandbox measured:
a Cost Anomaly Detection IMMEDIATE alert (the JSON of ``events/cad-sns-immediate.json``) and an
AWS Budgets ACTUAL alert (the plain text of ``events/budgets-sns-actual.json``)."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from tokenfuse_sandbox.story.org import BUDGET_NAME, TOKENFUSE_ACCOUNT, Org, SeededProfile

EVENTS = Path(__file__).resolve().parents[3] / "events"
_REGION_CODES = {"us-east-1": "USE1", "us-west-2": "USW2", "us-east-2": "USE2", "eu-west-1": "EUW1"}


def _sample_message(name: str) -> tuple[str, str | None]:
    record = json.loads((EVENTS / name).read_text())["Records"][0]["Sns"]
    return record["Message"], record.get("Subject")


def usage_type(profile: SeededProfile, tokens: str) -> str:
    """A Bedrock usage type in CAD's style (``USE1-Claude4Sonnet-output-tokens``)."""
    from tokenfuse.attribution.pricing import load_prices  # lazily: see traffic._rates

    spec = profile.spec
    entry = load_prices().models.get(spec.model)
    name = re.sub(r"[^A-Za-z0-9]", "", entry.name if entry else spec.model)
    return f"{_REGION_CODES.get(spec.region, spec.region)}-{name}-{tokens}-tokens"


def cad_alert(
    org: Org,
    profile: SeededProfile,
    *,
    day_start: datetime,
    actual_usd: float,
    expected_usd: float,
    tokens: str,
) -> str:
    """The CAD IMMEDIATE alert's SNS message for the anomaly of ``day_start``'s day in the
    culprit's account, region and usage type (its shape from events/cad-sns-immediate.json)."""
    template, _ = _sample_message("cad-sns-immediate.json")
    message: dict[str, Any] = json.loads(template)
    spec = profile.spec
    anomaly_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{profile.arn}/{day_start:%Y-%m-%d}"))
    monitor = message["monitorArn"].rsplit("/", 1)[-1]
    impact = round(actual_usd - expected_usd, 2)
    message.update(
        {
            "accountId": TOKENFUSE_ACCOUNT,
            "anomalyId": anomaly_id,
            "anomalyStartDate": day_start.strftime("%Y-%m-%dT00:00:00Z"),
            "anomalyEndDate": day_start.strftime("%Y-%m-%dT00:00:00Z"),
            "anomalyDetailsLink": (
                "https://console.aws.amazon.com/cost-management/home#/anomaly-detection/monitors/"
                f"{monitor}/anomalies/{anomaly_id}"
            ),
            "monitorArn": f"arn:aws:ce::{TOKENFUSE_ACCOUNT}:anomalymonitor/{monitor}",
            "impact": {
                "maxImpact": impact,
                "totalActualSpend": round(actual_usd, 2),
                "totalExpectedSpend": round(expected_usd, 2),
                "totalImpact": impact,
                "totalImpactPercentage": round(100 * impact / expected_usd, 2) if expected_usd else None,
            },
            "rootCauses": [
                {
                    "linkedAccount": spec.account_id,
                    "linkedAccountName": org.account_name(spec.account_id),
                    "region": spec.region,
                    "service": "Amazon Bedrock",
                    "usageType": usage_type(profile, tokens),
                    "impact": {"contribution": impact},
                }
            ],
        }
    )
    return json.dumps(message)


def budgets_alert(*, when: datetime, threshold_usd: float, actual_usd: float) -> tuple[str, str]:
    """(subject, message) of the Budgets ACTUAL alert (the text of events/budgets-sns-actual.json)
    for the organization's monthly Bedrock budget."""
    text, subject = _sample_message("budgets-sns-actual.json")
    amount = threshold_usd / 0.8
    old_threshold = re.search(r"greater than (\$[\d,.]+)", text)
    old_actual = re.search(r"ACTUAL Amount: (\$[\d,.]+)", text)
    old_amount = re.search(r"Budgeted Amount: (\$[\d,.]+)", text)
    old_date = re.search(r"AWS Budget Notification (.+)\n", text)
    old_account = re.search(r"AWS Account (\d{12})", text)
    assert old_threshold and old_actual and old_amount and old_date and old_account  # the sample's text
    replacements = {
        old_threshold.group(1): f"${threshold_usd:,.2f}",
        old_actual.group(1): f"${actual_usd:,.2f}",
        old_amount.group(1): f"${amount:,.2f}",
        old_date.group(1): f"{when:%B} {when.day}, {when.year}",
        old_account.group(1): TOKENFUSE_ACCOUNT,
        "genai-bedrock-monthly": BUDGET_NAME,
    }
    for old, new in replacements.items():
        text = text.replace(old, new)
    return (subject or f"AWS Budgets: {BUDGET_NAME} has exceeded your alert threshold"), text
