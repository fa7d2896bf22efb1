"""The fault-injection suite's world (``world.py``): one moto organization per test module, put
back to its starting state (and checked) before every case."""

from collections.abc import Iterator

import pytest

from tests.fault_injection.world import World, build_world


@pytest.fixture(scope="module")
def shared_world() -> Iterator[World]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield from build_world(monkeypatch)


@pytest.fixture
def world(shared_world: World) -> World:
    shared_world.reset()
    return shared_world
