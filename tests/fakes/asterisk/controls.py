"""What a test does to the peer: phones register and die, calls arrive and hang up,
Asterisk restarts, requests fail."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

from tests.fakes.asterisk.base import PeerBase
from tests.fakes.asterisk.objects import (
    AnswerMode,
    DialplanExit,
    Failure,
    RecordedRequest,
    SimChannel,
    SimEndpoint,
)


class Controls(PeerBase):
    # --- test controls: calls ------------------------------------------------------------

    def register(
        self, device: str, *, answer: AnswerMode = "auto", answer_delay: float = 0.0
    ) -> SimEndpoint:
        """A phone registers (PeerStatus Reachable, DeviceStateChange NOT_INUSE,
        ContactStatus NonQualified on AMI [01])."""
        ep = self.endpoints.get(device) or SimEndpoint(device)
        ep.registered = True
        ep.reachable = True
        ep.answer = answer
        ep.answer_delay = answer_delay
        resource = device.split("/", 1)[1]
        ep.contact = f"sip:{resource}-0x{next(self._uid):x}@127.0.0.1:5071"
        self.endpoints[device] = ep
        if device.startswith("PJSIP/"):
            self._ami_event("PeerStatus", ChannelType="PJSIP", Peer=device,
                            PeerStatus="Reachable")
            self._ami_device(device, "NOT_INUSE")
            self._ami_event("ContactStatus", URI=ep.contact, ContactStatus="NonQualified",
                            AOR=resource, EndpointName=resource, RoundtripUsec="0")
        return ep

    def unregister(self, device: str) -> None:
        """The phone un-registers (SIGTERM: REGISTER Expires 0) [01]."""
        ep = self.endpoints.get(device)
        if ep is None:
            return
        ep.registered = False
        resource = device.split("/", 1)[1]
        self._ami_event("PeerStatus", ChannelType="PJSIP", Peer=device, PeerStatus="Unreachable")
        self._ami_device(device, "UNAVAILABLE")
        self._ami_event("ContactStatus", URI=ep.contact, ContactStatus="Removed", AOR=resource,
                        EndpointName=resource, RoundtripUsec="0")

    def phone_dies(self, device: str) -> None:
        """The phone died without un-registering and qualify noticed [01]."""
        ep = self.endpoints.get(device)
        if ep is None:
            return
        ep.reachable = False
        resource = device.split("/", 1)[1]
        self._ami_event("PeerStatus", ChannelType="PJSIP", Peer=device, PeerStatus="Unreachable")
        self._ami_event("ContactStatus", URI=ep.contact, ContactStatus="Unreachable",
                        AOR=resource, EndpointName=resource, RoundtripUsec="0")
        self._ami_device(device, "UNAVAILABLE")

    async def incoming_call(
        self,
        caller: str = "+6281234567890",
        *,
        trunk: str = "trunk-telkomsel",
        did: str = "117",
        headers: Iterable[tuple[str, str]] = (),
        caller_name: str = "Budi Santoso",
        channel_id: str | None = None,
        invite_headers: Iterable[tuple[str, str]] = (),
    ) -> str | None:
        """A call from a carrier trunk reaches `Stasis(acd117,inbound,...)`.

        `headers` are those the dialplan passes as Stasis arguments; `invite_headers` are
        the SIP headers of the trunk's INVITE, read with `PJSIP_HEADER(read,<name>)`.

        Returns the channel id, or None when Stasis() failed because no websocket is
        connected: the dialplan then continues to the fallback [07, 13].
        """
        cid = channel_id or self._new_id()
        args = ["inbound", caller, trunk, did, *(f"{k}={quote(v, safe='')}" for k, v in headers)]
        ch = SimChannel(
            id=cid,
            name=self._name(f"PJSIP/{trunk}"),
            state="Up",  # the dialplan answered before Stasis() [02, 14]
            caller_name=caller_name,
            caller_number=caller,
            context="acd117-intake",
            exten=did,
            priority=3,
            app_name="Stasis",
            app_data=",".join([self.app, *args]),
            kind="caller",
            from_dialplan=True,
            args=args,
            sip_caller=True,
            invite_headers=tuple(invite_headers),
        )
        if not self.app_active():
            # "Stasis app 'acd117' not active": STASISSTATUS=FAILED, next priority.
            self.dialplan_exits.append(
                DialplanExit(cid, "acd117-fallback", "s", 1, "STASISSTATUS=FAILED")
            )
            return None
        ch.in_stasis = True
        ch.subscribed = True
        self.channels[cid] = ch
        self._chan_event("StasisStart", ch, args=args)
        await asyncio.sleep(0)
        return cid

    async def feature_call(self, device: str, code: str, *args: str) -> str | None:
        """An agent dials a feature code: `Stasis(acd117,feature,<code>[,<arg>])`."""
        cid = self._new_id()
        stasis_args = ["feature", code, *args]
        ch = SimChannel(
            id=cid,
            name=self._name(device),
            state="Up",
            caller_number=device.split("/", 1)[1],
            context="acd117-agents",
            exten=code,
            priority=2,
            app_name="Stasis",
            app_data=",".join([self.app, *stasis_args]),
            kind="feature",
            from_dialplan=True,
            args=stasis_args,
        )
        if not self.app_active():
            self.dialplan_exits.append(DialplanExit(cid, "acd117-agents", code, 3,
                                                    "STASISSTATUS=FAILED"))
            return None
        ch.in_stasis = True
        ch.subscribed = True
        self.channels[cid] = ch
        self._chan_event("StasisStart", ch, args=stasis_args)
        await asyncio.sleep(0)
        return cid

    async def send_dtmf(self, channel_id: str, digits: str, gap_s: float = 0.005) -> None:
        """Digits from the phone: one ChannelDtmfReceived per digit, at its end [06]."""
        for digit in digits:
            ch = self.channels.get(channel_id)
            if ch is None or ch.gone:
                return
            self._chan_event("ChannelDtmfReceived", ch, digit=digit, duration_ms=100)
            await asyncio.sleep(gap_s)

    async def phone_transfers(self, channel_id: str, destination: str) -> None:
        """The agent presses Transfer and dials `destination` (a blind SIP REFER on a leg
        with PJSIP_TRANSFER_HANDLING=ari-only): a ChannelTransfer without a state."""
        ch = self.channels[channel_id]
        refer_to = self.refers[channel_id] = {
            "requested_destination": {"destination": destination}}
        self._event("ChannelTransfer", refer_to=refer_to,
                    referred_by={"source_channel": ch.snapshot()})
        await asyncio.sleep(0)

    async def phone_dials(self, device: str, number: str, call_id: str) -> str | None:
        """The agent's phone makes a second call (the first on hold): the agents' dialplan
        sets PJSIP_TRANSFER_HANDLING()=ari-only and sends any number to
        `Stasis(acd117,consult,<number>)`, not answered (state Ring). `call_id` is its SIP
        Call-ID (the channel's protocol_id)."""
        cid = self._new_id()
        stasis_args = ["consult", number]
        ch = SimChannel(
            id=cid, name=self._name(device), state="Ring",
            caller_number=device.split("/", 1)[1], context="acd117-agents", exten=number,
            priority=2, app_name="Stasis", app_data=",".join([self.app, *stasis_args]),
            kind="feature", from_dialplan=True, args=stasis_args, protocol_id=call_id,
        )
        if not self.app_active():
            return None
        ch.in_stasis = ch.subscribed = True
        self.channels[cid] = ch
        self._chan_event("StasisStart", ch, args=stasis_args)
        await asyncio.sleep(0)
        return cid

    async def phone_transfers_attended(
        self, channel_id: str, replaces: str | None, *, call_id: str = "",
        destination: str = "",
    ) -> None:
        """The phone joins its two calls: a REFER on `channel_id` whose Refer-To carries
        Replaces naming the dialog of the channel `replaces` (or, with None, a dialog that
        is not this Asterisk's, by `call_id`). The ChannelTransfer as main/refer.c
        ast_refer_notify_transfer_request and main/stasis_channels.c ari_transfer_to_json
        build it: `requested_destination` with the Refer-To's user part, the Call-ID to
        replace (`protocol_id`) and the Replaces tags; `destination_channel` (the named
        dialog's channel, only when it is Asterisk's), with its `bridge` and, in a
        two-party bridge, its peer (`connected_channel`); `referred_by` the same for the
        channel the REFER came on. No `state` (AST_TRANSFER_INVALID)."""
        ch = self.channels[channel_id]
        target = self.channels[replaces] if replaces is not None else None
        requested: dict[str, Any] = {
            "destination": destination,
            "protocol_id": target.protocol_id if target is not None else call_id,
            "additional_protocol_params": [
                {"parameter_name": "from", "parameter_value": "3af1c2"},
                {"parameter_name": "to", "parameter_value": "as7d0e4c1b"}]}
        refer_to: dict[str, Any] = {"requested_destination": requested}
        if target is not None:
            refer_to["destination_channel"] = target.snapshot()
            refer_to.update(self._bridge_side(target))
        self.refers[channel_id] = refer_to
        self._event("ChannelTransfer", refer_to=refer_to,
                    referred_by={"source_channel": ch.snapshot(), **self._bridge_side(ch)})
        await asyncio.sleep(0)

    def _bridge_side(self, ch: SimChannel) -> dict[str, Any]:
        """`bridge` and (two-party bridge only: ast_bridge_peer_nolock) `connected_channel`
        of a channel in a ChannelTransfer."""
        bridge = self.bridges.get(ch.bridge or "")
        if bridge is None:
            return {}
        side: dict[str, Any] = {"bridge": bridge.snapshot()}
        others = [c for c in bridge.channels if c != ch.id]
        if len(others) == 1:
            side["connected_channel"] = self.channels[others[0]].snapshot()
        return side

    async def caller_hangs_up(self, channel_id: str) -> None:
        """The caller's side hangs up: ChannelHangupRequest (no cause for a SIP BYE [14],
        16 for a Local far side [05]), PlaybackFinished failed, ChannelLeftBridge,
        StasisEnd - and no ChannelDestroyed [02, 05, 14]."""
        ch = self.channels.get(channel_id)
        if ch is None or ch.gone:
            return
        if ch.sip_caller:
            self._chan_event("ChannelHangupRequest", ch)
        else:
            self._chan_event("ChannelHangupRequest", ch, cause=16)
        self._teardown(ch, 16)
        await asyncio.sleep(0)

    async def agent_hangs_up(self, channel_id: str) -> None:
        """The agent's phone sends BYE on a connected call."""
        ch = self.channels.get(channel_id)
        if ch is None or ch.gone:
            return
        self._chan_event("ChannelHangupRequest", ch, cause=16)
        self._teardown(ch, 16)
        await asyncio.sleep(0)

    async def hold(self, channel_id: str, on: bool = True) -> None:
        ch = self._channel(channel_id)
        if on:
            self._chan_event("ChannelHold", ch, musicclass="default")
        else:
            self._chan_event("ChannelUnhold", ch)
        await asyncio.sleep(0)

    # --- test controls: failures --------------------------------------------------------

    async def restart(self) -> None:
        """`core restart now` [11]: channels hung up (cause 4, soft), AMI Shutdown, the
        websocket closes without a close frame, then refused -> 404 -> 503 -> up; the
        app and its channels are gone, registrations survive."""
        for ch in list(self.channels.values()):
            if ch.gone:
                continue
            self._chan_event("ChannelHangupRequest", ch, cause=4, soft=True)
            self._teardown(ch, 16, ami_cause=0 if ch.kind == "caller" else 16)
        self.phase = "stopping"
        for sock in list(self._sockets):
            await sock.flush()
        await asyncio.sleep(self.restart_phase_s)
        self._ami_event("Shutdown", Shutdown="Cleanly", Restart="True")
        for session in list(self._ami_sessions):
            session.close()
        await self.drop_websocket()
        self.phase = "down"
        assert self._site is not None and self._ami_server is not None
        await self._site.stop()
        self._ami_server.close()
        await asyncio.sleep(self.restart_phase_s)
        self.channels.clear()
        self.bridges.clear()
        self.playbacks.clear()
        self.live_recordings.clear()
        self.app_registered = False
        self._seq = itertools.count(0)
        self.booted_at = time.time()
        await self._start_ami()
        self.phase = "booting-404"
        await self._start_ari_site()
        await asyncio.sleep(self.restart_phase_s)
        self.phase = "booting-503"
        await asyncio.sleep(self.restart_phase_s)
        self.phase = "up"
        for session in list(self._ami_sessions):
            session.fully_booted()

    def drop_ami(self) -> None:
        """Close every AMI session from Asterisk's side (the client reconnects)."""
        for session in list(self._ami_sessions):
            session.close()

    def fail_requests(
        self, method: str, path_end: str, status: int = 503, message: str = "Service "
        "Unavailable", times: int = 1
    ) -> None:
        """The next `times` documented requests `method .../path_end` get `status`."""
        self._failures.append(Failure(method, path_end, status, message, times))

    def stall_requests(self, method: str, path_end: str, seconds: float) -> None:
        """Requests `method .../path_end` are answered only `seconds` later, as Asterisk
        answers a channel operation only once the playback holding the channel ends."""
        self._stalls.append((method, path_end, seconds))

    # --- waiting -------------------------------------------------------------------------

    async def wait_for(
        self, predicate: Callable[[], object], timeout: float = 2.0, what: str = "condition"
    ) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.002)

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method and r.path == path]

