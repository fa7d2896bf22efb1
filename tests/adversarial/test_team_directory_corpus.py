"""Adversarial corpus: the team directory, through `tokenfuse config validate` and the deployed loader.

`config validate` (typer's CliRunner) must exit 2 with one line on stderr naming the line and the
path in the file, never a traceback, for: duplicate keys (both lines named), an empty directory, a
file the Advanced SSM parameter cannot hold, bytes that are not UTF-8, YAML that is not a mapping,
alias bombs, deep nesting, tabs, a string where a list is expected, and the rest below.

The deployed loader (what notify, remediate, approve and the inventory read from SSM, through
Powertools parameters under moto) refuses a broken parameter with one logged line and never reads
it in part: it keeps the last version it validated, and without one it raises, so no alert is
routed by a broken directory.
"""

import logging
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import yaml
from aws_lambda_powertools.utilities import parameters
from hypothesis import given
from moto import mock_aws
from typer.testing import CliRunner

from tests.support.adversarial import CALENDAR_EDGES, NOT_UTF8, OVERFLOWING_NUMBERS, json_values, unicode_text
from tokenfuse import teams
from tokenfuse.teams import TeamDirectoryError, deployed_directory, load_directory
from tokenfuse_cli.main import app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "teams.example.yaml"
GOOD = """teams:
  - name: search
    slack_channel: C0SEARCH01
  - name: billing
    slack_channel: C0BILLING1
finops:
  slack_channel: C0FINOPS01
"""


def laughs(levels: int = 9) -> str:
    """The "billion laughs": each level aliases the previous one ten times."""
    lines = ["teams: []", 'lol0: &lol0 ["lol"]']
    for level in range(1, levels):
        refs = ", ".join([f"*lol{level - 1}"] * 10)
        lines.append(f"lol{level}: &lol{level} [{refs}]")
    return "\n".join(lines) + "\n"


def padded(text: str, size: int) -> str:
    """``text`` with a trailing comment that makes it exactly ``size`` bytes."""
    filler = size - len(text.encode()) - 3
    return text + "# " + "x" * filler + "\n"


# name: (file bytes, the one stderr line after "<file>: ")
REFUSED: dict[str, tuple[bytes, str]] = {
    "a second teams list": (
        (GOOD + "teams:\n  - name: ghost\n    slack_channel: C0GHOST001\n").encode(),
        "line 8: duplicate key 'teams' (first at line 1)",
    ),
    "a team's channel given twice": (
        b"teams:\n  - name: search\n    slack_channel: C0SEARCH01\n    slack_channel: C0BILLING1\n",
        "line 4: duplicate key 'slack_channel' (first at line 3)",
    ),
    "a duplicate in a flow mapping": (
        b"teams:\n  - {name: search, slack_channel: C0SEARCH01, name: billing}\n",
        "line 2: duplicate key 'name' (first at line 2)",
    ),
    "a duplicate policy environment": (
        (GOOD + "  policy: {mode: notify}\n  policy: {mode: auto}\n").encode(),
        "line 9: duplicate key 'policy' (first at line 8)",
    ),
    "an empty directory": (b"teams: []\n", "teams: no team: nothing to upload"),
    "an empty file": (b"", "teams: no team: nothing to upload"),
    "only comments": (b"# teams go here\n", "teams: no team: nothing to upload"),
    "null teams": (
        b"teams:\nfinops:\n  slack_channel: C0FINOPS01\n",
        "line 1: teams: Input should be a valid list",
    ),
    "too big for the Advanced parameter": (
        padded(GOOD, 8193).encode(),
        "(file): larger than the 8,192 bytes (8 KB) an SSM parameter of the Advanced tier holds",
    ),
    "not UTF-8": (NOT_UTF8, "line 1: (file): not UTF-8 (byte 0xff at offset 37)"),
    "latin-1 on line 3": (
        "teams:\n  - name: search\n    display_name: Café\n".encode("latin-1"),
        "line 3: (file): not UTF-8",
    ),
    "a list, not a mapping": (
        b"- name: search\n  slack_channel: C0SEARCH01\n",
        "line 1: (top): is a list: must be a mapping",
    ),
    "a string, not a mapping": (b"just some text\n", "line 1: (top): is a str: must be a mapping"),
    "JSON of the wrong shape": (b'["teams"]', "line 1: (top): is a list"),
    "a billion laughs": (laughs().encode(), "line 6: aliases expand to more than 10,000 values"),
    "an alias inside itself": (
        b"teams: &loop [*loop]\n",
        "line 1: an alias refers to the value that contains it",
    ),
    "nested 500 deep": (
        b"teams: " + b"[" * 500 + b"]" * 500 + b"\n",
        "line 1: nested deeper than 20 levels",
    ),
    "a deep mapping": (
        ("finops:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(30))).encode(),
        "line 20: nested deeper than 20 levels",
    ),
    "a tab indent": (
        b"teams:\n\t- name: search\n",
        "line 2: not valid YAML (a tab character: YAML indents with spaces)",
    ),
    "a string where the teams list goes": (b"teams: search\n", "line 1: teams: Input should be a valid list"),
    "a string where a team goes": (
        b"teams: [search]\n",
        "line 1: teams[0]: Input should be a valid dictionary",
    ),
    "a list where a channel goes": (
        b"teams:\n  - name: search\n    slack_channel: [C0SEARCH01]\n",
        "line 3: teams[0].slack_channel: Input should be a valid string",
    ),
    "a NUL byte": (b"teams:\n  - name: search\x00\n", "line 2: character U+0000 is not allowed in YAML"),
    "two documents": (
        GOOD.encode() + b"---\n" + GOOD.encode(),
        "line 8: not valid YAML (but found another document)",
    ),
    "a Python tag": (
        b"teams: !!python/object/apply:os.system ['id']\n",
        "line 1: not valid YAML (could not determine",
    ),
    "an SSM parameter reference": (
        (GOOD + "# {{ssm:/tokenfuse/prod/other}}\n").encode(),
        "line 8: (file): SSM refuses '{{...}}' in a parameter value",
    ),
    "an unknown key with control characters": (
        (GOOD + '  "x\\u001b[2Jy": 1\n').encode(),
        "line 8: finops.x\\x1b[2Jy: unknown key",
    ),
    "a planned window before year 1 in UTC": (
        (
            "teams:\n  - name: search\n    slack_channel: C0SEARCH01\n    planned_windows:\n"
            f"      - {{start: '{CALENDAR_EDGES[5]}', end: '2026-01-01T00:00:00Z', note: edge}}\n"
        ).encode(),
        "line 5: teams[0].planned_windows[0].start: timestamp is outside the calendar once in UTC",
    ),
    "a cooldown that overflows": (
        (
            GOOD.replace("finops:\n", f"finops:\n  policy: {{cooldown_minutes: {OVERFLOWING_NUMBERS[5]}}}\n")
        ).encode(),
        "line 7: finops.policy.cooldown_minutes: must be <= 10080",
    ),
    "a tag value given to two teams, with a newline": (
        b'teams:\n  - {name: a, slack_channel: C0AAAAAAAA, tag_values: ["x\\ny"]}\n'
        b'  - {name: b, slack_channel: C0BBBBBBBB, tag_values: ["X\\nY"]}\n',
        "line 3: teams[1].tag_values[0]: 'X\\x0aY' already maps to team 'a'",
    ),
}


def validate(tmp_path: Path, content: bytes) -> tuple[int, list[str], str]:
    path = tmp_path / "teams.yaml"
    path.write_bytes(content)
    result = CliRunner().invoke(app, ["config", "validate", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    prefix = f"{path}: "
    lines = result.stderr.splitlines()
    assert all(line.startswith(prefix) for line in lines), lines
    return result.exit_code, [line[len(prefix) :] for line in lines], result.stdout


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_validate_refuses_with_one_line(tmp_path, case):
    content, expected = REFUSED[case]
    code, lines, stdout = validate(tmp_path, content)
    assert code == 2 and stdout == ""
    [line] = lines
    assert line.startswith(expected), line
    assert line.isprintable() and "Traceback" not in line


@pytest.mark.parametrize(
    ("case", "content"),
    [
        ("the example", EXAMPLE.read_bytes()),
        ("the sandbox's, with anchors and merge keys", (ROOT / "config" / "teams.sandbox.yaml").read_bytes()),
        ("exactly 8,192 bytes", padded(GOOD, 8192).encode()),
        ("a byte-order mark", b"\xef\xbb\xbf" + GOOD.encode()),
        (
            "non-ASCII names",
            GOOD.replace(
                "    slack_channel: C0SEARCH01",
                "    display_name: Recherche \u00e9t\u00e9 \U0001f50d\n    slack_channel: C0SEARCH01",
            ).encode(),
        ),
    ],
)
def test_validate_accepts(tmp_path, case, content):
    code, lines, stdout = validate(tmp_path, content)
    assert (code, lines) == (0, []), lines
    assert stdout.count("\n") == 1 and ": ok: " in stdout


@pytest.mark.parametrize(
    ("target", "expected"),
    [(".", "cannot read: Is a directory"), ("nope.yaml", "cannot read: No such file or directory")],
)
def test_a_directory_or_a_missing_file_is_one_line(tmp_path, target, expected):
    path = tmp_path / target
    result = CliRunner().invoke(app, ["config", "validate", str(path)])
    assert (result.exit_code, result.stderr.splitlines()) == (2, [f"{path}: {expected}"])


def test_every_error_of_a_file_is_listed_with_its_line(tmp_path):
    content = b"teams:\n  - name: Search\n    slack_channel: nope\n  - name: b\n    emails: [x]\n"
    code, lines, _ = validate(tmp_path, content)
    assert code == 2
    assert lines == [
        "line 2: teams[0].name: lowercase letters, digits, '.', '_' or '-' (at most 63)",
        "line 3: teams[0].slack_channel: not a Slack channel id (like C0123ABCD)",
        "line 5: teams[1].emails[0]: not an email address",
    ]


@given(value=json_values)
def test_any_document_is_a_directory_or_refused_in_lines(value):
    """Whatever JSON-shaped YAML arrives, the loader answers with a directory or with issues, never
    with another exception, and every issue is one printable line."""
    text = yaml.safe_dump({"teams": value, "finops": value}, allow_unicode=True)
    try:
        load_directory(text)
    except TeamDirectoryError as error:
        assert error.issues and all(issue.isprintable() for issue in error.issues)


@given(name=unicode_text)
def test_any_team_name_is_accepted_or_named(name):
    try:
        load_directory(yaml.safe_dump({"teams": [{"name": name, "slack_channel": "C0SEARCH01"}]}))
    except TeamDirectoryError as error:
        assert any("teams[0].name" in issue for issue in error.issues), error.issues


# --- the deployed loader -------------------------------------------------------------------------

PARAMETER = "/tokenfuse/dev/teams"
BROKEN_PARAMETERS = {
    "a second teams list sending search to billing's channel": (
        GOOD + "teams:\n  - name: search\n    slack_channel: C0BILLING1\n",
        "line 8: duplicate key 'teams' (first at line 1)",
    ),
    "a channel given twice": (
        GOOD.replace(
            "    slack_channel: C0SEARCH01\n",
            "    slack_channel: C0SEARCH01\n    slack_channel: C0BILLING1\n",
        ),
        "line 4: duplicate key 'slack_channel' (first at line 3)",
    ),
    "a billion laughs": (laughs(), "aliases expand"),
    "a tab indent": (GOOD.replace("  - name: billing", "\t- name: billing"), "a tab character"),
    "not a mapping": ("- search\n", "(top): is a list"),
    "a string where a list goes": ("teams: search\n", "teams: Input should be a valid list"),
}


@pytest.fixture
def ssm(monkeypatch) -> Iterator[object]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setattr(teams, "_last_valid", {})  # a fresh container
    parameters.clear_caches()
    with mock_aws():
        client = boto3.client("ssm", "us-east-1")
        yield client
    parameters.clear_caches()


def put(client, text: str) -> None:
    client.put_parameter(Name=PARAMETER, Value=text, Type="String", Tier="Advanced", Overwrite=True)
    parameters.clear_caches()


def refusal_lines(caplog) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.ERROR and "team directory" in r.getMessage()
    ]


@pytest.mark.parametrize("case", sorted(BROKEN_PARAMETERS))
def test_broken_parameter_without_a_valid_version_is_refused(ssm, caplog, case):
    text, expected = BROKEN_PARAMETERS[case]
    put(ssm, text)
    with pytest.raises(TeamDirectoryError) as raised:
        deployed_directory(PARAMETER)
    assert expected in str(raised.value)
    [line] = refusal_lines(caplog)
    assert line.startswith(f"team directory parameter {PARAMETER} refused (no valid version to fall back on)")
    assert expected in line and line.isprintable()


@pytest.mark.parametrize("case", sorted(BROKEN_PARAMETERS))
def test_broken_parameter_keeps_the_last_valid_version(ssm, caplog, case):
    put(ssm, GOOD)
    assert deployed_directory(PARAMETER).route("search").slack_channel == "C0SEARCH01"
    text, expected = BROKEN_PARAMETERS[case]
    put(ssm, text)
    directory = deployed_directory(PARAMETER)
    # never routed by the broken text: search's alert still goes to search's channel
    route = directory.route("search")
    assert (route.owner, route.slack_channel) == ("search", "C0SEARCH01")
    [line] = refusal_lines(caplog)
    assert "refused (keeping the version validated before)" in line and expected in line


def test_the_deployed_default_routes_everything_to_finops(ssm, caplog):
    put(ssm, "teams: []\n")  # template.yaml's TeamDirectoryParameter before anyone uploads one
    directory = deployed_directory(PARAMETER, finops_slack_channel="C0STACKFIN")
    route = directory.route("search")
    assert (route.owner, route.slack_channel, route.reason) == (
        "finops",
        "C0STACKFIN",
        "unknown team 'search'",
    )
    assert refusal_lines(caplog) == []


def test_a_fixed_parameter_is_read_again(ssm, caplog):
    put(ssm, GOOD)
    deployed_directory(PARAMETER)
    put(ssm, BROKEN_PARAMETERS["a channel given twice"][0])
    deployed_directory(PARAMETER)
    put(ssm, GOOD.replace("C0SEARCH01", "C0SEARCH02"))
    assert deployed_directory(PARAMETER).route("search").slack_channel == "C0SEARCH02"
    assert len(refusal_lines(caplog)) == 1


def test_the_corpus_is_big_enough():
    assert len(REFUSED) + len(BROKEN_PARAMETERS) * 2 >= 25


@pytest.mark.parametrize(
    "case", ["not UTF-8", "too big for the Advanced parameter", "a billion laughs", "a tab indent"]
)
def test_test_alert_reads_the_file_the_same_way(tmp_path, case):
    content, expected = REFUSED[case]
    path = tmp_path / "teams.yaml"
    path.write_bytes(content)
    result = CliRunner().invoke(app, ["test-alert", "--team", "search", "--config", str(path), "--sandbox"])
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    [line] = result.stderr.splitlines()
    assert line.startswith(f"{path}: team directory is invalid (1 error(s)): {expected}"), line
