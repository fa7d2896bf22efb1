"""DigestFunction in the sandbox: the demo organization's week, Monday 08:00 UTC, to each team's channel."""

import pytest

from tokenfuse.showback.period import Period
from tokenfuse_sandbox.story.showback import NOW, queue_cost_explorer_answer, showback_sandbox


def schedule_input(sb, action, when):
    arn = f"arn:aws:scheduler:us-east-1:{sb.account_id}:schedule/default/tokenfuse-digest"
    return {"action": action, "schedule_arn": arn, "scheduled_time": when}


@pytest.fixture(scope="module")
def digest_run():
    with showback_sandbox() as (sb, seeded, _):
        period = Period.last_week(NOW.date())
        queue_cost_explorer_answer(sb.account_id, seeded, period.start, period.end)
        monday = sb.invoke("DigestFunction", schedule_input(sb, "weekly-digest", "2026-12-07T08:00:00Z"))
        tuesday = sb.invoke("DigestFunction", schedule_input(sb, "weekly-digest", "2026-12-08T08:00:00Z"))
        refused = sb.invoke("DigestFunction", {"action": "weekly-digest", "scheduled_time": "soon"})
        messages = {ch: sb.slack.messages(ch) for ch in ("C0SUPPORT1", "C0SEARCH01", "C0FINOPS01")}
        yield monday, tuesday, refused, messages


def test_each_team_and_finops_get_their_digest(digest_run):
    monday, _, _, messages = digest_run
    assert monday.error is None
    assert set(monday.result["due"]) == {"search", "support-bot", "docs-summarizer", "analytics", "finops"}
    support = [m for m in messages["C0SUPPORT1"] if "Bedrock spend" in (m.get("text") or "")]
    assert len(support) == 1
    # 119,700 requests at (500 x $3 + 5,000 x $15) / 1M each: $9,157.05, +$6,401.85 on the week before
    assert "$9,157.05" in support[0]["text"] and "119,700 requests at $0.0765" in support[0]["text"]
    blocks = str(support[0]["blocks"])
    assert "output-cap" in blocks and "estimate" in blocks
    assert "$645.57" not in blocks  # search's week: no other team's figures
    finops = [m for m in messages["C0FINOPS01"] if (m.get("text") or "").startswith("Organization")]
    assert len(finops) == 1 and "$10,364.81" in finops[0]["text"]


def test_nothing_is_due_on_a_tuesday(digest_run):
    _, tuesday, _, _ = digest_run
    assert tuesday.result == {"action": "weekly-digest", "due": [], "delivered": []}


def test_another_event_is_refused_in_one_line(digest_run):
    _, _, refused, _ = digest_run
    assert refused.error is None
    assert "schedule_arn" in refused.result["refused"]
