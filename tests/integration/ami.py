"""The tests' own AMI session: what Asterisk itself reports, independent of acd117.

A plain asyncio client (no panoramisk, so that a bug shared with acd117's adapter cannot
hide): it logs in as the test-only AMI user (`read = all`, `write = originate,...`),
keeps every event with its arrival time, and sends actions.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

Message = dict[str, str]


@dataclass
class Ami:
    host: str
    port: int
    user: str
    secret: str
    events: list[Message] = field(default_factory=list)
    _reader: asyncio.StreamReader | None = None
    _writer: asyncio.StreamWriter | None = None
    _task: asyncio.Task[None] | None = None
    _pending: dict[str, tuple[asyncio.Future[list[Message]], list[Message]]] = field(
        default_factory=dict)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def connect(self, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while True:
                try:
                    self._reader, self._writer = await asyncio.open_connection(
                        self.host, self.port)
                    break
                except OSError:
                    await asyncio.sleep(0.1)
        await self._reader.readline()  # "Asterisk Call Manager/11.0.0"
        self._task = asyncio.create_task(self._read(), name="test-ami")
        answer = await self.action("Login", Username=self.user, Secret=self.secret,
                                   Events="on")
        if answer[0].get("Response") != "Success":
            raise RuntimeError(f"AMI login refused: {answer[0]}")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._writer is not None:
            self._writer.close()

    async def _read(self) -> None:
        assert self._reader is not None
        while True:
            msg: Message = {}
            while True:
                line = await self._reader.readline()
                if not line:
                    return
                text = line.decode(errors="replace").rstrip("\r\n")
                if not text:
                    break
                key, _, value = text.partition(":")
                msg.setdefault(key.strip(), value.strip())
            if not msg:
                continue
            msg["_t"] = f"{time.time():.6f}"
            pending = self._pending.get(msg.get("ActionID", ""))
            if pending is not None:
                fut, got = pending
                got.append(msg)
                listing = got[0].get("EventList") == "start" or "Response" not in got[0]
                if (not listing or msg.get("EventList") == "Complete"
                        or got[0].get("Response") == "Error"):
                    self._pending.pop(msg["ActionID"], None)
                    if not fut.done():
                        fut.set_result(got)
                continue
            if "Event" in msg:
                async with self._changed:
                    self.events.append(msg)
                    self._changed.notify_all()

    async def action(self, name: str, timeout: float = 10.0, **fields: str) -> list[Message]:
        """Send an action; its response (and, for a list, every event up to Complete)."""
        assert self._writer is not None
        action_id = f"t{next(self._ids)}"
        fut: asyncio.Future[list[Message]] = asyncio.get_running_loop().create_future()
        self._pending[action_id] = (fut, [])
        lines = [f"Action: {name}", f"ActionID: {action_id}"]
        for key, value in fields.items():
            if key == "Variable":
                lines.extend(f"Variable: {v}" for v in value.split("\n"))
            else:
                lines.append(f"{key}: {value}")
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await self._writer.drain()
        async with asyncio.timeout(timeout):
            return await fut

    def mark(self) -> int:
        return len(self.events)

    async def wait(self, where: Callable[[Message], bool], *, after: int = 0,
                   timeout: float = 10.0, what: str = "") -> Message:
        try:
            async with asyncio.timeout(timeout), self._changed:
                while True:
                    for ev in self.events[after:]:
                        if where(ev):
                            return ev
                    await self._changed.wait()
        except TimeoutError:
            raise AssertionError(f"Asterisk never reported {what or 'the event'} "
                                 f"within {timeout} s") from None

    async def wait_event(self, name: str, *, after: int = 0, timeout: float = 10.0,
                         **match: str) -> Message:
        """`Channel="PJSIP/1001*"`: a value ending in `*` matches as a prefix."""

        def matches(value: str, want: str) -> bool:
            return value.startswith(want[:-1]) if want.endswith("*") else value == want

        def where(e: Message) -> bool:
            return e.get("Event") == name and all(
                matches(e.get(k, ""), v) for k, v in match.items())

        return await self.wait(where, after=after, timeout=timeout,
                               what=f"{name} {match or ''}")

    # --- what the tests ask of Asterisk --------------------------------------------------

    async def originate_caller(self, *, number: str, caller_id: str, channel_id: str,
                               context: str = "acd117-from-trunk",
                               caller_context: str = "test-caller",
                               variables: dict[str, str] | None = None) -> None:
        """A PSTN caller: `Local/<number>@<context>`. The ;2 half runs the 117 dialplan
        and is the channel acd117 sees (id `channel_id`); the ;1 half is the caller's own
        side (`caller_context`, id `c-<channel_id>`: Asterisk refuses a unique id that
        starts with another one). Hanging up the ;1 half is the caller hanging up."""
        fields = {"Channel": f"Local/{number}@{context}", "Context": caller_context,
                  "Exten": "s", "Priority": "1", "CallerID": caller_id,
                  "ChannelId": f"c-{channel_id}", "OtherChannelId": channel_id,
                  "Async": "true", "Timeout": "30000"}
        if variables:
            fields["Variable"] = "\n".join(f"{k}={v}" for k, v in variables.items())
        answer = await self.action("Originate", **fields)
        if answer[0].get("Response") != "Success":
            raise RuntimeError(f"Originate refused: {answer[0]}")

    async def originate_sip_caller(self, *, number: str, caller_id: str, channel_id: str,
                                   headers: dict[str, str]) -> None:
        """A caller from the carrier's SIP trunk with SIP headers: Asterisk sends the
        INVITE to itself through `carrier-out` (the test site's trunks); the caller's own
        side is `channel_id`, the 117 call arrives on a PJSIP/trunk-telkomsel channel."""
        sets = [f"PJSIP_HEADER(add,{k})={v}" for k, v in headers.items()]
        answer = await self.action(
            "Originate", Channel=f"PJSIP/{number}@carrier-out", Context="test-caller",
            Exten="s", Priority="1", CallerID=caller_id, ChannelId=channel_id, Async="true",
            Timeout="30000", Variable="\n".join(sets))
        if answer[0].get("Response") != "Success":
            raise RuntimeError(f"Originate refused: {answer[0]}")

    async def channel_name(self, uniqueid: str, timeout: float = 10.0) -> str:
        ev = await self.wait_event("Newchannel", Uniqueid=uniqueid, timeout=timeout)
        return ev["Channel"]

    async def hangup(self, channel: str) -> None:
        answer = await self.action("Hangup", Channel=channel)
        assert answer[0].get("Response") == "Success", answer

    async def hang_up_caller(self, call_id: str) -> None:
        """The caller hangs up: their own half of the Local channel goes."""
        await self.hangup(await self.channel_name(f"c-{call_id}"))

    async def gone(self, uniqueid: str, *, after: int = 0, timeout: float = 10.0) -> Message:
        return await self.wait_event("Hangup", Uniqueid=uniqueid, after=after,
                                     timeout=timeout)

    async def bridged_with(self, uniqueid: str, channel_prefix: str, *, after: int = 0,
                           timeout: float = 10.0) -> Message:
        """Wait until `uniqueid` and a channel named `channel_prefix...` are in one
        bridge (Asterisk's BridgeEnter events); the later BridgeEnter."""
        def together(_e: Message) -> bool:
            return self.together(uniqueid, channel_prefix, after) is not None

        await self.wait(together, after=after, timeout=timeout,
                        what=f"{uniqueid} bridged with {channel_prefix}")
        found = self.together(uniqueid, channel_prefix, after)
        assert found is not None
        return found

    async def rejoined(self, uniqueid: str, channel_prefix: str, *, after: int,
                       timeout: float = 10.0) -> None:
        """Wait until, after event `after`, `uniqueid` is in one bridge with a channel named
        `channel_prefix...` again, counting who entered and left since the start (one of
        them may have been there all along: a caller back from hold, a third party)."""
        await self.wait(lambda _e: self.together(uniqueid, channel_prefix, 0) is not None,
                        after=after, timeout=timeout,
                        what=f"{uniqueid} together with {channel_prefix} again")

    def together(self, uniqueid: str, prefix: str, after: int) -> Message | None:
        members: dict[str, dict[str, Message]] = {}
        for e in self.events[after:]:
            b = e.get("BridgeUniqueid")
            if not b:
                continue
            if e.get("Event") == "BridgeEnter":
                members.setdefault(b, {})[e.get("Uniqueid", "")] = e
            elif e.get("Event") == "BridgeLeave":
                members.get(b, {}).pop(e.get("Uniqueid", ""), None)
        for chans in members.values():
            if uniqueid in chans:
                for uid, e in chans.items():
                    if uid != uniqueid and e.get("Channel", "").startswith(prefix):
                        return max(e, chans[uniqueid], key=lambda m: float(m["_t"]))
        return None
