"""The reports: ``--json`` exactly as contracts.md fixes it, text that never says None."""

import json

from tokenfuse.drill.report import Check, DoctorReport, DrillReport, render_text


def drill_report(**overrides):
    fields = {
        "passed": False,
        "checks": [Check.ok("canary", "made"), Check.failed("denied", "not refused", "attach the guard")],
        "model_id_form": None,
        "denied_confirmed": None,
        "restored_confirmed": None,
        "seconds_to_deny": None,
        "cost_usd": None,
    }
    return DrillReport(**(fields | overrides))


def test_the_drill_json_has_exactly_the_contracts_keys_with_null_for_the_unknown():
    document = json.loads(drill_report().to_json_text())
    assert set(document) == {
        "passed", "checks", "model_id_form", "denied_confirmed", "restored_confirmed",
        "seconds_to_deny", "cost_usd",
    }  # fmt: skip
    assert document["checks"][1] == {
        "name": "denied",
        "passed": False,
        "detail": "not refused; to fix: attach the guard",
    }
    assert document["seconds_to_deny"] is None and document["model_id_form"] is None


def test_the_doctor_json_is_passed_and_checks():
    report = DoctorReport.of([Check.ok("prices", "fresh")])
    assert json.loads(report.to_json_text()) == {
        "passed": True,
        "checks": [{"name": "prices", "passed": True, "detail": "fresh"}],
    }
    assert DoctorReport.of([]).passed is False  # no check ran: nothing is proven


def test_text_names_the_failed_checks_and_never_shows_none():
    text = render_text("tokenfuse drill", drill_report())
    assert "FAIL  denied" in text and "PASS  canary" in text
    assert "FAILED: denied" in text
    assert "None" not in text and "null" not in text
    assert "unknown" in text


def test_a_passed_drill_reads_its_figures():
    report = drill_report(
        passed=True,
        checks=[Check.ok("denied", "refused")],
        model_id_form="both",
        denied_confirmed=True,
        restored_confirmed=True,
        seconds_to_deny=5.0,
        cost_usd=0.00000221,
    )
    text = render_text("drill", report)
    assert "passed: all 1 checks" in text
    assert "took effect in 5 s" in text and "$0.00000221" in text and "both" in text


def test_one_more_check_recomputes_passed():
    report = drill_report(passed=True, checks=[Check.ok("a", "x")])
    assert report.with_check(Check.failed("finops-told", "no")).passed is False
    assert report.with_check(Check.ok("finops-told", "yes")).passed is True
