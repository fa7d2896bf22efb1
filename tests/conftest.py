"""Shared test fixtures. Keep this small: each suite's own fixtures live beside its tests."""

from __future__ import annotations

import gc
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import botocore.session
import pytest
from hypothesis import settings

from tokenfuse.adapters.aws import forget_kept_sessions
from tokenfuse.adapters.service_models import shared_loader
from tokenfuse_sandbox.emulation.moto_patches import MotoPatches, keep_action_names

# The real headless browser fixture (`browser`): tests/support/browser.py; one run of each demo story
# per session (`demo_runs`): tests/support/demo_runs.py
pytest_plugins = ["tests.support.browser", "tests.support.demo_runs", "tests.support.xdist_groups"]

# CI draws the same examples on every run (a landing never depends on the draw); locally each run
# draws new ones, which is how a new counterexample is found. .ci/run sets HYPOTHESIS_PROFILE=ci.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

# The tests price with the embedded table (their dollars are worked out by hand from its figures),
# never with a refreshed one a developer's `tokenfuse prices refresh` wrote into the layer.
os.environ.setdefault("TOKENFUSE_PRICE_TABLE", "embedded")

ROOT = Path(__file__).resolve().parents[1]
E2E = ROOT / "tests" / "e2e"


@pytest.fixture(scope="session", autouse=True)
def one_botocore_loader() -> Iterator[None]:
    """Every botocore session a test builds (its own, moto's, the sandbox's) reads the service
    models through tokenfuse's one lean loader, as every session of a tokenfuse function does
    (:mod:`tokenfuse.adapters.service_models`): each model parsed once per worker, not once per
    session. A test of botocore's own loader builds it by hand."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.session, "create_loader", shared_loader)
        yield


@pytest.fixture(scope="session", autouse=True)
def moto_keeps_action_names() -> Iterator[None]:
    """moto answers every test's requests without listing its response class's functions each time
    (:func:`tokenfuse_sandbox.emulation.moto_patches.keep_action_names`), as the sandbox does."""
    patches = MotoPatches()
    keep_action_names(patches)
    yield
    patches.restore()


@pytest.fixture(autouse=True)
def cold_container() -> None:
    """Each test starts as a cold container does: no member-role session and no client kept from
    another test (``kept_role_session`` and ``client`` in :mod:`tokenfuse.adapters.aws`)."""
    forget_kept_sessions()


# The cyclic garbage collector, tuned for a test run: a worker's heap holds every collected test,
# every module imported and moto's whole state, and each full collection walked all of it. The first
# generation is collected after 50,000 allocations (Python's default is 2,000), and what exists once
# the tests are collected is frozen (never walked again): a fault matrix ran in 12-24% less CPU.
# The tests' own code is unchanged; anything that needs a collection calls gc.collect() itself.
GC_THRESHOLDS = (50_000, 20, 100)


def pytest_configure(config: pytest.Config) -> None:
    gc.set_threshold(*GC_THRESHOLDS)


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    gc.collect()
    gc.freeze()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/e2e is an e2e test (``make test-fast`` leaves them out)."""
    for item in items:
        if item.path.is_relative_to(E2E):
            item.add_marker(pytest.mark.e2e)


HANDLERS = ROOT / "tests" / "fixtures" / "handlers"
FUNCTIONS = [
    "approve",
    "attribute",
    "digest",
    "drill",
    "intake",
    "inventory",
    "invocation_logging",
    "meter",
    "notify",
    "remediate",
]


def build_project(
    dst: Path,
    handlers: str = "real",
    replace: list[tuple[str, str]] | None = None,
    asl_replace: list[tuple[str, str]] | None = None,
) -> Path:
    """A copy of the project the sandbox can read: template.yaml (with ``replace`` applied, each
    old string must be present), statemachines/ (``asl_replace``), events/, and functions/: the real
    handler folders (``handlers="real"``; a folder whose app.py is not written yet gets the stub)
    or every function as tests/fixtures/handlers/scripted_app.py (``"scripted"``)."""
    dst.mkdir(parents=True, exist_ok=True)
    text = (ROOT / "template.yaml").read_text()
    for old, new in replace or []:
        assert old in text, f"mutation target not in template.yaml: {old!r}"
        text = text.replace(old, new)
    (dst / "template.yaml").write_text(text)
    shutil.copytree(ROOT / "statemachines", dst / "statemachines", dirs_exist_ok=True)
    for old, new in asl_replace or []:
        asl = dst / "statemachines" / "remediation.asl.json"
        body = asl.read_text()
        assert old in body, f"mutation target not in the ASL: {old!r}"
        asl.write_text(body.replace(old, new))
    if not (dst / "events").exists():
        (dst / "events").symlink_to(ROOT / "events")
    for name in FUNCTIONS:
        folder = dst / "functions" / name
        if folder.exists() or folder.is_symlink():
            continue
        real = ROOT / "functions" / name
        if handlers == "real" and (real / "app.py").is_file():
            folder.parent.mkdir(parents=True, exist_ok=True)
            folder.symlink_to(real)
        else:
            folder.mkdir(parents=True)
            source = "scripted_app.py" if handlers == "scripted" else "stub_app.py"
            shutil.copy(HANDLERS / source, folder / "app.py")
    return dst / "template.yaml"


@pytest.fixture(scope="session")
def project_factory(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """``make(name, handlers=..., replace=[(old, new)], asl_replace=[...]) -> template path``."""

    def make(name: str, **kwargs: object) -> Path:
        return build_project(tmp_path_factory.mktemp(name), **kwargs)  # type: ignore[arg-type]

    return make
