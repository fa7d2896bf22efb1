"""What an emulation replaces inside moto while it is installed, and puts back when it is removed.

moto's classes and URL tables are process-wide, so an emulation's ``install()`` replaces a few of
their attributes (or dict entries) once and its ``uninstall()`` restores exactly those.
"""

from __future__ import annotations

import threading
from collections.abc import MutableMapping
from typing import Any

__all__ = ["MotoPatches"]


class MotoPatches:
    """The replacements one emulation made (attributes of classes or modules, entries of dicts)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._saved: dict[tuple[int, str], tuple[Any, str, Any]] = {}

    @property
    def installed(self) -> bool:
        return bool(self._saved)

    def replace(self, owner: Any, name: str, value: Any) -> Any:
        """Set ``owner.name`` (``owner[name]`` for a dict) to ``value``; returns what was there."""
        with self.lock:
            original = owner[name] if isinstance(owner, MutableMapping) else getattr(owner, name)
            self._saved.setdefault((id(owner), name), (owner, name, original))
            if isinstance(owner, MutableMapping):
                owner[name] = value
            else:
                setattr(owner, name, value)
            return original

    def original(self, owner: Any, name: str) -> Any:
        """What ``owner.name`` was before this emulation replaced it."""
        return self._saved[(id(owner), name)][2]

    def restore(self) -> None:
        """Put every replaced attribute back."""
        with self.lock:
            for owner, name, original in reversed(list(self._saved.values())):
                if isinstance(owner, MutableMapping):
                    owner[name] = original
                else:
                    setattr(owner, name, original)
            self._saved.clear()
