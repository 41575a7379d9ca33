"""ARI channel requests: originate, answer, hang up, play, music on hold, variables,
SIP headers, snoop, transfer progress (channels.json)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from ari.models import Channel, Playback, Variable
from ari.rest import (
    AriError,
    AriNotFound,
    AriRest,
    AriServerError,
    HangupReason,
    SnoopDirection,
    VariablesUnsupported,
    segment,
)
from config.models import readable_header

TransferState = Literal["channel_progress", "channel_answered", "channel_unavailable",
                        "channel_declined"]


class ChannelRequests(AriRest):
    """The requests on channels (channels.json)."""

    async def list_channels(self) -> list[Channel]:
        return await self._get_models(Channel, "channels")

    async def get_channel(self, channel_id: str) -> Channel:
        return await self._get_model(Channel, "channels", segment(channel_id))

    async def originate(
        self,
        endpoint: str,
        *,
        app: str,
        app_args: Sequence[str] = (),
        caller_id: str | None = None,
        timeout: int | None = None,
        channel_id: str | None = None,
        variables: Mapping[str, str] | None = None,
        originator: str | None = None,
    ) -> Channel:
        """`POST /channels` into a Stasis app: the channel is dialled at once.

        The answer is the new channel in state `Down`; the app is subscribed to it from
        creation, so events (Dial, ChannelStateChange, ChannelDestroyed) arrive before and
        without StasisStart, which only comes on answer [02, 03]. `variables` are set
        before dialling and produce no ChannelVarset [10].
        """
        params = {
            "endpoint": endpoint,
            "app": app,
            "appArgs": ",".join(app_args) if app_args else None,
            "callerId": caller_id,
            "timeout": timeout,
            "channelId": channel_id,
            "originator": originator,
        }
        body = {"variables": dict(variables)} if variables else None
        return Channel.model_validate(await self.request("POST", ("channels",), params, body))

    async def create_channel(
        self,
        endpoint: str,
        *,
        app: str,
        app_args: Sequence[str] = (),
        channel_id: str | None = None,
        variables: Mapping[str, str] | None = None,
    ) -> Channel:
        """`POST /channels/create`: the channel enters Stasis at once, undialled [10]."""
        params = {
            "endpoint": endpoint,
            "app": app,
            "appArgs": ",".join(app_args) if app_args else None,
            "channelId": channel_id,
        }
        body = {"variables": dict(variables)} if variables else None
        payload = await self.request("POST", ("channels", "create"), params, body)
        return Channel.model_validate(payload)

    async def dial(
        self, channel_id: str, *, caller: str | None = None, timeout: int | None = None
    ) -> None:
        await self.request(
            "POST", ("channels", segment(channel_id), "dial"),
            {"caller": caller, "timeout": timeout},
        )

    async def answer(self, channel_id: str) -> None:
        # 204 also when the dialplan already answered [02].
        await self.request("POST", ("channels", segment(channel_id), "answer"))

    async def ring(self, channel_id: str) -> None:
        await self.request("POST", ("channels", segment(channel_id), "ring"))

    async def hangup(self, channel_id: str, reason: HangupReason | None = None) -> None:
        """`DELETE /channels/{id}`. The reason sets the cause seen in ChannelDestroyed and
        the SIP Reason header: no_answer -> 19, answered_elsewhere -> 26 ("Call completed
        elsewhere"), normal -> 16 [03, 12]."""
        await self.request("DELETE", ("channels", segment(channel_id)), {"reason": reason})

    async def continue_in_dialplan(
        self,
        channel_id: str,
        *,
        context: str | None = None,
        extension: str | None = None,
        priority: int | None = None,
    ) -> None:
        """Leave Stasis. Without a target: the priority after Stasis(). A target that does
        not exist still answers 204 and the channel is hung up with cause 0 [08]."""
        params = {"context": context, "extension": extension, "priority": priority}
        await self.request("POST", ("channels", segment(channel_id), "continue"), params)

    async def play(
        self,
        channel_id: str,
        media: Sequence[str],
        *,
        playback_id: str | None = None,
        lang: str | None = None,
    ) -> Playback:
        params = {"media": list(media), "playbackId": playback_id, "lang": lang}
        payload = await self.request("POST", ("channels", segment(channel_id), "play"), params)
        return Playback.model_validate(payload)

    async def start_moh(self, channel_id: str, moh_class: str | None = None) -> None:
        # No ARI event follows MOH start or stop [03, 05].
        await self.request(
            "POST", ("channels", segment(channel_id), "moh"), {"mohClass": moh_class}
        )

    async def stop_moh(self, channel_id: str) -> None:
        await self.request("DELETE", ("channels", segment(channel_id), "moh"))

    async def transfer_progress(self, channel_id: str, state: TransferState) -> None:
        """Answer a phone's REFER (ChannelTransfer): `channel_answered` sends it NOTIFY 200
        (the transfer went through), `channel_declined` 603 (the call stays where it is)."""
        await self.request("POST", ("channels", segment(channel_id), "transfer_progress"),
                           {"states": state})

    async def mute(self, channel_id: str, on: bool, direction: str = "in") -> None:
        """Mute (or unmute) the audio from the channel (`in`): the others no longer hear it."""
        await self.request("POST" if on else "DELETE", ("channels", segment(channel_id), "mute"),
                           {"direction": direction})

    async def send_dtmf(self, channel_id: str, dtmf: str) -> None:
        await self.request("POST", ("channels", segment(channel_id), "dtmf"), {"dtmf": dtmf})

    async def set_variable(self, channel_id: str, variable: str, value: str | None) -> None:
        """Set (or, with None/"", empty = unset [10]) a channel variable."""
        await self.request(
            "POST",
            ("channels", segment(channel_id), "variable"),
            {"variable": variable, "value": value},
        )

    async def set_variables(self, channel_id: str, variables: Mapping[str, str]) -> None:
        """Several variables in one request (`POST /channels/{id}/variables`, Asterisk
        20.20 / 22.10 and later). Older versions answer 404 or 405 for the resource itself:
        `VariablesUnsupported`, then use `set_variable` for each."""
        try:
            await self.request(
                "POST", ("channels", segment(channel_id), "variables"), None,
                {"variables": dict(variables)},
            )
        except AriError as exc:
            if exc.status == 405 or (
                exc.status == 404 and "channel" not in exc.message.lower()
            ):
                raise VariablesUnsupported(exc.method, exc.path, exc.status, exc.message) from exc
            raise

    async def get_variable(self, channel_id: str, variable: str) -> str | None:
        """A channel variable, or None when it is not set.

        Both an unset variable and a missing channel answer 404; only the message tells
        them apart ("Provided variable was not found" vs "Provided channel was not
        found" [10]). A missing channel raises AriNotFound.
        """
        try:
            payload = await self.request(
                "GET", ("channels", segment(channel_id), "variable"), {"variable": variable}
            )
        except AriNotFound as exc:
            if "variable" in exc.message.lower():
                return None
            raise
        return Variable.model_validate(payload).value

    async def get_sip_header(self, channel_id: str, name: str) -> str | None:
        """The value of the first `name` header of the INVITE that brought an inbound PJSIP
        channel in, or None when that INVITE had none.

        Read with `PJSIP_HEADER(read,<name>)`. A function that fails (no such header, or
        not an inbound PJSIP channel) is not a 404: ARI answers 500 "Unable to read
        provided function" [10] (res/ari/resource_channels.c). A missing channel raises
        AriNotFound. `name` must be a plain header name (`config.models.readable_header`):
        `,` or `)` would change the function's arguments, a final `*` makes it a prefix.
        """
        if not readable_header(name):
            raise ValueError(f"not a SIP header name PJSIP_HEADER can read: {name!r}")
        try:
            value = await self.get_variable(channel_id, f"PJSIP_HEADER(read,{name})")
        except AriServerError as exc:
            if exc.status == 500 and "unable to read provided function" in exc.message.lower():
                return None
            raise
        return value or None

    async def snoop(
        self,
        channel_id: str,
        *,
        app: str,
        spy: SnoopDirection = "none",
        whisper: SnoopDirection = "none",
        app_args: Sequence[str] = (),
        snoop_id: str | None = None,
    ) -> Channel:
        """A Snoop channel on `channel_id`, in Stasis at once (its StasisStart can arrive
        before this answer [09]). It ends by itself when the spied channel hangs up."""
        params = {
            "spy": spy,
            "whisper": whisper,
            "app": app,
            "appArgs": ",".join(app_args) if app_args else None,
            "snoopId": snoop_id,
        }
        payload = await self.request("POST", ("channels", segment(channel_id), "snoop"), params)
        return Channel.model_validate(payload)
