"""Does the national fallback queue have anyone to ring?

When acd117 is down, `Stasis()` fails and the dialplan puts 117 callers into Asterisk's
`national-fallback` queue (asterisk/extensions.conf, queues.conf). The queue takes callers
even when it has no member (`joinempty = yes`: a 117 call is never refused), so with no
`member =>` line in `acd117-site/queue-national-fallback.conf` a caller hears hold music
forever and nobody notices until acd117 fails. So acd117 asks Asterisk, over its AMI
session, after every resync (login, FullyBooted) and every `every_s` seconds:

    Action: QueueStatus            Response: Success, EventList: start
    Queue: national-fallback       Event: QueueParams   (Queue: national-fallback, ...)
                                   Event: QueueMember   (Location: PJSIP/nas-01, Status: 1)
                                   Event: QueueStatusComplete (ListItems: 2)

(apps/app_queue.c `manager_queues_status`). A queue Asterisk does not know has no
QueueParams, only the Complete event. QueueStatus is registered with no privilege
(`ast_manager_register_xml("QueueStatus", 0, ...)`) and answers with events written to
the asking session only, so acd117's AMI user needs no extra `read`/`write` class.

No member (or no such queue): an ERROR in the log at every check, and the readiness check
`fallback_queue` is false (so /ready answers 503). Members whose devices are all
unavailable only give a WARNING: the queue is set up, its phones are simply not there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from panoramisk.message import Message

log = logging.getLogger(__name__)

FALLBACK_QUEUE = "national-fallback"  # asterisk/queues.conf, extensions.conf
SITE_FILE = "/etc/asterisk/acd117-site/queue-national-fallback.conf"

# QueueMember `Status` is the member's device state (include/asterisk/devicestate.h
# enum ast_device_state): 4 AST_DEVICE_INVALID, 5 AST_DEVICE_UNAVAILABLE; app_queue's
# QueueSummary does not count such members as logged in either.
UNREACHABLE_STATUS = frozenset({"4", "5"})

Request = Callable[[Mapping[str, str]], Awaitable[Sequence[Message]]]


@dataclass(frozen=True, slots=True)
class QueueMembers:
    exists: bool  # Asterisk has the queue (QueueParams came)
    members: tuple[str, ...]  # their interfaces (`Location`), e.g. PJSIP/nas-01
    reachable: int  # members whose device is not unavailable or invalid


def read_queue_status(queue: str, answer: Sequence[Message]) -> QueueMembers | None:
    """The members of `queue` in a QueueStatus answer; None when the action failed (e.g.
    `Invalid/unknown command`: app_queue is not loaded)."""
    if not answer or answer[0].get("Response") != "Success":
        return None
    exists = False
    members: list[str] = []
    reachable = 0
    for msg in answer:
        if str(msg.get("Queue", "")).lower() != queue.lower():
            continue
        event = msg.get("Event")
        if event == "QueueParams":
            exists = True
        elif event == "QueueMember":
            members.append(str(msg.get("Location") or msg.get("Name") or "?"))
            if str(msg.get("Status", "")) not in UNREACHABLE_STATUS:
                reachable += 1
    return QueueMembers(exists=exists or bool(members), members=tuple(members),
                        reachable=reachable)


class FallbackQueueCheck:
    """Asks for the fallback queue's members now and then; `ok` and `detail` for /ready.

    `request` sends one AMI action and returns its whole answer (`AmiAdapter.request`).
    """

    def __init__(self, request: Request, *, queue: str = FALLBACK_QUEUE,
                 every_s: float = 60.0, timeout_s: float = 5.0) -> None:
        self.request = request
        self.queue = queue
        self.every_s = every_s
        self.timeout_s = timeout_s
        self.state: QueueMembers | None = None  # None: not known yet
        self.checks = 0
        self._wake = asyncio.Event()

    @property
    def ok(self) -> bool:
        return self.state is not None and bool(self.state.members)

    @property
    def detail(self) -> str:
        s = self.state
        if s is None:
            return f"members of {self.queue} not known yet"
        if not s.exists:
            return f"Asterisk has no queue {self.queue}"
        if not s.members:
            return f"no member in {self.queue}"
        return f"{len(s.members)} member(s) in {self.queue}, {s.reachable} reachable"

    def wake(self) -> None:
        """Check at once (the AMI adapter calls it after every resync)."""
        self._wake.set()

    async def run(self, logged_in: asyncio.Event) -> None:
        """Check after every wake-up and every `every_s`, while AMI is logged in."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.every_s)
            self._wake.clear()
            if logged_in.is_set():
                await self.check()

    async def check(self) -> None:
        """One QueueStatus. An action without an answer changes nothing (AMI is down or
        slow: its own check says so); a failed one means there is no such queue."""
        self.checks += 1
        try:
            answer = await asyncio.wait_for(
                self.request({"Action": "QueueStatus", "Queue": self.queue}), self.timeout_s)
        except (TimeoutError, ConnectionError) as exc:
            log.warning("QueueStatus %s: no answer (%s)", self.queue,
                        str(exc) or type(exc).__name__)
            return
        state = read_queue_status(self.queue, answer)
        if state is None:
            log.error("QueueStatus %s failed (%s): is app_queue loaded?", self.queue,
                      answer[0].get("Message", "") if answer else "empty answer")
            state = QueueMembers(exists=False, members=(), reachable=0)
        self._report(state)

    def _report(self, state: QueueMembers) -> None:
        before, self.state = self.state, state
        if not state.members:
            why = (f"Asterisk has no queue {self.queue}" if not state.exists
                   else f"the queue {self.queue} has no member")
            log.error("%s: while acd117 is down, 117 callers wait on hold music with nobody "
                      "to answer them. Add `member => PJSIP/<phone>` lines to %s, then "
                      "`asterisk -rx 'queue reload all'`", why, SITE_FILE)
            return
        if state.reachable == 0:
            log.warning("no member of %s is reachable (%s): while acd117 is down, 117 "
                        "callers wait with nobody to answer them", self.queue,
                        ", ".join(state.members))
        elif before is not None and not before.members:
            log.info("%s has %d member(s) again", self.queue, len(state.members))
