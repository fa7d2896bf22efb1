"""The Slack app manifest: the scopes the senders need, interactivity pointing at a real Output."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_manifest_scopes_and_interactivity():
    manifest = yaml.safe_load((ROOT / "slack" / "manifest.yaml").read_text())
    assert manifest["features"]["bot_user"]["display_name"] == "tokenfuse"
    assert {"chat:write", "chat:write.public", "users:read"} <= set(manifest["oauth_config"]["scopes"]["bot"])
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["interactivity"]["request_url"] == "REPLACE_WITH_INTERACTIVITY_URL"
    # the placeholder names an Output the stack really has, on a route the approve endpoint serves
    template = (ROOT / "template.yaml").read_text()
    output = template.split("\n  SlackInteractivityUrl:\n", 1)[1].split("\n  ", 3)
    value = next(line for line in output if line.strip().startswith("Value:"))
    assert value.strip() == "Value: !Sub ${ApproveFunctionUrl.FunctionUrl}slack/interactivity"
    assert '@app.post("/slack/interactivity")' in (ROOT / "functions" / "approve" / "app.py").read_text()
