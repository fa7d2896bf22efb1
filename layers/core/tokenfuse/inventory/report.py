"""The organization's picture (pure): profiles by account and team, the non-compliant ones, and the
attributable %. What ``tokenfuse audit`` prints and writes as JSON."""

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from tokenfuse.inventory.attributable import AttributableShare
from tokenfuse.inventory.models import ProfileRecord


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def audit_report(
    records: Iterable[ProfileRecord],
    share: AttributableShare | None,
    *,
    day: date | None,
    generated_at: datetime,
    source: str,
    account_names: dict[str, str | None] | None = None,
    warnings: Iterable[str] = (),
) -> dict[str, Any]:
    """The audit as JSON-ready data. Every optional value is present (null when unknown)."""
    names = account_names or {}
    ordered = sorted(records, key=lambda r: (r.account_id, r.team or "~", r.region, r.profile_name or ""))
    profiles = [
        {
            "arn": r.profile_arn,
            "profile_id": r.profile_id,
            "name": r.profile_name,
            "account_id": r.account_id,
            "region": r.region,
            "team": r.team,
            "team_tag": r.team_tag,
            "compliant": r.compliance.compliant,
            "missing_tags": r.compliance.missing_tags,
            "unknown_team": r.compliance.unknown_team,
            "model_ids": r.model_ids,
            "tags": r.tags,
            "creator": r.creator,
        }
        for r in ordered
    ]
    accounts: dict[str, dict[str, Any]] = {}
    for account_id in sorted({*names, *(r.account_id for r in ordered)}):
        accounts[account_id] = {"account_id": account_id, "name": names.get(account_id), "teams": {}}
    for r in ordered:
        teams = accounts[r.account_id]["teams"]
        key = r.team or "(unknown)"
        teams[key] = teams.get(key, 0) + 1
    by_team: dict[str, int] = {}
    for r in ordered:
        key = r.team or "(unknown)"
        by_team[key] = by_team.get(key, 0) + 1
    return {
        "generated_at": _iso(generated_at),
        "source": source,
        "accounts": list(accounts.values()),
        "profiles": profiles,
        "profiles_by_team": dict(sorted(by_team.items())),
        "non_compliant": [p for p in profiles if not p["compliant"]],
        "compliant_percent": (
            round(100.0 * sum(r.compliance.compliant for r in ordered) / len(ordered), 2) if ordered else None
        ),
        "attributable_percent": share.percent if share else None,
        "attributable": {
            "day": day.isoformat() if day else None,
            "total_usd": share.total_usd if share else None,
            "attributable_usd": share.attributable_usd if share else None,
            "untagged_usd": share.untagged_usd if share else None,
            "unknown_team_usd": share.unknown_team_usd if share else None,
            "by_team_usd": share.by_team_usd if share else None,
        },
        "warnings": list(warnings),
    }


def render_text(report: dict[str, Any]) -> str:
    """The report for a terminal."""
    lines = [f"tokenfuse audit ({report['source']}, {report['generated_at']})", ""]
    by_account: dict[str, list[dict[str, Any]]] = {}
    for p in report["profiles"]:
        by_account.setdefault(p["account_id"], []).append(p)
    for account in report["accounts"]:
        label = account["account_id"] + (f" ({account['name']})" if account["name"] else "")
        profiles = by_account.get(account["account_id"], [])
        lines.append(f"{label}: {len(profiles)} profile(s)")
        for p in profiles:
            mark = "ok " if p["compliant"] else "NON"
            why = []
            if p["missing_tags"]:
                why.append("missing " + ",".join(p["missing_tags"]))
            if p["unknown_team"]:
                why.append(f"unknown team '{p['team_tag']}'")
            lines.append(
                f"  {mark} {p['region']:<14} {p['team'] or '-':<12} {p['name'] or p['profile_id']:<28}"
                + (f" ({'; '.join(why)})" if why else "")
            )
    lines.append("")
    total = len(report["profiles"])
    bad = len(report["non_compliant"])
    lines.append(f"profiles: {total}, non-compliant: {bad}")
    lines.append("by team: " + ", ".join(f"{k} {v}" for k, v in report["profiles_by_team"].items()))
    pct = report["attributable_percent"]
    money = report["attributable"]
    if pct is None:
        lines.append("attributable share of Bedrock spend: unknown (no cost data)")
    else:
        lines.append(
            f"attributable share of Bedrock spend on {money['day']}: {pct:.1f}% "
            f"(${money['attributable_usd']:.2f} of ${money['total_usd']:.2f}; "
            f"untagged ${money['untagged_usd']:.2f}, unknown team ${money['unknown_team_usd']:.2f})"
        )
    for warning in report["warnings"]:
        lines.append(f"warning: {warning}")
    return "\n".join(lines) + "\n"
