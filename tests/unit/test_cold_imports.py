"""What a handler's import leaves for the path that needs it (issue 11, cold start): each handler is
imported in a fresh interpreter, as Lambda imports it, and the modules of paths its cold start may
not take must not be loaded yet; the path that needs one loads it."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
sys.path[:0] = {paths!r}
{statements}
print(json.dumps(sorted(name for name in {modules!r} if name in sys.modules)))
"""


def loaded_after(statements: str, modules: list[str], function: str | None = None) -> list[str]:
    """Which of ``modules`` a fresh interpreter holds after ``statements`` (the function's folder
    first on its path when given, as Lambda's task root is)."""
    paths = [str(ROOT / "functions" / function)] if function else []
    paths.append(str(ROOT / "layers" / "core"))
    code = PROBE.format(paths=paths, statements=statements, modules=modules)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


TRIP = "tokenfuse.remediation.trip"


@pytest.mark.parametrize("function", ["remediate", "approve", "notify", "inventory"])
def test_importing_a_handler_parses_no_yaml(function: str) -> None:
    # PyYAML (and its C extension) is imported by the first team directory parsed
    assert loaded_after("import app", ["yaml", "tokenfuse.safe_yaml"], function) == []


def test_importing_remediate_leaves_the_trip_machinery_to_the_first_trip() -> None:
    assert loaded_after("import app", [TRIP, "tokenfuse.remediation.caller_trip"], "remediate") == []


def test_the_first_directory_parsed_imports_yaml() -> None:
    statements = (
        "from tokenfuse.teams import load_directory\n"
        "directory = load_directory('teams:\\n  - name: search\\n    slack_channel: C0123456789\\n')\n"
        "assert [team.name for team in directory.teams] == ['search'], directory"
    )
    assert loaded_after(statements, ["yaml", "tokenfuse.safe_yaml"]) == ["tokenfuse.safe_yaml", "yaml"]


def test_a_directory_refused_by_yaml_names_its_line() -> None:
    statements = (
        "from tokenfuse.teams import TeamDirectoryError, load_directory\n"
        "try:\n"
        "    load_directory('teams:\\n  - name: a\\n    name: b\\n')\n"
        "except TeamDirectoryError as error:\n"
        "    assert 'line 3' in str(error), str(error)\n"
        "else:\n"
        "    raise AssertionError('a key given twice was accepted')"
    )
    assert loaded_after(statements, ["yaml"]) == ["yaml"]


def test_importing_approve_leaves_slack_sdk_to_the_first_slack_request() -> None:
    # an email link's confirm page or decision never needs slack-sdk (whose package loads its WebClient)
    assert loaded_after("import app", ["slack_sdk", "tokenfuse.alerts.slack_render"], "approve") == []


def test_importing_approve_leaves_the_incidents_to_the_first_feedback_click() -> None:
    unused = ["tokenfuse.alerts.feedback", "tokenfuse.incidents", "tokenfuse.adapters.incidents_table"]
    assert loaded_after("import app", unused, "approve") == []


def test_the_first_slack_signature_checked_imports_slack_sdks_verifier() -> None:
    statements = (
        "import hashlib, hmac\n"
        "from tokenfuse.remediation.interactions import SlackInteractions\n"
        "body, stamp = 'payload=%7B%7D', '1700000000'\n"
        "mac = hmac.new(b'secret', f'v0:{stamp}:{body}'.encode(), hashlib.sha256).hexdigest()\n"
        "slack = SlackInteractions(lambda: 'secret', None, None, now_epoch=lambda: 1700000010.0)\n"
        "old = hmac.new(b'secret', f'v0:1699999000:{body}'.encode(), hashlib.sha256).hexdigest()\n"
        "verifier = slack.verifier()  # on the endpoint's clock: 10 s after the stamp, not years\n"
        "assert verifier.is_valid(body, stamp, 'v0=' + mac)\n"
        "assert not verifier.is_valid(body, stamp, 'v0=' + '0' * 64)\n"
        "assert not verifier.is_valid(body, '1699999000', 'v0=' + old)  # signed 1,010 s before"
    )
    assert loaded_after(statements, ["slack_sdk.signature"]) == ["slack_sdk.signature"]
