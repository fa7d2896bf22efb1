"""`tokenfuse restore`: arguments, and the sandbox path end to end (an ephemeral sandbox has no trips)."""

from typer.testing import CliRunner

from tokenfuse_cli.main import app
from tokenfuse_cli.restore import payload

runner = CliRunner()


def test_needs_exactly_one_of_an_arn_or_all():
    assert runner.invoke(app, ["restore"]).exit_code == 2
    assert (
        runner.invoke(
            app, ["restore", "arn:aws:bedrock:us-east-1:1:application-inference-profile/x", "--all"]
        ).exit_code
        == 2
    )


def test_payload_is_the_remediate_functions_restore_task():
    assert payload(None, True, "arn:aws:iam::1:user/op") == {
        "task": "restore-profiles",
        "profile_arn": None,
        "all": True,
        "actor": "arn:aws:iam::1:user/op",
    }


def test_a_profile_arn_that_is_none_fails_in_one_line():
    result = runner.invoke(app, ["restore", "arn:aws:iam::123456789012:role/x", "--sandbox"])
    assert result.exit_code == 1
    assert result.output.strip() == (
        "restore failed: restore-profiles: profile_arn: Value error, not an application inference profile ARN"
    )


def test_restore_all_in_the_sandbox():
    result = runner.invoke(app, ["restore", "--all", "--sandbox"])
    assert result.exit_code == 0, result.output
    assert "no active trips" in result.output
