"""``--dist loadgroup`` for pytest 9: the tests of one ``xdist_group`` on one worker again.

pytest-xdist 3.8 sends a grouped test to the group's worker by naming it ``<nodeid>@<group>`` on
the worker, through ``item._nodeid``; pytest 9 reads a node's id from ``item._id`` instead, so the
name never changes and every grouped test is scheduled alone (xdist's own example of
``xdist_group`` tests lands on both workers). This plugin gives the worker's items the name xdist
means to give them, after xdist's own hook, and fails the collection if pytest ever stops reading
it, rather than let the groups fall apart in silence. Nothing changes without ``--dist loadgroup``.
"""

from __future__ import annotations

import pytest
from _pytest.nodeid import NodeId


def _group(item: pytest.Item) -> str | None:
    names = {
        str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
        for mark in item.iter_markers("xdist_group")
    }
    return "_".join(sorted(names)) if names else None


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not getattr(config.option, "loadgroup", False):  # xdist sets it on its workers for loadgroup
        return
    for item in items:
        group = _group(item)
        if group is None or item.nodeid.endswith(f"@{group}"):
            continue
        named = f"{item.nodeid}@{group}"
        item._id = NodeId.parse(named)  # the attribute pytest 9's Node.nodeid reads
        if item.nodeid != named:
            raise pytest.UsageError(f"cannot name {item.nodeid} for its xdist group {group}")
