"""The demo's scenarios: which profile misbehaves, how, and for how long.

Each scenario multiplies one profile's ordinary traffic from the loop's start until the owning
team's own fix ships (``fixed_after``): tokenfuse's trip stops the spend earlier, but the loop is
in the code, so it runs again when the trip is lifted unless the fix is in by then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

DECISIONS = ("approve", "decline", "snooze", "timeout")
POLICIES = ("approve", "auto", "notify")


@dataclass(frozen=True)
class Scenario:
    name: str
    profile_key: str
    title: str
    story: str
    requests: float = 1.0
    """Multiplier on requests per minute."""
    input_tokens: float = 1.0
    """Multiplier on input tokens per request."""
    output_tokens: float = 1.0
    """Multiplier on output tokens per request."""
    fixed_after: timedelta = timedelta(minutes=12)
    """When the owning team's code fix stops the loop (from the loop's start): before a throttle that
    began in the first minutes is lifted after its 15-minute cooldown, so the restore finds the loop
    gone, as a team that was paged and blocked would have it."""

    def describe(self) -> str:
        parts = []
        if self.requests != 1:
            parts.append(f"requests x{self.requests:g}")
        if self.input_tokens != 1:
            parts.append(f"input tokens per request x{self.input_tokens:g}")
        if self.output_tokens != 1:
            parts.append(f"output tokens per request x{self.output_tokens:g}")
        return ", ".join(parts)


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "runaway-loop",
            "support-bot",
            "an agent loop: the support bot's answers run away",
            "A tool call in the support agent starts failing; the agent re-plans and re-answers in a "
            "loop, each answer longer than the last.",
            output_tokens=15,
        ),
        Scenario(
            "context-bloat",
            "docs-summarizer",
            "context bloat: every summary request carries the whole document history",
            "A release stops trimming the conversation, so every summary request carries the whole "
            "document history.",
            input_tokens=8,
        ),
        Scenario(
            "retry-storm",
            "search",
            "a retry storm: search's client retries every answer twenty times",
            "A misconfigured client retries every search answer without backoff.",
            requests=20,
        ),
        Scenario(
            "untagged-spend",
            "untagged",
            "an untagged batch experiment runs away (nobody owns it: FinOps decides)",
            "A batch job on an untagged profile in the dev account loops over its inputs.",
            output_tokens=15,
        ),
    )
}


def get(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise ValueError(f"unknown scenario {name!r}: one of {', '.join(SCENARIOS)}") from None
