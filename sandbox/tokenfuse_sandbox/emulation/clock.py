"""Emulation: a simulated clock, so a 24-hour story runs in seconds.

:class:`SimulatedClock` holds "now" (timezone-aware UTC). It moves only when told to
(:meth:`~SimulatedClock.advance`, :meth:`~SimulatedClock.advance_to`), calls its listeners on every
move (the alarm evaluator is one), and lets threads block until it reaches an instant
(:meth:`~SimulatedClock.wait_until`). It is thread-safe.

It becomes the source of ``tokenfuse.clock.now()`` (:meth:`~SimulatedClock.use_for_tokenfuse`), and
:meth:`~SimulatedClock.patch_stepfunctions` takes over moto's Step Functions interpreter:

- ``WaitFunction._wait_interval`` (the one place a Wait state sleeps) no longer sleeps: in
  ``"advance"`` mode a Wait of N seconds moves the clock to (start of the wait + N) itself; in
  ``"block"`` mode it blocks until something else (the story driver) moves the clock that far.
- A ``Timestamp`` / ``TimestampPath`` wait is measured against the simulated now, not the wall clock.
- A task's time-out (``TimeoutSeconds``, ``TimeoutSecondsPath``), its ``.waitForTaskToken`` callback
  wait and its ``HeartbeatSeconds`` end when the callback (heartbeat) arrives or when the simulated
  clock reaches (task start + seconds), whichever comes first; nothing counts real seconds. Every
  such wait is registered in :attr:`~SimulatedClock.waits` (:class:`ClockWaits`): the sandbox's
  delivery reads from it whether an execution is parked (no wait of it can end yet) or busy, and a
  driver can stop the clock exactly where a wait ends (``waits.next_wake()``), so a time-out comes
  at start + timeout, not at the driver's next step, on a loaded machine as on an idle one.
- With ``timestamps=True`` (default) the execution's ``startDate`` / ``stopDate`` and its history
  event timestamps come from the simulated clock too (moto reads ``datetime.datetime.now`` for
  them; the patch swaps that for the clock in those two modules and in the event manager).

While the clock is tokenfuse's (:meth:`~SimulatedClock.use_for_tokenfuse`), the handlers' log lines
(Powertools' ``timestamp``, from ``LogRecord.created``) and the EMF metric lines' ``Timestamp`` carry
the simulated time too: ``demo-output/<scenario>.log`` reads as the story's day, not the machine's.
The layer's code is untouched: a log-record factory and Powertools' ``dt`` module name are swapped in
the sandbox process only, and put back afterwards.

What it does NOT prove: boto3/moto's own timestamps elsewhere (metric ingestion, SQS, alarm
``StateUpdatedTimestamp`` unless the alarm emulation sets it) stay on the wall clock; real Step
Functions' wait and time-out accuracy (it can be late by a second or more) is not reproduced, nor
is a callback that races a time-out at the same instant (here the time-out wins: the clock reaches
the deadline before the driver sends the callback); activity tasks (``GetActivityTask``) and
``.sync`` integrations still poll in real seconds (tokenfuse uses neither). A task time-out ends only
when someone moves the clock: in ``"advance"`` mode, with nothing else moving it, an unanswered
approval waits forever, as a wall-clock sandbox never would. In ``"advance"`` mode, concurrent
waits overlap: two parallel Waits of 60 s and 3600 s leave the clock 3600 s later, but the order in
which they finish follows the threads, not the clock (and a Wait that moves the clock can time out
another execution's task).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Literal

from tokenfuse_sandbox.emulation.moto_patches import (
    ClockWaits,
    MotoPatches,
    datetime_module_on_clock,
    stepfunctions_timestamps_on_clock,
    task_timeouts_on_clock,
    waits_on_clock,
)

__all__ = ["ClockWaits", "Listener", "SimulatedClock", "boundaries"]

TOKENFUSE_LOGGER = "tokenfuse"
"""The logger hierarchy whose records carry the simulated time: the Powertools logger (named after
``POWERTOOLS_SERVICE_NAME``, ``tokenfuse`` in ``template.yaml``) and the domain's module loggers."""

Listener = Callable[[datetime, datetime], None]
"""Called as ``listener(old_now, new_now)`` after each move of the clock, in the advancing thread."""

_sfn_lock = threading.Lock()
_sfn_owner: SimulatedClock | None = None


def _utc(t: datetime) -> datetime:
    if t.tzinfo is None:
        raise ValueError("SimulatedClock needs timezone-aware datetimes")
    return t.astimezone(UTC)


def boundaries(start: datetime, end: datetime, period: timedelta) -> list[datetime]:
    """The instants that are whole multiples of ``period`` since the epoch in ``(start, end]``.

    E.g. the minute boundaries a jump of the clock crosses, where CloudWatch would have evaluated.
    """
    step = int(period.total_seconds())
    if step <= 0:
        raise ValueError("period must be at least one second")
    s, e = int(start.timestamp()), int(end.timestamp())
    first = (s // step + 1) * step
    return [datetime.fromtimestamp(t, UTC) for t in range(first, e + 1, step)]


class SimulatedClock:
    """A clock that moves only when told to. Thread-safe.

    ``start`` must be timezone-aware; default: the current wall-clock minute.
    """

    def __init__(self, start: datetime | None = None) -> None:
        if start is None:
            start = datetime.now(UTC).replace(second=0, microsecond=0)
        self._now = _utc(start)
        self._cond = threading.Condition(threading.RLock())
        # Serialises moves, listeners included; re-entrant so a listener may read or move the clock.
        self._advance_lock = threading.RLock()
        self._listeners: list[Listener] = []
        self.waits: ClockWaits | None = None
        """While this clock drives moto's Step Functions: what its executions wait for on the clock."""

    # --- reading ---------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The simulated now, timezone-aware UTC."""
        with self._cond:
            return self._now

    def time(self) -> float:
        """The simulated now as epoch seconds (a drop-in for ``time.time``)."""
        return self.now().timestamp()

    # --- moving ----------------------------------------------------------------------------------

    def advance(self, delta: timedelta | float) -> datetime:
        """Move forward by ``delta`` (a timedelta or seconds); returns the new now."""
        if not isinstance(delta, timedelta):
            delta = timedelta(seconds=delta)
        if delta < timedelta(0):
            raise ValueError("the simulated clock does not go back")
        with self._advance_lock:
            return self._move(self.now() + delta)

    def advance_to(self, t: datetime) -> datetime:
        """Move forward to ``t``; a ``t`` at or before now leaves the clock where it is."""
        t = _utc(t)
        with self._advance_lock:
            if t <= self.now():
                return self.now()
            return self._move(t)

    def sleep(self, seconds: float) -> None:
        """``time.sleep`` for code that runs on simulated time: moves the clock instead of waiting."""
        self.advance(seconds)

    def _move(self, new: datetime) -> datetime:
        with self._cond:
            old = self._now
            self._now = new
            self._cond.notify_all()
        for listener in list(self._listeners):
            listener(old, new)
        return new

    # --- listening and waiting -------------------------------------------------------------------

    def add_listener(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(old, new)`` after each move; returns a function that removes it."""
        with self._advance_lock:
            self._listeners.append(listener)

        def remove() -> None:
            with self._advance_lock, contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return remove

    def wait_until(
        self, t: datetime, timeout: float | None = None, interrupted: Callable[[], bool] | None = None
    ) -> bool:
        """Block until the clock reaches ``t`` (True), ``timeout`` wall seconds pass or
        ``interrupted()`` turns true (False)."""
        t = _utc(t)
        end = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._now < t:
                if interrupted is not None and interrupted():
                    return False
                remaining = None if end is None else end - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                if interrupted is not None:
                    remaining = 0.05 if remaining is None else min(remaining, 0.05)
                self._cond.wait(remaining)
            return True

    # --- taking over -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def activate(
        self,
        *,
        stepfunctions: bool = True,
        mode: Literal["advance", "block"] = "advance",
        timestamps: bool = True,
    ) -> Iterator[SimulatedClock]:
        """:meth:`use_for_tokenfuse` and (with ``stepfunctions``) :meth:`patch_stepfunctions` together."""
        with contextlib.ExitStack() as stack:
            stack.enter_context(self.use_for_tokenfuse())
            if stepfunctions:
                stack.enter_context(self.patch_stepfunctions(mode, timestamps))
            yield self

    @contextlib.contextmanager
    def use_for_tokenfuse(self) -> Iterator[SimulatedClock]:
        """Make this clock the source of ``tokenfuse.clock.now()`` while the block runs, and of the
        time stamped on tokenfuse's log records (the handlers' Powertools ``timestamp``) and on the
        EMF metric lines Powertools prints (``_aws.Timestamp``)."""
        from tokenfuse import clock as tf_clock

        tf_clock.set_source(self.now)
        previous_factory = logging.getLogRecordFactory()
        patches = MotoPatches()
        try:
            logging.setLogRecordFactory(self._record_factory(previous_factory))
            self._emf_timestamps_on_clock(patches)
            yield self
        finally:
            patches.restore()
            logging.setLogRecordFactory(previous_factory)
            tf_clock.reset()

    def _record_factory(self, make: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
        """Log records of the ``tokenfuse`` loggers (the Powertools logger is named after the service)
        made while this clock is in use carry the simulated time; other libraries' keep the wall clock."""

        def factory(*args: object, **kwargs: object) -> logging.LogRecord:
            record = make(*args, **kwargs)
            if record.name.partition(".")[0] == TOKENFUSE_LOGGER:
                at = self.time()
                record.created = at
                record.msecs = float(int(at % 1 * 1000))
            return record

        return factory

    def _emf_timestamps_on_clock(self, patches: MotoPatches) -> None:
        """Powertools' CloudWatch EMF lines stamp ``Timestamp`` with ``dt.datetime.now()`` (unless a
        function sets one): read the simulated clock there instead."""
        from aws_lambda_powertools.metrics.provider.cloudwatch_emf import cloudwatch as emf

        patches.replace(emf, "dt", datetime_module_on_clock(self))

    @contextlib.contextmanager
    def patch_stepfunctions(
        self, mode: Literal["advance", "block"] = "advance", timestamps: bool = True
    ) -> Iterator[SimulatedClock]:
        """Take over moto's Step Functions waits (and, with ``timestamps``, its clock readings).

        Process-wide while the block runs (moto's interpreter is); one clock at a time.
        """
        if mode not in ("advance", "block"):
            raise ValueError("mode must be 'advance' or 'block'")
        global _sfn_owner  # noqa: PLW0603
        with _sfn_lock:
            if _sfn_owner is not None:
                raise RuntimeError("another SimulatedClock already drives moto's Step Functions")
            _sfn_owner = self
        patches = MotoPatches()
        waits = ClockWaits(self)
        try:
            waits_on_clock(patches, self, mode, waits)
            task_timeouts_on_clock(patches, self, waits)
            if timestamps:
                stepfunctions_timestamps_on_clock(patches, self)
            self.waits = waits
            yield self
        finally:
            self.waits = None
            patches.restore()
            with _sfn_lock:
                _sfn_owner = None
