"""``make test`` installs the browser beside the suite: a page test that finds no browser waits for
the install's stamp, and only for it."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tests.support import browser


def test_a_page_test_waits_for_the_install_beside_the_suite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given `make test`'s install still running (its stamp not written yet)
    stamp = tmp_path / ".browser-install"
    monkeypatch.setenv(browser.INSTALL_STAMP, str(stamp))
    threading.Timer(1.5, lambda: stamp.write_text("0\n")).start()
    # When a page test looks for the browser
    started = time.monotonic()
    browser._wait_for_install()
    # Then it went on once the install ended
    assert stamp.exists() and time.monotonic() - started >= 1.0


def test_without_an_install_beside_the_suite_nothing_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(browser.INSTALL_STAMP, raising=False)
    monkeypatch.setattr(browser, "INSTALL_WAIT_SECONDS", 60)
    started = time.monotonic()
    browser._wait_for_install()
    assert time.monotonic() - started < 0.5
