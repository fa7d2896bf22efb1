"""The drill's steps over an in-memory organization (tests/support/drill_fakes.py): each check says
what it saw, every failure names the check and what to do, and whatever happens the drill restores
what it tripped and deletes what it created."""

from datetime import timedelta

import pytest

from tests.support.drill_fakes import ACCOUNT, MODEL, PER_CALL_USD, START, World
from tokenfuse.canaries import DRILL_TAG_KEY
from tokenfuse.drill.canary import TAG_GUARD_TAG_KEY
from tokenfuse.drill.drill import CHECKS, run_drill


def run(world: World, **config):
    return run_drill(world.ports(), world.config(**config))


def by_name(report):
    return {c.name: c for c in report.checks}


def test_a_drill_that_works_passes_every_check_in_order_and_leaves_nothing():
    # Given an organization where the deny takes 7 s and the datapoint 20 s
    world = World(deny_after=7.0, metric_after=20.0)
    # When the drill runs
    report = run(world)
    # Then every check passes, in the drill's order
    assert [c.name for c in report.checks] == list(CHECKS)
    assert report.passed, [c for c in report.checks if not c.passed]
    # And the deny took effect 7 s after the trip (polled every second), the restore at once
    assert report.seconds_to_deny == 7.0
    assert (report.denied_confirmed, report.restored_confirmed) == (True, True)
    assert report.model_id_form == "profile-id"
    # And the calls that went through: the first, the 7 before the deny (t+0 .. t+6 s), one after the
    # restore; the tag canary's were all refused (free): 9 x (5 x $0.035 + 1 x $0.14) / 1M
    assert world.ok_calls() == 9
    assert report.cost_usd == pytest.approx(9 * (5 * 0.035 + 1 * 0.14) / 1_000_000)
    assert report.cost_usd == pytest.approx(9 * PER_CALL_USD)
    # And both canaries were created on the cheapest model, tagged as canaries, and are gone
    assert len(world.created) == 2 and world.canaries == {}
    assert sorted(world.deleted) == sorted(world.created)


def test_the_drill_trips_through_the_remediation_with_a_drill_incident():
    world = World()
    ports = world.ports()
    report = run_drill(ports, world.config())
    assert report.passed
    [payload] = ports.remediation.incidents  # type: ignore[attr-defined]
    incident = payload["incident"]
    assert incident["drill"] is True
    assert incident["team"] is None
    assert incident["profile_arn"] == world.created[0]
    assert incident["profile_name"].startswith("tokenfuse-drill-20261130t100000-abc123")


def test_the_canaries_carry_the_drill_tag_and_the_tag_canary_the_guard_tag():
    world = World()
    seen = {}
    ports = world.ports()
    original = ports.canaries.create

    def create(name, model_arn, tags):
        seen[name] = dict(tags)
        return original(name, model_arn, tags)

    ports.canaries.create = create  # type: ignore[method-assign]
    run_drill(ports, world.config(caller_role="drill-role"))
    canary, tag = sorted(seen)
    assert seen[canary] == {DRILL_TAG_KEY: "true", "tokenfuse:callers": "drill-role"}
    assert seen[tag] == {DRILL_TAG_KEY: "true", "tokenfuse:callers": "drill-role", TAG_GUARD_TAG_KEY: "true"}
    assert tag == canary + "-tag"


@pytest.mark.parametrize(
    ("forms", "expected"),
    [
        (("profile-id",), "profile-id"),
        (("profile-arn",), "profile-arn"),
        (("profile-id", "profile-arn"), "both"),
    ],
)
def test_the_model_id_form_the_datapoint_carries_is_recorded(forms, expected):
    report = run(World(metric_forms=forms))
    assert report.model_id_form == expected
    assert f"ModelId = {expected}" in by_name(report)["metric"].detail


def test_whether_the_model_series_moved_too_is_said():
    moved = by_name(run(World(model_series_moves=True)))["metric"].detail
    still = by_name(run(World(model_series_moves=False)))["metric"].detail
    assert f"(ModelId {MODEL}) moved too" in moved
    assert "did not move" in still


def test_a_datapoint_that_never_comes_fails_the_metric_check_and_the_drill_goes_on():
    world = World(metric_after=None)
    report = run(world)
    metric = by_name(report)["metric"]
    assert not metric.passed and not report.passed
    assert "after 600 s" in metric.detail and "to fix:" in metric.detail
    assert report.model_id_form is None
    # the rest of the drill still ran and cleaned up
    assert by_name(report)["denied"].passed and by_name(report)["restored"].passed
    assert world.canaries == {}


def test_a_deny_that_never_takes_effect_fails_denied_and_the_canary_is_still_restored_and_deleted():
    world = World(deny_after=None)
    report = run(world)
    checks = by_name(report)
    assert not checks["denied"].passed
    assert "not refused 300 s after the trip" in checks["denied"].detail
    assert "attach the guard SCP" in checks["denied"].detail
    assert report.denied_confirmed is False and report.seconds_to_deny is None
    assert checks["restore"].passed and world.restores
    assert checks["delete"].passed and world.canaries == {}
    assert checks["tag-guard"].passed  # independent of the ARN-listed deny


def test_a_tag_condition_that_is_not_evaluated_fails_tag_guard_only():
    report = run(World(tag_guard_works=False))
    failed = [c.name for c in report.checks if not c.passed]
    assert failed == ["tag-guard"]
    assert "TokenfuseDrillTagGuard" in by_name(report)["tag-guard"].detail


def test_a_failed_trip_fails_trip_and_nothing_that_needs_a_deny_reads_as_proven():
    world = World(trip_status="FAILED")
    report = run(world)
    checks = by_name(report)
    assert not checks["trip"].passed and "ended FAILED: States.TaskFailed" in checks["trip"].detail
    assert checks["denied"].detail.startswith("not run") and not checks["denied"].passed
    assert checks["restored"].detail.startswith("not run") and not checks["restored"].passed
    assert checks["restore"].passed and "nothing of the drill's was in force" in checks["restore"].detail
    assert checks["delete"].passed and world.canaries == {}
    assert report.denied_confirmed is None and report.restored_confirmed is None


def test_a_trip_only_planned_under_dry_run_fails_trip():
    report = run(World(trip_dry_run=True))
    trip = by_name(report)["trip"]
    assert (
        not trip.passed
        and "only planned the trip (DryRun)" in trip.detail
        and "update the stack" in trip.detail
    )


def test_a_first_call_refused_before_any_trip_stops_the_drill_before_it_trips_anything():
    world = World(refuse_everything=True)
    report = run(world)
    checks = by_name(report)
    assert not checks["first-call"].passed and "refused before any trip" in checks["first-call"].detail
    assert world.tripped_at is None and not world.restores
    for name in ("metric", "invocation-log", "trip", "denied", "restore", "restored"):
        assert checks[name].detail == "not run: first-call failed first", name
    assert checks["delete"].passed and world.canaries == {}
    assert report.cost_usd == 0.0


def test_the_management_account_is_refused_before_a_canary_is_made():
    world = World(management_account=ACCOUNT)
    report = run(world)
    account = by_name(report)["account"]
    assert not account.passed and "management account" in account.detail and "--account" in account.detail
    assert world.created == [] and report.cost_usd is None


def test_an_error_inside_a_step_is_reported_as_that_step_and_the_cleanup_still_runs():
    world = World(fail_metrics=True)
    report = run(world)
    metric = by_name(report)["metric"]
    assert not metric.passed
    assert metric.detail == "the drill stopped: RuntimeError: GetMetricData: connection reset"
    assert world.tripped_at is None  # it stopped before the trip
    assert by_name(report)["delete"].passed and world.canaries == {}


def test_a_cleanup_that_cannot_lift_the_trip_keeps_the_canaries_and_says_what_is_left():
    world = World()
    ports = world.ports()
    real_restore = ports.remediation.restore

    def restore(arn, actor):
        world.fail_restore = True
        return real_restore(arn, actor)

    ports.remediation.restore = restore  # type: ignore[method-assign]
    report = run_drill(ports, world.config())
    checks = by_name(report)
    assert not report.passed
    assert "cleanup" in checks and "left behind" in checks["cleanup"].detail
    assert "tokenfuse restore --all" in checks["cleanup"].detail
    assert checks["delete"].detail.startswith("canaries kept")
    assert len(world.canaries) == 2  # a tripped canary is never deleted before its trip is lifted


def test_left_behind_canaries_are_lifted_and_deleted_first_and_a_running_drills_are_left_alone():
    world = World()
    old = world.add_canary(
        "tokenfuse-drill-20261130t070000-aaaaaa", {DRILL_TAG_KEY: "true"}, START - timedelta(hours=3)
    )
    young = world.add_canary(
        "tokenfuse-drill-20261130t095500-bbbbbb", {DRILL_TAG_KEY: "true"}, START - timedelta(minutes=5)
    )
    report = run(world)
    leftovers = by_name(report)["leftovers"]
    assert leftovers.passed
    assert "cleaned 1 canary(ies)" in leftovers.detail and old.name in leftovers.detail
    assert "1 canary(ies) of a drill still running left alone" in leftovers.detail
    assert old.arn in world.restores and old.arn in world.deleted
    assert young.arn in world.canaries


def test_the_deadline_cuts_the_waits_short_so_the_cleanup_fits():
    world = World(metric_after=200.0)
    report = run(world, deadline=START + timedelta(seconds=150), cleanup_reserve_seconds=90)
    metric = by_name(report)["metric"]
    assert not metric.passed and "the function's time ran out" in metric.detail
    assert world.canaries == {}  # cleaned up before the deadline
    assert world.clock.now() <= START + timedelta(seconds=150)


def test_inline_deny_drills_one_canary_and_has_no_tag_guard_check():
    world = World()
    report = run(world, trip_mechanism="inline-deny")
    assert "tag-guard" not in by_name(report)
    assert len(world.created) == 1
    assert report.passed


def test_an_invocation_log_that_is_off_fails_its_check():
    report = run(World(log_group=None))
    log = by_name(report)["invocation-log"]
    assert (
        not log.passed
        and "logging is off" in log.detail
        and "PutModelInvocationLoggingConfiguration" in log.detail
    )


def test_the_log_records_model_id_form_is_said():
    assert (
        "its modelId is the profile ARN" in by_name(run(World(log_model_id="arn")))["invocation-log"].detail
    )
    assert "not the profile ARN" in by_name(run(World(log_model_id="id")))["invocation-log"].detail
