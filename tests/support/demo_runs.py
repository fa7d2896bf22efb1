"""One run of each demo story per test session, shared by every test that reads it.

A whole ``tokenfuse demo`` story costs 25-40 CPU seconds; the tests that read the same story (the
same scenario, decision, policy and path) share one run instead of telling it again::

    from tests.support.demo_runs import DemoRuns, same_run  # the fixture: demo_runs

    @same_run(decision="decline")
    def test_x(demo_runs: DemoRuns) -> None:
        run = demo_runs.get(decision="decline")

``same_run(**options)`` puts a test in the xdist group of that story (``--dist loadgroup``, as the
Makefile runs pytest; tests/support/xdist_groups.py makes the groups hold under pytest 9), so each
distinct story is told once per suite, on one worker. Each run keeps everything a test may read:
the report, the lines the demo printed, its JSON, chart and handler log files, and every JSON line
the handlers logged through Powertools.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tokenfuse_sandbox.story.report import DemoReport


@dataclass(frozen=True)
class DemoOptions:
    """What makes one story differ from another (``tokenfuse demo``'s options)."""

    scenario: str = "runaway-loop"
    decision: str = "approve"
    policy: str = "approve"
    invocation_logs: bool = True

    @property
    def name(self) -> str:
        path = "invocation-log" if self.invocation_logs else "token-rate-alarm"
        return f"demo-{self.scenario}-{self.decision}-{self.policy}-{path}"


@dataclass(frozen=True)
class DemoRun:
    options: DemoOptions
    report: DemoReport
    lines: list[str]
    """What the demo printed, line by line (its timeline and summary)."""
    folder: Path
    """Holds ``report.json``, ``chart.html``, ``handlers.log`` and ``lines.jsonl``."""
    handler_lines: list[dict[str, Any]]
    """Every Powertools JSON line a handler logged during the story, in order."""


def _handler_lines(path: Path) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    for text in path.read_text().splitlines():
        try:
            line = json.loads(text)
        except ValueError:
            continue  # not a Powertools line (moto's or the sandbox's own)
        if isinstance(line, dict) and "function_name" in line:
            lines.append(line)
    return lines


class DemoRuns:
    """The session's demo stories, each told on first use."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self._tmp = tmp_path_factory
        self._runs: dict[DemoOptions, DemoRun | Exception] = {}

    def get(
        self,
        scenario: str = "runaway-loop",
        decision: str = "approve",
        policy: str = "approve",
        *,
        invocation_logs: bool = True,
    ) -> DemoRun:
        options = DemoOptions(scenario, decision, policy, invocation_logs)
        if options not in self._runs:
            try:
                self._runs[options] = self._tell(options)
            except Exception as error:  # told once: every test that reads this story fails with it
                self._runs[options] = error
        run = self._runs[options]
        if isinstance(run, Exception):
            raise run
        return run

    def _tell(self, options: DemoOptions) -> DemoRun:
        from tokenfuse.observability import logger
        from tokenfuse_sandbox.story.driver import run_demo

        folder = self._tmp.mktemp(options.name)
        printed: list[str] = []
        # every line the handlers log, in Powertools' JSON as Lambda would ship it (pytest holds stdout)
        captured = logging.FileHandler(folder / "lines.jsonl")
        captured.setFormatter(logger.registered_formatter)
        handlers_logger = logging.getLogger(logger.name)  # the stdlib logger Powertools' one wraps
        handlers_logger.addHandler(captured)
        try:
            report = run_demo(
                options.scenario,
                options.decision,
                options.policy,
                json_path=folder / "report.json",
                chart_path=folder / "chart.html",
                log_path=folder / "handlers.log",
                out=printed.append,
                invocation_logs=options.invocation_logs,
            )
        finally:
            handlers_logger.removeHandler(captured)
            captured.close()
        return DemoRun(options, report, printed, folder, _handler_lines(folder / "lines.jsonl"))


def same_run(
    scenario: str = "runaway-loop",
    decision: str = "approve",
    policy: str = "approve",
    *,
    invocation_logs: bool = True,
) -> pytest.MarkDecorator:
    """The xdist group of the tests that read this story: one worker tells it once for them all."""
    return pytest.mark.xdist_group(DemoOptions(scenario, decision, policy, invocation_logs).name)


@pytest.fixture(scope="session")
def demo_runs(tmp_path_factory: pytest.TempPathFactory) -> DemoRuns:
    return DemoRuns(tmp_path_factory)
