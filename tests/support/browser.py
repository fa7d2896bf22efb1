"""A real headless browser for tests: Debian's Chromium driven by its ChromeDriver (selenium).

    from tests.support.browser import Browser, browser  # noqa: F401  (the fixture)

    def test_page(browser: Browser, tmp_path):
        browser.open_file(tmp_path / "page.html")
        boxes = browser.boxes("svg text")

``make test`` installs ``chromium`` and ``chromium-driver`` when ``/usr/bin/chromium`` is absent; a
test that asks for the browser fails (never skips) when it is missing. Chromium runs with the flags
this machine needs (``--no-sandbox`` as root, no GPU, no background networking on a closed network)
and a fresh profile in a temporary folder.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--hide-scrollbars",
)
MISSING = "Chromium or ChromeDriver is missing ({}): `make test` installs chromium and chromium-driver"
INSTALL_STAMP = "TOKENFUSE_BROWSER_STAMP"
"""Set by ``make test``, which installs the browser beside the suite: the file its install writes
(its exit status) when it ends. A page test that finds no browser waits for it."""
INSTALL_WAIT_SECONDS = 600


def _wait_for_install() -> None:
    """Until ``make test``'s browser install (if one runs beside the suite) has ended."""
    stamp = os.environ.get(INSTALL_STAMP)
    if not stamp:
        return
    deadline = time.monotonic() + INSTALL_WAIT_SECONDS
    while not Path(stamp).exists() and time.monotonic() < deadline:
        time.sleep(1)


@dataclass(frozen=True)
class Box:
    """An element's ``getBoundingClientRect()`` in CSS pixels, and its text."""

    left: float
    top: float
    right: float
    bottom: float
    text: str

    def overlaps(self, other: Box, tolerance: float = 0.5) -> bool:
        return (
            self.left < other.right - tolerance
            and other.left < self.right - tolerance
            and self.top < other.bottom - tolerance
            and other.top < self.bottom - tolerance
        )

    def inside(self, outer: Box, tolerance: float = 0.5) -> bool:
        return (
            self.left >= outer.left - tolerance
            and self.top >= outer.top - tolerance
            and self.right <= outer.right + tolerance
            and self.bottom <= outer.bottom + tolerance
        )


_RECTS = """
return Array.from(document.querySelectorAll(arguments[0])).map(function (e) {
  var r = e.getBoundingClientRect();
  return [r.left, r.top, r.right, r.bottom, (e.textContent || "").trim()];
});
"""


class Browser:
    """One Chromium session (a window of ``width`` x ``height``)."""

    def __init__(self, width: int = 1280, height: int = 900) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
            _wait_for_install()
        missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
        if missing:
            pytest.fail(MISSING.format(", ".join(missing)))
        self._profile = tempfile.mkdtemp(prefix="tokenfuse-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for flag in (*FLAGS, f"--user-data-dir={self._profile}", f"--window-size={width},{height}"):
            options.add_argument(flag)
        self.driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)

    def open_file(self, path: Path) -> None:
        """Open a page and wait until it is parsed whole (``document.readyState`` complete): a CI run
        once read the day-long chart's DOM with only its first plot in it."""
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver.get(path.resolve().as_uri())
        WebDriverWait(self.driver, 30).until(
            lambda driver: driver.execute_script("return document.readyState") == "complete"
        )

    def script(self, source: str, *args: Any) -> Any:
        return self.driver.execute_script(source, *args)

    def boxes(self, selector: str) -> list[Box]:
        rects: list[list[Any]] = self.script(_RECTS, selector)
        return [Box(float(r[0]), float(r[1]), float(r[2]), float(r[3]), str(r[4])) for r in rects]

    def set_viewport(self, width: int, height: int = 900) -> None:
        """Resize the window so the page's viewport (``window.innerWidth``) is ``width`` CSS pixels."""
        self.driver.set_window_size(width, height)
        inner = int(self.script("return window.innerWidth"))
        if inner != width:  # the window's frame, where a platform draws one
            self.driver.set_window_size(2 * width - inner, height)

    def screenshot(self, path: Path, full_page: bool = True, width: int = 1280) -> None:
        """A PNG of the page (``full_page``: the window grown to the page's height, at least ``width``
        wide)."""
        if full_page:
            height = int(self.script("return document.documentElement.scrollHeight"))
            page_width = int(self.script("return document.documentElement.scrollWidth"))
            self.driver.set_window_size(max(page_width, width), height + 40)
        self.driver.save_screenshot(str(path))

    def close(self) -> None:
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self._profile, ignore_errors=True)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    session = Browser()
    try:
        yield session
    finally:
        session.close()
