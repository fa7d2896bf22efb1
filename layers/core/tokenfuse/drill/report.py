"""The drill's and the doctor's reports: named checks, ``--json`` as ``contracts.md`` fixes, and text.

Each check says what it saw in ``detail``; a failed one says what to do there too (``to fix: ...``).
``passed`` is true only when every check passed. Human output never shows ``None``: an unknown
figure reads as "unknown"; ``--json`` keeps ``null``.
"""

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


def said(value: object) -> str:
    """``value`` on one line: its whitespace, newlines included, collapsed to single spaces."""
    return " ".join(str(value).split())


def error_said(error: BaseException) -> str:
    """An error as a check's detail names it: its type, then what it said, on one line."""
    return f"{type(error).__name__}: {said(error)}"


ModelIdForm = Literal["profile-id", "profile-arn", "both"]
"""Which ``ModelId`` value the canary's ``AWS/Bedrock`` datapoint carried."""


class Check(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    passed: bool
    detail: str

    @classmethod
    def ok(cls, name: str, detail: str) -> "Check":
        return cls(name=name, passed=True, detail=detail)

    @classmethod
    def failed(cls, name: str, detail: str, fix: str | None = None) -> "Check":
        return cls(name=name, passed=False, detail=f"{detail}; to fix: {fix}" if fix else detail)


class _Report(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    passed: bool
    checks: list[Check]

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def to_json_text(self) -> str:
        return json.dumps(self.to_json(), indent=2) + "\n"

    @property
    def failed_checks(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]


class DoctorReport(_Report):
    @classmethod
    def of(cls, checks: list[Check]) -> "DoctorReport":
        return cls(passed=bool(checks) and all(c.passed for c in checks), checks=checks)


class DrillReport(_Report):
    model_id_form: ModelIdForm | None = Field(description="null: no datapoint arrived")
    denied_confirmed: bool | None = Field(description="null: the trip never happened")
    restored_confirmed: bool | None = Field(description="null: nothing was restored")
    seconds_to_deny: float | None
    cost_usd: float | None = Field(description="what the calls that went through cost, priced per token")

    def with_check(self, check: Check) -> "DrillReport":
        """The report with one more check (the scheduled drill's report to FinOps)."""
        checks = [*self.checks, check]
        return self.model_copy(update={"checks": checks, "passed": all(c.passed for c in checks)})


def _shown(value: Any) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def render_text(title: str, report: DoctorReport | DrillReport) -> str:
    """The report for a person: one line per check, then the verdict (and the drill's figures)."""
    lines = [title, ""]
    width = max((len(c.name) for c in report.checks), default=0)
    for check in report.checks:
        mark = "PASS" if check.passed else "FAIL"
        lines.append(f"{mark}  {check.name.ljust(width)}  {check.detail}")
    lines.append("")
    if isinstance(report, DrillReport):
        cost = "unknown" if report.cost_usd is None else f"${report.cost_usd:.8f}"
        seconds = "unknown" if report.seconds_to_deny is None else f"{report.seconds_to_deny:g} s"
        lines += [
            f"ModelId form:        {_shown(report.model_id_form)}",
            f"deny confirmed:      {_shown(report.denied_confirmed)} (took effect in {seconds})",
            f"restore confirmed:   {_shown(report.restored_confirmed)}",
            f"cost of the calls:   {cost}",
            "",
        ]
    failed = report.failed_checks
    if report.passed:
        lines.append(f"passed: all {len(report.checks)} checks")
    else:
        lines.append(f"FAILED: {', '.join(c.name for c in failed) or 'no check ran'}")
    return "\n".join(lines) + "\n"
