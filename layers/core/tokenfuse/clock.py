"""The one source of "now" for domain code, so the sandbox can run a day in seconds.

Lambda code calls :func:`now`; the sandbox replaces the source with its simulated clock.
"""

from collections.abc import Callable
from datetime import UTC, datetime

_source: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    return _source()


def set_source(source: Callable[[], datetime]) -> None:
    """Replace where time comes from (the sandbox's simulated clock)."""
    global _source  # noqa: PLW0603
    _source = source


def reset() -> None:
    set_source(lambda: datetime.now(UTC))
