"""The switchboard: the one place where events meet the core.

Adapters `post()` events; one loop feeds them to the core in arrival order with the wall
clock's `now`, wakes for the core's next timer, and hands the core's outputs on: commands
to the telephony adapter, records to the record writer, alerts to the log; each tier hop
also to the telephony (`keep_call_facts`), which keeps it with the call for a restart.
Commands run concurrently across calls but in order within a call (an `Answer` before its
`PlayPrompt`), and every command task is owned here until it finishes.

If the core fails on an event for a call, the call is sent back to the dialplan's fallback
(`Fallback`), so no caller is ever left stuck; the failure is logged with the event.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Protocol

import structlog

from acd.domain.core import Acd, Output
from acd.service.ports import Telephony
from acd.vocabulary import commands as cmd
from acd.vocabulary import events as ev
from acd.vocabulary import records as rec
from acd.vocabulary.alerts import Alert

log = structlog.get_logger("acd117.switchboard")


class RecordSink(Protocol):
    def submit(self, record: rec.Record) -> None:
        """Take a record without blocking the call path (queue or spool it)."""


class Switchboard:
    def __init__(self, acd: Acd, telephony: Telephony, records: RecordSink, *,
                 clock: Callable[[], float] = time.time,
                 on_alert: Callable[[Alert], None] | None = None) -> None:
        self.acd = acd
        self._telephony = telephony
        self._records = records
        self._clock = clock
        self._on_alert = on_alert
        # None wakes the loop to fire the core's due timers and re-read the next one.
        self._events: asyncio.Queue[ev.Event | None] = asyncio.Queue()
        self.events_handled = 0
        self._chains: dict[str, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.alerts: list[Alert] = []  # recent alerts, newest last (bounded)

    def post(self, event: ev.Event) -> None:
        """Called by the adapters; never blocks."""
        self._events.put_nowait(event)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        wake: asyncio.TimerHandle | None = None
        while True:
            # One timer handle for the core's next due time: it posts None, which makes the
            # core fire its due timers. (Cheaper than a wait_for task per event.)
            due = self.acd.next_due()
            if wake is not None:
                wake.cancel()
            wake = None if due is None else loop.call_later(
                max(0.0, due - self._clock()), self._events.put_nowait, None)
            self._apply(self._safely(await self._events.get()))

    def flush(self) -> None:
        """Apply the events already posted, after the loop has stopped (on shutdown)."""
        while not self._events.empty():
            self._apply(self._safely(self._events.get_nowait()))

    def apply_now(self, change: Callable[[Acd, float], list[Output]]) -> list[Output]:
        """Run a change on the core between two events (a config reload) and carry out
        what it says; the loop is woken to re-read the core's next timer."""
        outputs = change(self.acd, self._clock())
        self._apply(outputs)
        self._events.put_nowait(None)
        return outputs

    def _safely(self, event: ev.Event | None) -> list[Output]:
        now = self._clock()
        if event is not None:
            self.events_handled += 1
        try:
            return self.acd.handle(event, now) if event else self.acd.advance(now)
        except Exception:
            log.exception("core failed", acd_event=repr(event))
            call_id = getattr(event, "call_id", None)
            if isinstance(event, ev.CallArrived | ev.CallAdopted | ev.PromptFinished) and call_id:
                return [cmd.Fallback(call_id, "internal error")]
            return []

    def _apply(self, outputs: list[Output]) -> None:
        for out in outputs:
            if isinstance(out, Alert):
                log.warning(out.message, alert=out.kind, call_id=out.call_id,
                            centre_id=out.centre_id)
                self.alerts.append(out)
                del self.alerts[:-100]
                if self._on_alert is not None:
                    self._on_alert(out)
            elif isinstance(out, rec.Record):
                try:
                    self._records.submit(out)
                except Exception:  # a record problem must never hold up a caller's commands
                    log.exception("record not taken", record=repr(out))
                if isinstance(out, rec.TierHop):
                    self._keep_call_facts(out)
            else:
                self._execute(out)

    def _keep_call_facts(self, hop: rec.TierHop) -> None:
        try:
            self._telephony.keep_call_facts(hop)
        except Exception:  # only a note for a restart: never worth a caller's commands
            log.exception("call facts not kept", call_id=hop.call_id)

    def _execute(self, command: cmd.Command) -> None:
        # A ring and its stop are ordered by offer; everything else by call.
        if isinstance(command, cmd.RingAgent | cmd.StopRinging):
            key = command.offer_id
        else:
            key = getattr(command, "call_id", None) or ""
        task = asyncio.create_task(self._run_after(self._chains.get(key), command))
        self._chains[key] = task
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._finished(key, done))

    async def _run_after(self, previous: asyncio.Task[None] | None,
                         command: cmd.Command) -> None:
        if previous is not None and not previous.done():
            await asyncio.wait([previous])  # order within a call; its failure is logged there
        # Every log line of the adapter while it carries out the command names the call.
        structlog.contextvars.bind_contextvars(call_id=getattr(command, "call_id", None))
        try:
            await self._telephony.execute(command)
        except Exception:
            log.exception("command failed", command=repr(command))

    def _finished(self, key: str, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if self._chains.get(key) is task:
            del self._chains[key]

    async def drain(self) -> None:
        """Wait for every command in flight (on shutdown)."""
        while self._tasks:
            await asyncio.wait(list(self._tasks))
