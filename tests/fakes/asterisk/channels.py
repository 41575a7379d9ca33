"""The /channels resource: originate, answer, hang up, play, variables, snoops."""

from __future__ import annotations

import asyncio
import time

from tests.fakes.asterisk.base import PeerBase
from tests.fakes.asterisk.objects import (
    CAUSE_FOR_REASON,
    CAUSE_TEXT,
    B,
    DialplanExit,
    HttpError,
    P,
    R,
    SimChannel,
    SimEndpoint,
    SimPlayback,
    parse_caller_id,
)


class ChannelResources(PeerBase):
    # --- channels ----------------------------------------------------------------------

    def _channel(self, channel_id: str) -> SimChannel:
        ch = self.channels.get(channel_id)
        if ch is None or ch.gone:
            raise HttpError(404, {"message": "Channel not found"})
        return ch

    def _stasis_channel(self, channel_id: str) -> SimChannel:
        ch = self._channel(channel_id)
        if not ch.in_stasis:
            raise HttpError(409, {"message": "Channel not in Stasis application"})
        return ch

    def _list_channels(self, p: P, q: P, b: B) -> R:
        return 200, [c.snapshot() for c in self.channels.values() if not c.gone]

    def _get_channel(self, p: P, q: P, b: B) -> R:
        return 200, self._channel(p["id"]).snapshot()

    def _new_id(self) -> str:
        return f"{int(self.booted_at)}.{next(self._uid)}"

    def _name(self, base: str) -> str:
        return f"{base}-{next(self._seq):08x}"

    def endpoint(self, device: str) -> SimEndpoint | None:
        ep = self.endpoints.get(device)
        if ep is None and device.startswith("Local/"):
            ep = self.endpoints[device] = SimEndpoint(device)
        return ep

    def _originate(self, p: P, q: P, b: B) -> R:
        args = {**{k: str(v) for k, v in b.items() if k != "variables"}, **q}
        device = args["endpoint"]
        ep = self.endpoint(device)
        if ep is None or not ep.registered or not ep.reachable:
            # Not registered, Unreachable, unknown endpoint or technology [04].
            return 500, {"error": "Allocation failed"}
        channel_id = args.get("channelId") or self._new_id()
        if channel_id in self.channels and not self.channels[channel_id].gone:
            return 409, {"message": "Channel with given unique ID already exists"}
        caller_name, caller_number = parse_caller_id(args.get("callerId", ""))
        app_args = args.get("appArgs", "")
        ch = SimChannel(
            id=channel_id,
            name=self._name(device),
            state="Down",
            caller_name=caller_name,
            caller_number=caller_number,
            context="agents",
            exten="s",
            app_name="AppDial2",
            app_data="(Outgoing Line)",
            kind="agent",
            subscribed=args.get("app") == self.app,
            args=app_args.split(",") if app_args else [],
            variables={k: str(v) for k, v in (b.get("variables") or {}).items()},
            endpoint=ep,
            # The SIP Call-ID of a PJSIP channel's dialog (what a REFER's Replaces names).
            protocol_id=f"{channel_id}@127.0.0.1" if device.startswith("PJSIP/") else "",
        )
        self.channels[ch.id] = ch
        parts = ch.args
        if len(parts) >= 2 and parts[0] == "agent":
            self.originate_at.setdefault(parts[1], time.perf_counter())
        timeout = int(args.get("timeout", "30"))
        asyncio.get_running_loop().call_soon(self._dial, ch, timeout)
        return 200, ch.snapshot()

    def _dial(self, ch: SimChannel, timeout: int) -> None:
        if ch.gone:
            return
        ep = ch.endpoint
        assert ep is not None
        self._event("Dial", dialstatus="", forward="", dialstring=ep.device.split("/", 1)[1],
                    peer=ch.snapshot())
        if timeout > 0:
            # Nobody answers: only ChannelDestroyed 19, no hangup request, no Dial [03, 04].
            ch.timer = self._later(timeout, lambda: self._destroy(ch, 19))
        if ep.answer == "dead":
            return  # INVITE unanswered: stays Down until the timeout [04 F]
        ch.state = "Ringing"
        self._chan_event("ChannelStateChange", ch)
        self._event("Dial", dialstatus="RINGING", forward="",
                    dialstring=ep.device.split("/", 1)[1], peer=ch.snapshot())
        self._ami_device(ep.device, "RINGING")
        if ep.answer == "auto":
            self._later(ep.answer_delay, lambda: self.answer_now(ch.id))
        elif ep.answer == "reject":
            self._later(ep.answer_delay, lambda: self.reject_now(ch.id))

    def _create_channel(self, p: P, q: P, b: B) -> R:
        ep = self.endpoint(q["endpoint"])
        if ep is None or not ep.registered or not ep.reachable:
            return 500, {"error": "Allocation failed"}
        channel_id = q.get("channelId") or self._new_id()
        ch = SimChannel(id=channel_id, name=self._name(q["endpoint"]), state="Down",
                        kind="created", subscribed=True, in_stasis=True,
                        args=q.get("appArgs", "").split(",") if q.get("appArgs") else [],
                        app_name="Stasis", app_data=",".join([self.app, q.get("appArgs", "")]),
                        variables={k: str(v) for k, v in (b.get("variables") or {}).items()},
                        endpoint=ep)
        self.channels[ch.id] = ch
        # Created channels are in Stasis at once, before being dialled [10].
        self._chan_event("StasisStart", ch, args=ch.args)
        return 200, ch.snapshot()

    def _dial_created(self, p: P, q: P, b: B) -> R:
        """Dial a channel made with /channels/create: it is already in Stasis [10]."""
        ch = self._stasis_channel(p["id"])
        if ch.kind != "created" or ch.state != "Down" or ch.endpoint is None:
            return 409, {"message": "Channel cannot be dialed"}
        ep = ch.endpoint
        ch.state = "Ringing"
        self._chan_event("ChannelStateChange", ch)
        self._event("Dial", dialstatus="RINGING", forward="", peer=ch.snapshot())
        if ep.answer == "auto":
            ch.state = "Up"
            ch.answered = True
            self._chan_event("ChannelStateChange", ch)
            self._event("Dial", dialstatus="ANSWER", forward="", peer=ch.snapshot())
        return 204, None

    def answer_now(self, channel_id: str) -> None:
        """The agent's phone answers (auto-answer, or `answer()` for manual phones)."""
        ch = self.channels.get(channel_id)
        if ch is None or ch.gone or ch.answered or ch.kind != "agent":
            return
        self._cancel(ch.timer)
        ch.answered = True
        ch.state = "Up"
        ep = ch.endpoint
        assert ep is not None
        dialstring = ep.device.split("/", 1)[1]
        # Order on answer [02]: ChannelStateChange Up, Dial ANSWER, ChannelVarset
        # STASISSTATUS, StasisStart (args from appArgs).
        self._chan_event("ChannelStateChange", ch)
        self._ami_device(ep.device, "INUSE")
        self._event("Dial", dialstatus="ANSWER", forward="", dialstring=dialstring,
                    peer=ch.snapshot())
        self._chan_event("ChannelVarset", ch, variable="STASISSTATUS", value="")
        ch.in_stasis = True
        ch.app_name = "Stasis"
        ch.app_data = ",".join([self.app, *ch.args])
        self._chan_event("StasisStart", ch, args=ch.args)

    def reject_now(self, channel_id: str) -> None:
        """The agent's phone rejects the call (SIP 486) [03 B]."""
        ch = self.channels.get(channel_id)
        if ch is None or ch.gone or ch.answered:
            return
        self._cancel(ch.timer)
        self._chan_event("ChannelHangupRequest", ch, cause=17, tech_cause=486)
        self._event("Dial", dialstatus="BUSY", forward="", peer=ch.snapshot())
        self._destroy(ch, 17)

    async def answer(self, channel_id: str) -> None:
        self.answer_now(channel_id)
        await asyncio.sleep(0)

    async def reject(self, channel_id: str) -> None:
        self.reject_now(channel_id)
        await asyncio.sleep(0)

    def _hangup(self, p: P, q: P, b: B) -> R:
        ch = self._channel(p["id"])
        cause = CAUSE_FOR_REASON.get(q.get("reason"), 16)
        # Whatever the reason, ChannelHangupRequest says 32 (soft); the real cause is in
        # ChannelDestroyed [03, 12].
        self._chan_event("ChannelHangupRequest", ch, cause=32, soft=True)
        if ch.kind == "agent" and not ch.answered:
            self._event("Dial", dialstatus="NOANSWER", forward="", peer=ch.snapshot())
        self._teardown(ch, cause)
        return 204, None

    def _teardown(self, ch: SimChannel, cause: int, ami_cause: int | None = None) -> None:
        """The channel hangs up: playbacks fail, it leaves its bridge and Stasis."""
        if ch.gone:
            return
        self._cancel(ch.timer)
        for pid in list(ch.playbacks):
            pb = self.playbacks.pop(pid, None)
            if pb is not None:
                self._cancel(pb.timer)
                pb.state = "failed"  # hang-up during a playback [05]
                self._event("PlaybackFinished", playback=pb.snapshot())
        ch.playbacks.clear()
        self._leave_bridge(ch)
        if ch.in_stasis:
            ch.in_stasis = False
            self._chan_event("StasisEnd", ch)
        for snoop in [c for c in self.channels.values() if c.spied == ch.id and not c.gone]:
            # A snoop ends by itself with its spied channel: no hangup request, no
            # ChannelDestroyed [09].
            self._leave_bridge(snoop)
            if snoop.in_stasis:
                snoop.in_stasis = False
                self._chan_event("StasisEnd", snoop)
            snoop.gone = True
        if ch.kind in ("agent", "created"):
            self._destroy(ch, cause)
        else:
            # Channels that entered Stasis from the dialplan: StasisEnd is the last
            # event [02, 05, 14].
            ch.gone = True
            self._ami_hangup(ch, cause if ami_cause is None else ami_cause)

    def _destroy(self, ch: SimChannel, cause: int) -> None:
        if ch.gone:
            return
        self._cancel(ch.timer)
        ch.gone = True
        self._chan_event(
            "ChannelDestroyed", ch, cause=cause, cause_txt=CAUSE_TEXT.get(cause, "Unknown")
        )
        if ch.endpoint is not None:
            self._ami_device(ch.endpoint.device, "NOT_INUSE")
        self._ami_hangup(ch, cause)

    def _answer_channel(self, p: P, q: P, b: B) -> R:
        ch = self._stasis_channel(p["id"])
        if ch.state != "Up":  # 204 also when already Up [02]
            ch.state = "Up"
            self._chan_event("ChannelStateChange", ch)
        return 204, None

    def _ring_channel(self, p: P, q: P, b: B) -> R:
        self._stasis_channel(p["id"])
        return 204, None

    def _continue(self, p: P, q: P, b: B) -> R:
        ch = self._stasis_channel(p["id"])
        self._leave_bridge(ch)
        ch.in_stasis = False
        self._chan_event("StasisEnd", ch)
        # After StasisEnd the app hears nothing more about it [08].
        ch.subscribed = False
        self.dialplan_exits.append(
            DialplanExit(
                ch.id,
                q.get("context", ch.context),
                q.get("extension", ch.exten),
                int(q.get("priority", ch.priority + 1)),
                "continue",
            )
        )
        return 204, None

    def _play(self, p: P, q: P, b: B) -> R:
        ch = self._stasis_channel(p["id"])
        pid = q.get("playbackId") or f"pb-{next(self._uid)}"
        pb = SimPlayback(pid, q["media"].split(","), ch.id)
        self.playbacks[pid] = pb
        ch.playbacks.append(pid)
        snap = pb.snapshot()
        if len(ch.playbacks) == 1:
            asyncio.get_running_loop().call_soon(self._playback_step, pb)
        return 201, snap

    def _playback_step(self, pb: SimPlayback) -> None:
        if pb.id not in self.playbacks:
            return
        if pb.state == "queued":
            pb.state = "playing"
        else:
            pb.state = "continuing"  # between the media of one playback [05]
            self._event("PlaybackContinuing", playback=pb.snapshot())
            pb.index += 1
            pb.state = "playing"
        self._event("PlaybackStarted", playback=pb.snapshot())
        if pb.index + 1 < len(pb.media):
            pb.timer = self._later(self.playback_s, lambda: self._playback_step(pb))
        else:
            pb.timer = self._later(self.playback_s, lambda: self._playback_done(pb, "done"))

    def _playback_done(self, pb: SimPlayback, state: str) -> None:
        if self.playbacks.pop(pb.id, None) is None:
            return
        self._cancel(pb.timer)
        pb.state = state
        self._event("PlaybackFinished", playback=pb.snapshot())
        ch = self.channels.get(pb.channel)
        if ch is not None and pb.id in ch.playbacks:
            ch.playbacks.remove(pb.id)
            if ch.playbacks:  # queued playbacks play in order
                nxt = self.playbacks.get(ch.playbacks[0])
                if nxt is not None:
                    self._playback_step(nxt)

    def _moh_on(self, p: P, q: P, b: B) -> R:
        self._stasis_channel(p["id"]).moh = True  # no ARI event [03, 05]
        return 204, None

    def _moh_off(self, p: P, q: P, b: B) -> R:
        self._stasis_channel(p["id"]).moh = False
        return 204, None

    def _dtmf(self, p: P, q: P, b: B) -> R:
        self._stasis_channel(p["id"])  # digits go towards the caller: no event [06]
        return 204, None

    def _get_var(self, p: P, q: P, b: B) -> R:
        ch = self.channels.get(p["id"])
        if ch is None or ch.gone:
            return 404, {"message": "Provided channel was not found"}
        name = q["variable"]
        if name == "CALLERID(num)":
            return 200, {"value": ch.caller_number}
        if name == "CHANNEL(name)":
            return 200, {"value": ch.name}
        if name.startswith("PJSIP_HEADER(read,") and name.endswith(")"):
            # The INVITE's first header of that name (case-insensitive); none, or not an
            # inbound PJSIP channel: the function fails, which ARI answers with 500 [10].
            wanted = name[len("PJSIP_HEADER(read,"):-1].lower()
            found = [v for k, v in ch.invite_headers if k.lower() == wanted]
            if not found:
                return 500, {"message": "Unable to read provided function"}
            return 200, {"value": found[0]}
        value = ch.variables.get(name)
        if not value:  # empty is the same as unset [10]
            return 404, {"message": "Provided variable was not found"}
        return 200, {"value": value}

    def _transfer_progress(self, p: P, q: P, b: B) -> R:
        """The answer to a phone's REFER; Asterisk reports it back in a ChannelTransfer
        with that state (res_pjsip_refer's ari_notify after each NOTIFY)."""
        ch = self._stasis_channel(p["id"])
        self.transfer_answers.append((ch.id, q["states"]))
        # The same refer_to as the request's (ari_notify sends the REFER's state again).
        refer_to = self.refers.get(ch.id, {"requested_destination": {"destination": ""}})
        self._event("ChannelTransfer", state=q["states"], refer_to=refer_to,
                    referred_by={"source_channel": ch.snapshot()})
        return 204, None

    def _set_var(self, p: P, q: P, b: B) -> R:
        ch = self._stasis_channel(p["id"])
        name = q["variable"]
        value = q.get("value", "")
        if value:
            ch.variables[name] = value
        else:
            ch.variables.pop(name, None)
        self._chan_event("ChannelVarset", ch, variable=name, value=value)
        return 204, None

    def _set_vars(self, p: P, q: P, b: B) -> R:
        if not self.bulk_variables:  # an Asterisk before 20.20 / 22.10
            return 404, {"message": "Resource not found"}
        ch = self._stasis_channel(p["id"])
        for name, value in (b.get("variables") or {}).items():
            text = value.get("value", "") if isinstance(value, dict) else str(value)
            if text:
                ch.variables[name] = text
            else:
                ch.variables.pop(name, None)
        return 204, None

    def _snoop(self, p: P, q: P, b: B) -> R:
        spied = self._channel(p["id"])
        snoop_id = q.get("snoopId") or self._new_id()
        app_args = q.get("appArgs", "")
        ch = SimChannel(
            id=snoop_id,
            name=self._name(f"Snoop/{spied.id}"),
            state="Up",
            kind="snoop",
            subscribed=True,
            in_stasis=True,
            spied=spied.id,
            spy=q.get("spy", "none"),
            whisper=q.get("whisper", "none"),
            args=app_args.split(",") if app_args else [],
            app_name="Stasis",
            app_data=",".join([self.app, app_args]),
        )
        self.channels[ch.id] = ch
        self._chan_event("StasisStart", ch, args=ch.args)  # before the answer [09]
        return 200, ch.snapshot()

