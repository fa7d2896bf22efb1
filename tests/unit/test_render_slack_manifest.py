"""The Slack app manifest: the scopes the senders need, interactivity pointing at a real Output."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_manifest_scopes_and_interactivity():
    manifest = yaml.safe_load((ROOT / "slack" / "manifest.yaml").read_text())
    assert manifest["features"]["bot_user"]["display_name"] == "tokenfuse"
    assert {"chat:write", "chat:write.public", "users:read"} <= set(manifest["oauth_config"]["scopes"]["bot"])
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["interactivity"]["request_url"] == "REPLACE_WITH_APPROVE_URL"
    # the placeholder names an Output the stack really has
    assert "\n  ApproveUrl:\n" in (ROOT / "template.yaml").read_text()
